"""A customer's account as their portal shows it: what is owed per invoice with the late fees the
law gives, unallocated credit, the last year's payments and credit notes, how to pay; and the
documents it offers (each invoice's PDF, the statement as PDF and CSV). Amounts are formatted in
the reader's language; nothing of another customer can be reached from here."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext

from relance.documents import (
    InvoiceLine,
    Language,
    Letter,
    Party,
    PaymentInstructions,
    render_invoice_summary,
    render_letter,
)
from relance.domain import csv_cells, early_payment
from relance.domain.errors import NotFound
from relance.domain.money import Money, Totals
from relance.messaging import formatting
from relance.models import (
    Company,
    CreditNote,
    Customer,
    Dispute,
    Event,
    Invoice,
    Payment,
    PaymentPlan,
    Promise,
)
from relance.services.dialogue import payment_plans, portal_disputes
from relance.services.dunning.letters import stationery, totals_rows
from relance.services.dunning.messages import uk_payer
from relance.services.ledger import statements
from relance.services.organisation import journal

HISTORY_DAYS = 365
TITLES = {"fr": "Relevé de compte", "en": "Statement of account"}
INTRO = {
    "fr": "Voici le relevé de votre compte au {day} : les factures restant à régler, avec les "
    "intérêts de retard et indemnités prévus par la loi le cas échéant.",
    "en": "Here is the statement of your account on {day}: the invoices left to pay, with the "
    "late-payment interest and indemnities the law provides where they apply.",
}


class DocumentNotFound(NotFound, LookupError):
    """No such document for this customer (whether it exists for another is not said)."""


@dataclass
class Account:
    customer: Customer
    on: date
    language: str
    invoices: list[dict[str, Any]] = field(default_factory=list)
    totals: list[dict[str, str]] = field(default_factory=list)  # per currency
    credit: list[str] = field(default_factory=list)
    payments: list[dict[str, str]] = field(default_factory=list)
    credit_notes: list[dict[str, str]] = field(default_factory=list)
    reference: str = ""
    missing_rates: list[str] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)


def bank_details(company: Company, customer: Customer) -> list[tuple[str, str]]:
    """The bank details a customer pays by transfer to, as (label, value): a customer in the UK
    billed in pounds gets the company's sort code and account number when it has them (what a
    UK bank asks for; a UK transfer is in pounds), anyone else the IBAN and BIC; the UK details
    for everyone when there is no IBAN."""
    uk = [
        (gettext("Sort code"), company.sort_code_shown),
        (gettext("Account number"), company.account_number),
    ]
    if uk_payer(company, customer):
        return uk
    if company.iban:
        return [("IBAN", company.iban)] + ([("BIC", company.bic)] if company.bic else [])
    return []


def _amount(value: str | None) -> Decimal | None:
    return Decimal(value) if value else None


def note_visit(customer: Customer, on: date) -> bool:
    """Log the customer's first look at their statement each day ("portal.visited"): an answer
    to a reminder as much as a promise is, counted by Analytics' effectiveness, and a hint on
    the timeline that the customer is paying attention. Once a day keeps the log readable."""
    seen = Event.objects.filter(customer=customer, kind="portal.visited", data__on=on.isoformat())
    if seen.exists():
        return False
    journal.record("portal.visited", customer, source="portal", data={"on": on.isoformat()})
    return True


def account(customer: Customer, on: date, language: str) -> Account:
    """What the statement page shows, computed as `relance statement` computes it; dates and
    amounts written for the customer (`Account.language`: their language as written in their
    country, e.g. "en_US")."""
    language = formatting.for_reader(language, customer.country)
    found = statements.statement(customer, on, strict=False)
    result = Account(customer, on, language, missing_rates=found.get("missing_rates", []))
    known = _invoices(customer)
    marks = _Marks.of(customer)
    owed, overdue, fees, disputed = Totals(), Totals(), Totals(), Totals()
    for row in found["invoices"]:
        currency = row["currency"]
        due = Decimal(row["amount_due"])
        interest, indemnity = _amount(row["late_interest"]), _amount(row["fixed_indemnity"])
        result.invoices.append(
            _invoice_line(row, known[row["id"]], due, (interest, indemnity), marks, result)
        )
        if row["id"] in marks.disputed:  # set aside until answered: not in what to pay
            disputed.add(Money(due, currency))
            continue
        owed.add(Money(due, currency))
        if row["days_late"] > 0:
            overdue.add(Money(due, currency))
        fees.add(Money((interest or Decimal(0)) + (indemnity or Decimal(0)), currency))
    result.totals += _totals(owed, overdue, fees, disputed, language)
    result.credit = [
        formatting.money(Decimal(amount), currency, language)
        for currency, amount in found["credit"].items()
    ]
    _settlements(result)
    first = result.invoices[0]["number"] if result.invoices else ""
    result.reference = " ".join(filter(None, (customer.external_id, first)))
    shown = PaymentPlan.objects.filter(customer=customer).exclude(
        status__in=[PaymentPlan.Status.COMPLETED]
    )[:3]
    result.plans = [plan_view(p, on, language) for p in shown]
    return result


@dataclass
class _Marks:
    """What the customer already did about their open invoices (by external id): disputes
    waiting for an answer, payment plans, promises."""

    disputed: dict[str, Dispute]
    planned: set[str]
    promised: dict[str, tuple[date, Decimal | None, str]]  # pay by, amount (None: all), currency
    zone: ZoneInfo

    @classmethod
    def of(cls, customer: Customer) -> _Marks:
        disputed = {
            d.invoice.external_id: d
            for d in Dispute.objects.filter(customer=customer, resolved_on=None).select_related(
                "invoice", "company"
            )
        }
        zone = ZoneInfo(customer.company.time_zone)
        planned = set(
            PaymentPlan.invoices.through.objects.filter(
                paymentplan__customer=customer, paymentplan__status__in=PaymentPlan.PAUSING
            ).values_list("invoice__external_id", flat=True)
        )
        promised = {
            external_id: (pay_by, amount, currency)
            for external_id, pay_by, amount, currency in Promise.objects.filter(
                customer=customer, status=Promise.Status.OPEN
            ).values_list("invoices__external_id", "pay_by", "amount", "currency")
        }
        return cls(disputed, planned, promised, zone)


def _invoice_line(
    row: dict[str, Any],
    dates: tuple[date, date, bool],
    due: Decimal,
    late: tuple[Decimal | None, Decimal | None],
    marks: _Marks,
    result: Account,
) -> dict[str, Any]:
    """One open invoice of the statement page, with the discount still offered for paying it."""
    customer, on, language = result.customer, result.on, result.language
    money, currency = formatting.money, row["currency"]
    (interest, indemnity), (issued, due_on, has_pdf) = late, dates
    offer = early_payment.open_on(
        early_payment.offer(
            Decimal(row["total"]),
            currency,
            issued,
            customer.company.early_discount_percent,
            customer.company.early_discount_days,
        ),
        on,
    )
    if offer is not None and due != Decimal(row["total"]):
        offer = None  # partly paid: the discount is for paying the whole at once
    return {
        "id": row["id"],
        "number": row["number"],
        "issue_date": formatting.day(issued, language),
        "due_date": formatting.day(due_on, language),
        "days_late": row["days_late"],
        "total": money(Decimal(row["total"]), currency, language),
        "amount_due": money(due, currency, language),
        "late_interest": money(interest, currency, language) if interest else "",
        "fixed_indemnity": money(indemnity, currency, language) if indemnity else "",
        "has_pdf": has_pdf,
        "discount": {
            "percent": formatting.percent(offer.percent, language),
            "until": formatting.day(offer.until, language),
            "to_pay": money(offer.to_pay, currency, language),
        }
        if offer
        else None,
        "disputed": row["id"] in marks.disputed,
        "in_plan": row["id"] in marks.planned,
        **_answer(marks.disputed.get(row["id"]), marks.zone, language),
        **_promised(marks.promised.get(row["id"]), row["currency"], language),
    }


def _promised(
    promise: tuple[date, Decimal | None, str] | None, currency: str, language: str
) -> dict[str, str]:
    """The day the customer promised to pay by and, when they named one, the amount: a
    promise of 150 € on a 300 € invoice must not read as the whole invoice."""
    if promise is None:
        return {"promised_for": "", "promised_amount": ""}
    pay_by, amount, promised_currency = promise
    shown = (
        formatting.money(amount, promised_currency or currency, language)
        if amount is not None
        else ""
    )
    return {"promised_for": formatting.day(pay_by, language), "promised_amount": shown}


def _totals(
    owed: Totals, overdue: Totals, fees: Totals, disputed: Totals, language: str
) -> list[dict[str, Any]]:
    """Per currency: what is to pay, how much of it is overdue, with the late fees, and what is
    disputed, set apart (the customer is not asked to pay it while it is examined)."""
    money = formatting.money
    totals = []
    for currency in sorted(set(owed) | set(disputed)):
        to_pay = owed[currency] if currency in owed else Decimal(0)
        extra = fees[currency] if currency in fees else Decimal(0)
        totals.append(
            {
                "currency": currency,
                "owed": money(to_pay, currency, language),
                "payable": to_pay > 0,
                "overdue": money(overdue[currency], currency, language)
                if currency in overdue
                else "",
                "fees": money(extra, currency, language) if extra else "",
                "with_fees": money(to_pay + extra, currency, language),
                "disputed": money(disputed[currency], currency, language)
                if currency in disputed
                else "",
            }
        )
    return totals


def _settlements(result: Account) -> None:
    """The last year's payments and credit notes, newest first."""
    since = result.on - timedelta(days=HISTORY_DAYS)
    for model, target in ((Payment, result.payments), (CreditNote, result.credit_notes)):
        for row in model.objects.filter(
            customer=result.customer, date__gte=since, date__lte=result.on
        ).order_by("-date", "-pk"):
            target.append(
                {
                    "date": formatting.day(row.date, result.language),
                    "reference": row.external_id,
                    "amount": formatting.money(row.amount, row.currency, result.language),
                }
            )


def plan_view(plan: PaymentPlan, on: date, language: str) -> dict[str, Any]:
    """A payment plan as the customer reads it: its state and each instalment, met or not."""
    state = payment_plans.progress(plan, on)
    return {
        "plan": plan,
        "total": formatting.money(plan.total, plan.currency, language),
        "paid": formatting.money(state.paid, plan.currency, language),
        "invoices": ", ".join(plan.invoices.order_by("due_date").values_list("number", flat=True)),
        "instalments": [
            {
                "number": i.number,
                "due_date": formatting.day(i.due_date, language),
                "amount": formatting.money(i.amount, plan.currency, language),
                "met": state.met.get(i.number, False),
                "late": not state.met.get(i.number, False) and i.due_date < on,
            }
            for i in plan.instalments.order_by("number")
        ],
    }


def _answer(dispute: Dispute | None, zone: ZoneInfo, language: str) -> dict[str, Any]:
    """When the customer will have an answer to their dispute, and the business hours left."""
    if dispute is None or dispute.resolve_by is None:
        return {"answer_by": "", "hours_left": None}
    state = portal_disputes.countdown(dispute)
    return {
        "answer_by": formatting.day(timezone.localtime(dispute.resolve_by, zone).date(), language),
        "hours_left": max(state["resolve_hours_left"], 0),
    }


def _invoices(customer: Customer) -> dict[str, tuple[date, date, bool]]:
    """External id -> (issue date, due date, has an imported PDF) of the customer's invoices."""
    return {
        ext: (issued, due, bool(pdf))
        for ext, issued, due, pdf in Invoice.objects.filter(customer=customer).values_list(
            "external_id", "issue_date", "due_date", "pdf"
        )
    }


def _language(value: str) -> Language:
    return "fr" if value == "fr" else "en"


def invoice_pdf(customer: Customer, external_id: str, on: date, language: str) -> tuple[str, bytes]:
    """The invoice's PDF as the ERP sent it, or a one-page summary that says it is not the
    invoice; only this customer's invoices."""
    invoice = Invoice.objects.filter(customer=customer, external_id=external_id).first()
    if invoice is None:
        raise DocumentNotFound(external_id)
    name = f"{invoice.number or invoice.external_id}.pdf".replace("/", "-")
    if invoice.pdf:
        with invoice.pdf.open("rb") as handle:
            return name, handle.read()
    row = next(
        (
            r
            for r in statements.statement(customer, on, strict=False)["invoices"]
            if r["id"] == external_id
        ),
        None,
    )
    lang = _language(language)
    dates = formatting.for_reader(lang, customer.country)  # en_US, en_GB: their own order
    money = formatting.money
    due = Decimal(row["amount_due"]) if row else Decimal(0)
    line = InvoiceLine(
        number=invoice.number,
        issue_date=formatting.day(invoice.issue_date, dates),
        due_date=formatting.day(invoice.due_date, dates),
        total=money(invoice.total, invoice.currency, lang),
        amount_due=money(due, invoice.currency, lang),
        days_late=row["days_late"] if row else 0,
        late_interest=money(Decimal(row["late_interest"]), invoice.currency, lang)
        if row and row["late_interest"]
        else "",
        fixed_indemnity=money(Decimal(row["fixed_indemnity"]), invoice.currency, lang)
        if row and row["fixed_indemnity"]
        else "",
    )
    pdf = render_invoice_summary(
        stationery(customer.company, lang), Party(customer.name), line, lang
    )
    return name.replace(".pdf", "-summary.pdf"), pdf


def statement_pdf(customer: Customer, on: date, language: str) -> bytes:
    """The statement on the company's stationery, as a letter a customer can file or forward."""
    company = customer.company
    lang = _language(language)
    dates = formatting.for_reader(lang, customer.country)  # en_US, en_GB: their own order
    found = statements.statement(customer, on, strict=False)
    day = formatting.day(on, dates)
    known = _invoices(customer)
    lines: list[InvoiceLine] = []
    items: list[Money] = []
    fees: dict[str, Decimal] = {}
    for row in found["invoices"]:
        currency = row["currency"]
        issued, due_on, _pdf = known[row["id"]]
        interest = _amount(row["late_interest"]) or Decimal(0)
        indemnity = _amount(row["fixed_indemnity"]) or Decimal(0)
        fees[currency] = fees.get(currency, Decimal(0)) + interest + indemnity
        items.append(Money(Decimal(row["amount_due"]), currency))
        lines.append(
            InvoiceLine(
                number=row["number"],
                issue_date=formatting.day(issued, dates),
                due_date=formatting.day(due_on, dates),
                total=formatting.money(Decimal(row["total"]), currency, lang),
                amount_due=formatting.money(Decimal(row["amount_due"]), currency, lang),
                days_late=row["days_late"],
                late_interest=formatting.money(interest, currency, lang) if interest else "",
                fixed_indemnity=formatting.money(indemnity, currency, lang) if indemnity else "",
            )
        )
    owed = [_Owed(m.amount, m.currency) for m in items]
    first = found["invoices"][0]["number"] if found["invoices"] else ""
    letter = Letter(
        stationery=stationery(company, lang),
        recipient=Party(
            customer.name,
            formatting.postal_lines(
                customer.address_line1, customer.address_line2, customer.postal_code, customer.city
            ),
            country=None if customer.country == company.country else customer.country,
        ),
        place_and_date=day,
        reference=("Client " if lang == "fr" else "Customer ") + customer.external_id,
        subject=f"{TITLES[lang]} — {day}",
        body=INTRO[lang].format(day=day),
        invoices=tuple(lines),
        totals=totals_rows(owed, fees, lang),
        payment=PaymentInstructions(
            company.iban, company.bic, " ".join(filter(None, (customer.external_id, first)))
        )
        if company.iban
        else None,
        language=lang,
    )
    return render_letter(letter)


@dataclass(frozen=True)
class _Owed:
    amount_due: Decimal
    currency: str


def _number(amount: str | None) -> Decimal | str:
    """An amount of the contract's form back as a number, so the CSV writes it as one."""
    return Decimal(amount) if amount else ""


def statement_csv(customer: Customer, on: date) -> str:
    """The statement as CSV, amounts in the contract's form (DESIGN §4), for a spreadsheet."""
    found = statements.statement(customer, on, strict=False)
    out = io.StringIO()
    columns = [
        "invoice_id",
        "number",
        "currency",
        "total",
        "amount_due",
        "days_late",
        "late_interest",
        "fixed_indemnity",
    ]
    writer = csv_cells.writer(out)  # text that could be a formula is read as text
    writer.writerow(columns)
    for row in found["invoices"]:
        writer.writerow(
            [
                row["id"],
                row["number"],
                row["currency"],
                _number(row["total"]),
                _number(row["amount_due"]),
                row["days_late"],
                _number(row["late_interest"]),
                _number(row["fixed_indemnity"]),
            ]
        )
    return out.getvalue()
