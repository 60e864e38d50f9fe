"""A customer's statement on a date: what each invoice still owes, per currency (DESIGN §4)."""

from __future__ import annotations

from datetime import date
from typing import Any

from relance.domain.errors import Refusal
from relance.domain.law import MissingRate
from relance.domain.money import Money, Totals, format_amount
from relance.models import Customer
from relance.services.ledger import late_fees
from relance.services.ledger.allocation import customer_position


class StatementError(Refusal):
    """The statement cannot be computed as asked (e.g. a reference rate is missing)."""


def statement(customer: Customer, on: date, *, strict: bool = True) -> dict[str, Any]:
    """Invoices issued by `on` with something left to pay, their lateness, the late-payment
    interest and fixed indemnity the company's law pack gives them (DESIGN §6), and totals.
    Unallocated credit is listed apart: it is the customer's, not a reduction of one invoice.

    A reference rate missing for a period raises StatementError; with `strict=False` (a page
    that must still show what is owed) those figures are None and `missing_rates` says why.
    """
    terms = late_fees.terms_of(customer, customer.company)
    rates = late_fees.rate_table()
    position, lines = customer_position(customer, on)
    rows = []
    missing: list[str] = []
    totals = Totals()
    for line in sorted(lines, key=lambda i: i.sort_key()):
        due = position.amount_due.get(line.id)
        if due is None or due <= 0:
            continue
        totals.add(Money(due, line.currency))
        interest = indemnity = None
        try:
            fees = late_fees.LateFees.of(due, line.currency, line.due_date, on, terms, rates)
            interest = format_amount(fees.interest, line.currency)
            indemnity = format_amount(fees.indemnity, line.currency)
        except MissingRate as exc:
            if strict:
                raise StatementError(f"{exc}: add it with `relance rate add`") from None
            missing.append(str(exc))
        rows.append(
            {
                "id": line.external_id,
                "number": line.number,
                "currency": line.currency,
                "total": format_amount(line.total, line.currency),
                "amount_due": format_amount(due, line.currency),
                "days_late": max((on - line.due_date).days, 0),
                "late_interest": interest,
                "fixed_indemnity": indemnity,
            }
        )
    found = {
        "customer": customer.external_id,
        "date": on.isoformat(),
        "invoices": rows,
        "totals": totals.as_json(),
        "credit": position.credit.as_json(),
    }
    if not strict:
        found["missing_rates"] = sorted(set(missing))
    return found
