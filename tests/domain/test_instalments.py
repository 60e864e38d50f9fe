"""Instalment schedules: exact sums, monthly dates that survive short months."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from relance.domain.instalments import add_months, split


def test_a_schedule_adds_up_and_the_last_takes_the_remainder():
    assert split(Decimal("1000.00"), "EUR", 3, date(2027, 1, 31)) == [
        (date(2027, 1, 31), Decimal("333.33")),
        (date(2027, 2, 28), Decimal("333.33")),
        (date(2027, 3, 31), Decimal("333.34")),
    ]
    assert split(Decimal("1000"), "JPY", 3, date(2027, 1, 15))[2][1] == Decimal("334")


def test_add_months_across_years_and_leap_days():
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 5), 1) == date(2027, 1, 5)


@pytest.mark.parametrize(
    ("total", "count"), [(Decimal(0), 2), (Decimal(10), 0), (Decimal("0.02"), 3)]
)
def test_nonsense_is_refused(total, count):
    with pytest.raises(ValueError, match="plan"):
        split(total, "EUR", count, date(2027, 1, 1))


@given(
    cents=st.integers(min_value=1, max_value=10**10),
    count=st.integers(min_value=1, max_value=24),
    first=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
)
def test_any_schedule_sums_exactly_with_near_equal_monthly_amounts(cents, count, first):
    assume(cents >= count)
    total = Decimal(cents).scaleb(-2)
    schedule = split(total, "EUR", count, first)
    assert sum(amount for _, amount in schedule) == total
    assert len(schedule) == count
    days = [d for d, _ in schedule]
    assert days == sorted(days)
    assert len(set(days)) == count
    assert all(amount.as_tuple().exponent >= -2 for _, amount in schedule)
    shares = [amount for _, amount in schedule[:-1]]
    assert len(set(shares)) <= 1
