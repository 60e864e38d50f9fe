"""A ledger cell's value or the sentence a finance user reads about it, without a database: the
importer puts these sentences, unchanged, after the row number and the column name."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relance.domain import ledger_fields as cell
from relance.domain.errors import RelanceError


def _refusal(parse: cell.Parser, value: str) -> str:
    with pytest.raises(cell.FieldError) as raised:
        parse(value)
    return str(raised.value)


def test_dates_are_iso_calendar_days() -> None:
    assert cell.iso_date("2026-02-28") == date(2026, 2, 28)
    assert _refusal(cell.iso_date, "28/02/2026") == (
        "'28/02/2026' is not a date in the form YYYY-MM-DD"
    )
    assert _refusal(cell.iso_date, "2026-02-30") == "'2026-02-30' is not a valid calendar date"


def test_a_month_is_its_first_day() -> None:
    assert cell.month("2027-09") == date(2027, 9, 1)
    for value in ("2027-13", "2027-9", "09/2027"):
        assert _refusal(cell.month, value) == f"'{value}' is not a month in the form YYYY-MM"


def test_amounts_follow_the_currency_and_their_sign_is_checked() -> None:
    assert cell.amount("1234.50", "EUR", positive=True) == Decimal("1234.50")
    assert cell.amount("0", "EUR", positive=False) == Decimal("0")
    assert cell.amount("1200", "JPY", positive=True) == Decimal("1200")
    assert _refusal(lambda v: cell.amount(v, "EUR", positive=True), "0") == (
        "must be greater than zero, got 0"
    )
    assert _refusal(lambda v: cell.amount(v, "EUR", positive=False), "-5") == (
        "must not be negative, got -5"
    )
    # the money module says what is wrong with the amount itself
    assert _refusal(lambda v: cell.amount(v, "EUR", positive=False), "12,5€")
    assert _refusal(lambda v: cell.amount(v, "JPY", positive=False), "10.5")


def test_currencies_are_normalised_iso_codes() -> None:
    assert cell.currency("eur") == "EUR"
    assert _refusal(cell.currency, "EURO")


def test_rates_are_percentages_with_four_decimals_at_most() -> None:
    assert cell.percent("12.5") == Decimal("12.5")
    assert _refusal(cell.percent, "twelve") == "'twelve' is not a rate in percent such as 12.5"
    for value in ("101", "-1", "1.00001", "Infinity"):
        assert _refusal(cell.percent, value) == (
            f"'{value}' is not a rate in percent between 0 and 100 (4 decimals)"
        )


def test_choices_and_booleans_ignore_case() -> None:
    assert cell.choice("HIGH", ("low", "high")) == "high"
    assert _refusal(lambda v: cell.choice(v, ("low", "high")), "Medium") == (
        "'Medium' is not one of low, high"
    )
    assert [cell.boolean(v) for v in ("Yes", "TRUE", "1", "no", "False", "0")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert _refusal(cell.boolean, "maybe") == "'maybe' is not true or false"


def test_countries_are_two_letters() -> None:
    assert cell.country("fr") == "FR"
    for value in ("FRA", "F1", ""):
        assert _refusal(cell.country, value) == (
            f"'{value}' is not a two-letter ISO country code such as FR"
        )


def test_texts_have_a_length_limit() -> None:
    assert cell.at_most(5)("12345") == "12345"
    assert _refusal(cell.at_most(5), "123456") == "is 6 characters long; at most 5 fit"


def test_required_and_optional_cells() -> None:
    assert _refusal(cell.required(cell.iso_date), "") == "is required"
    assert cell.required(cell.country)("gb") == "GB"
    assert cell.optional(cell.boolean, True)("") is True
    assert cell.optional(cell.month)("") is None
    assert cell.optional(cell.boolean, True)("no") is False


def test_a_column_error_names_its_column_and_is_a_field_error() -> None:
    error = cell.ColumnError("due_date", "2026-01-01 is before the issue date 2026-02-01")
    assert error.column == "due_date"
    assert isinstance(error, cell.FieldError)
    assert isinstance(error, RelanceError)
    assert isinstance(error, ValueError)
