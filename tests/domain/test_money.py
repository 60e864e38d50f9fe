from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.domain.money import (
    CurrencyMismatch,
    InvalidAmount,
    InvalidCurrency,
    Money,
    Totals,
    format_amount,
    normalize_currency,
    parse_amount,
    quantize,
)


def test_currency_codes():
    assert normalize_currency(" eur ") == "EUR"
    for bad in ("EURO", "XYZ", "", "€"):
        with pytest.raises(InvalidCurrency):
            normalize_currency(bad)


def test_amounts_respect_the_minor_unit():
    assert parse_amount("10.5", "EUR") == Decimal("10.5")
    assert parse_amount("1000", "JPY") == Decimal("1000")
    assert parse_amount("1.234", "KWD") == Decimal("1.234")
    for text, cur in (
        ("10.001", "EUR"),
        ("1.5", "JPY"),
        ("1,5", "EUR"),
        ("NaN", "EUR"),
        ("", "EUR"),
    ):
        with pytest.raises(InvalidAmount):
            parse_amount(text, cur)


def test_presentation_rounds_half_even_with_the_currency_decimals():
    assert format_amount(Decimal("0.125"), "EUR") == "0.12"
    assert format_amount(Decimal("0.135"), "EUR") == "0.14"
    assert format_amount(Decimal("5"), "EUR") == "5.00"
    assert format_amount(Decimal("1234.5"), "JPY") == "1234"
    assert quantize(Decimal("2.0005"), "KWD") == Decimal("2.000")


def test_money_refuses_to_mix_currencies():
    with pytest.raises(CurrencyMismatch):
        Money(Decimal(1), "EUR") + Money(Decimal(1), "GBP")
    with pytest.raises(CurrencyMismatch):
        _ = Money(Decimal(1), "EUR") < Money(Decimal(1), "GBP")
    assert Money(Decimal("1.10"), "EUR") + Money(Decimal("2"), "EUR") == Money(
        Decimal("3.10"), "EUR"
    )


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["EUR", "GBP", "USD"]),
            st.decimals(min_value=-(10**6), max_value=10**6, places=2),
        )
    )
)
def test_totals_keep_one_sum_per_currency(items):
    totals = Totals(Money(amount, cur) for cur, amount in items)
    for cur in {c for c, _ in items}:
        assert totals[cur] == sum((a for c, a in items if c == cur), Decimal(0))
    assert set(totals) == {c for c, _ in items}
    assert all(v.count(".") == 1 for v in totals.as_json().values())
