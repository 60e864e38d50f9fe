"""A customer's statement on a date: what each invoice still owes, per currency (DESIGN §4)."""

from __future__ import annotations

from datetime import date
from typing import Any

from relance.domain.money import ZERO, Money, Totals, format_amount
from relance.models import Company
from relance.services import lookup
from relance.services.allocation import customer_position


def statement(customer_id: str, on: date, company: Company | None = None) -> dict[str, Any]:
    """Invoices issued by `on` with something left to pay, their lateness, and totals.

    Late-payment interest and the fixed indemnity come with the law packs; until then they are
    zero. Unallocated credit is listed apart: it is the customer's, not a reduction of one invoice.
    """
    customer = lookup.customer(customer_id, company)
    position, lines = customer_position(customer, on)
    rows = []
    totals = Totals()
    for line in sorted(lines, key=lambda i: i.sort_key()):
        due = position.amount_due.get(line.id)
        if due is None or due <= 0:
            continue
        totals.add(Money(due, line.currency))
        rows.append(
            {
                "id": line.external_id,
                "number": line.number,
                "currency": line.currency,
                "total": format_amount(line.total, line.currency),
                "amount_due": format_amount(due, line.currency),
                "days_late": max((on - line.due_date).days, 0),
                "late_interest": format_amount(ZERO, line.currency),
                "fixed_indemnity": format_amount(ZERO, line.currency),
            }
        )
    return {
        "customer": customer.external_id,
        "date": on.isoformat(),
        "invoices": rows,
        "totals": totals.as_json(),
        "credit": position.credit.as_json(),
    }
