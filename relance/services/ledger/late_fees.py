"""Late-payment interest and fixed indemnities of a company's customers (DESIGN §6), from the
law pack of the company, the customer's contract terms and the rate table in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from relance.domain import law
from relance.domain.errors import Refusal
from relance.models import Company, Customer, ReferenceRate
from relance.services.ledger.snapshots import Debtor


def rate_table() -> law.RateTable:
    return law.RateTable(
        law.ReferenceRate(source, since, percent)
        for source, since, percent in ReferenceRate.objects.values_list(
            "source", "since", "percent"
        )
    )


def pack_of(company: Company) -> str:
    return company.law_pack or law.default_pack(company.country)


def terms_of(customer: Customer | Debtor, company: Company) -> law.Terms:
    """The company's pack, unless the customer's contract rate or waiver says otherwise."""
    return law.Terms(
        pack_of(company),
        contract_rate=customer.late_interest_rate,
        waived=customer.late_fees_waived,
    )


@dataclass(frozen=True)
class LateFees:
    """What one late invoice owes on top of its amount due (exact; round when shown)."""

    interest: Decimal
    indemnity: Decimal

    @classmethod
    def of(
        cls,
        amount_due: Decimal,
        currency: str,
        due_date: date,
        on: date,
        terms: law.Terms,
        rates: law.RateTable,
    ) -> LateFees:
        if on <= due_date or amount_due <= 0:
            return cls(Decimal(0), Decimal(0))
        return cls(
            law.late_interest(amount_due, due_date, on, terms, rates),
            law.fixed_indemnity(amount_due, currency, terms),
        )


def add_rate(source: str, since: date, percent: Decimal) -> tuple[ReferenceRate, bool]:
    """Record a newly published rate (or correct one); returns the row and whether it is new."""
    if source not in law.SOURCES:
        raise Refusal(f"unknown rate source '{source}': one of {', '.join(law.SOURCES)}")
    if not Decimal(-10) <= percent <= Decimal(100):
        raise Refusal(f"{percent} is not a plausible rate in percent")
    return ReferenceRate.objects.update_or_create(
        source=source, since=since, defaults={"percent": percent}
    )
