"""Splitting an amount into instalments: monthly dates from a first one, equal amounts in the
currency's minor unit, the last taking the remainder, so the schedule always adds up exactly."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_DOWN, Decimal

from relance.domain.money import minor_units


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day (31 January + 1 = 28/29 February)."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split(total: Decimal, currency: str, count: int, first: date) -> list[tuple[date, Decimal]]:
    """`count` monthly instalments from `first` whose amounts add up to `total` exactly."""
    if count < 1:
        raise ValueError("a plan has at least one instalment")
    if total <= 0:
        raise ValueError("a plan is for a positive amount")
    unit = Decimal(1).scaleb(-minor_units(currency))
    share = (total / count).quantize(unit, rounding=ROUND_DOWN)
    if share <= 0:
        raise ValueError("too many instalments for so small a plan")
    amounts = [share] * (count - 1) + [total - share * (count - 1)]
    return [(add_months(first, n), amount) for n, amount in enumerate(amounts)]
