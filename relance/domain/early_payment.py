"""Early-payment discounts: "2 % if paid within 10 days of issue". What a customer may deduct from
an invoice, and until when; rounded half-even to the currency's minor unit, like any amount
offered to be paid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from relance.domain.money import quantize


@dataclass(frozen=True, slots=True)
class Offer:
    percent: Decimal
    until: date  # the last day a payment takes the discount
    amount: Decimal  # what may be deducted
    to_pay: Decimal  # the invoice's total less the discount


def offer(
    total: Decimal,
    currency: str,
    issued: date,
    percent: Decimal | None,
    days: int | None,
) -> Offer | None:
    """The discount the terms give this invoice, or None when they give none."""
    if not percent or not days or percent <= 0 or total <= 0:
        return None
    amount = quantize(total * percent / 100, currency)
    return Offer(percent, issued + timedelta(days=days), amount, total - amount)


def open_on(found: Offer | None, today: date) -> Offer | None:
    """The offer if it can still be taken on `today`."""
    return found if found is not None and today <= found.until else None
