"""The Actions inbox's priority: its parts add up, and more late, more owed, riskier or a broken
promise never ranks lower."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from relance.domain.priority import Priority, amount_points, priority

days = st.integers(min_value=-100, max_value=5000)
amounts = st.decimals(min_value=0, max_value=10**12, places=2)
risks = st.sampled_from(["", "low", "medium", "high", "HIGH "])


def test_a_hand_computed_example():
    rank = priority(12, {"EUR": Decimal("1250.00"), "USD": Decimal("80")}, "medium", True)
    assert rank == Priority(days_late=12, amount=10, risk=15, broken_promise=40)
    assert rank.score == 77
    assert rank.parts() == {"days_late": 12, "amount": 10, "risk": 15, "broken_promise": 40}
    assert priority(-5, {}, "low", False).parts() == {}


def test_amounts_count_by_order_of_magnitude_up_to_a_cap():
    assert [amount_points(Decimal(a)) for a in ("100", "999.99", "1000", "25000", "1e9")] == [
        0,
        0,
        10,
        20,
        50,
    ]


@given(days, days, amounts, amounts, risks, st.booleans())
def test_more_of_anything_never_ranks_lower(d1, d2, a1, a2, risk, broke):
    low, high = sorted((d1, d2))
    small, large = sorted((a1, a2))
    base = priority(low, {"EUR": small}, risk, broke)
    assert priority(high, {"EUR": small}, risk, broke).score >= base.score
    assert priority(low, {"EUR": large}, risk, broke).score >= base.score
    assert priority(low, {"EUR": small}, risk, True).score >= base.score
    assert base.score == sum(base.parts().values())
    assert 0 <= base.days_late <= 365
