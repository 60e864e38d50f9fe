"""Letters on the company's stationery: the dunning letter a message becomes (laid out here, when
it is delivered, and filed in a print run by the outbox), and the stationery and totals the
portal's statements share with it."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from relance.documents import (
    InvoiceLine,
    Language,
    Letter,
    Party,
    PaymentInstructions,
    Stationery,
)
from relance.messaging import formatting
from relance.messaging.text import reflow
from relance.models import Company, Customer
from relance.services.dunning.messages import Composed
from relance.services.organisation import hours
from relance.services.organisation.companies import legal_identity

#: Countries whose letters are printed on US Letter paper; A4 everywhere else.
LETTER_PAPER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE"})

_ATTENTION = {"fr": "À l'attention de", "en": "For the attention of"}

_TOTALS = {
    "fr": ("Total factures {}", "Intérêts et indemnités {}", "Total dû {}"),
    "en": ("Invoices {}", "Interest and indemnities {}", "Total due {}"),
}


def stationery(company: Company, language: str = "en") -> Stationery:
    """The company's letterhead, shared by letters, statements and invoice summaries; its legal
    mentions in `language`, the reader's."""
    logo = None
    if company.logo:
        with company.logo.open("rb") as handle:
            logo = handle.read()
    return Stationery(
        company_name=company.name,
        address_lines=formatting.postal_lines(
            company.address_line1, company.address_line2, company.postal_code, company.city
        ),
        registration_number=company.registration_number,
        vat_number=company.vat_number,
        email=company.email,
        phone=company.phone,
        iban=company.iban,
        bic=company.bic,
        logo=logo,
        accent_colour=company.brand_colour or "#1F3A5F",
        paper="Letter" if company.country in LETTER_PAPER_COUNTRIES else "A4",
        legal_identity=legal_identity(company, language),
    )


def totals_rows(items: Any, fees: dict[str, Decimal], language: str) -> tuple[tuple[str, str], ...]:
    """Per currency: the invoices' amount due, the late fees on them, the sum of both."""
    due: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        due[item.currency] += item.amount_due
    invoices_label, fees_label, total_label = _TOTALS.get(language, _TOTALS["en"])
    rows: list[tuple[str, str]] = []
    for currency in sorted(due):
        money = formatting.money
        extra = fees.get(currency, Decimal(0))
        if extra:
            rows.append((invoices_label.format(currency), money(due[currency], currency, language)))
            rows.append((fees_label.format(currency), money(extra, currency, language)))
        total = due[currency] + extra
        rows.append((total_label.format(currency), money(total, currency, language)))
    return tuple(rows)


def _payment(company: Company, values: dict[str, Any]) -> PaymentInstructions | None:
    """The letter's payment box: the sort code and account number for a UK payer (the merge
    fields say so), else the IBAN and BIC; none without bank details."""
    payment = values.get("payment")
    if not payment:
        return None
    if payment.get("sort_code"):
        return PaymentInstructions(
            company.iban,
            company.bic,
            payment["reference"],
            sort_code=payment["sort_code"],
            account_number=payment["account_number"],
        )
    if company.iban:
        return PaymentInstructions(company.iban, company.bic, payment["reference"])
    return None


def build_letter(customer: Customer, text: Composed) -> Letter:
    """The composed message as a letter on the company's stationery: the recipient's address
    block, the invoices it chases with their totals, and how to pay."""
    company = customer.company
    values: dict[str, Any] = text.values
    items = text.items
    fees = text.fees
    language: Language = "fr" if customer.language == "fr" else "en"
    lines = tuple(
        InvoiceLine(
            number=i["number"],
            issue_date=i["issue_date"],
            due_date=i["due_date"],
            total=i["total"],
            amount_due=i["amount_due"],
            days_late=i["days_late"],
            late_interest=i["late_interest"],
            fixed_indemnity=i["fixed_indemnity"],
        )
        for i in values.get("invoices", [])
    )
    attention = values.get("contact", {}).get("name", "")
    address: tuple[str, ...] = (f"{_ATTENTION[language]} {attention}",) if attention else ()
    address += formatting.postal_lines(
        customer.address_line1, customer.address_line2, customer.postal_code, customer.city
    )
    place = company.city or ""
    today = values.get("today") or formatting.day(hours.company_today(company), language)
    connector = ", le " if language == "fr" else ", "
    reference = values.get("reference", {}).get("number", "")
    label = "Client" if language == "fr" else "Customer"
    return Letter(
        stationery=stationery(company, language),
        recipient=Party(
            customer.name,
            address,
            country=None if customer.country == company.country else customer.country,
        ),
        place_and_date=f"{place}{connector}{today}" if place else today,
        reference=f"{label} {customer.external_id}" + (f" — {reference}" if reference else ""),
        subject=text.subject,
        body=reflow(text.body),
        invoices=lines,
        totals=totals_rows(items, fees, language),
        payment=_payment(company, values),
        language=language,
        statement_appendix=company.letter_statement,
    )
