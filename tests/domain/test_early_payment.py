"""Early-payment discounts: the amount, the last day, and when there is none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from relance.domain.early_payment import Offer, offer, open_on


def test_two_percent_within_ten_days():
    found = offer(Decimal("1234.56"), "EUR", date(2026, 12, 1), Decimal(2), 10)
    assert found == Offer(Decimal(2), date(2026, 12, 11), Decimal("24.69"), Decimal("1209.87"))
    assert open_on(found, date(2026, 12, 11)) == found
    assert open_on(found, date(2026, 12, 12)) is None


def test_no_terms_no_discount():
    assert offer(Decimal(100), "EUR", date(2026, 12, 1), None, 10) is None
    assert offer(Decimal(100), "EUR", date(2026, 12, 1), Decimal(2), None) is None
    assert offer(Decimal(0), "EUR", date(2026, 12, 1), Decimal(2), 10) is None


@given(
    cents=st.integers(min_value=1, max_value=10**10),
    percent=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(50), places=2),
)
def test_discount_and_rest_add_up_to_the_total(cents, percent):
    total = Decimal(cents).scaleb(-2)
    found = offer(total, "EUR", date(2026, 1, 1), percent, 10)
    assert found is not None
    assert found.amount + found.to_pay == total
    assert found.amount.as_tuple().exponent >= -2
    assert 0 <= found.amount <= total
