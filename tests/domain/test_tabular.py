"""Regional numbers and dates, encodings and delimiters: domain/tabular, no database."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.domain.tabular import (
    Canonical,
    DateFormat,
    FormatError,
    NumberFormat,
    canonical,
    detect_delimiter,
    detect_encoding,
    header_key,
    ranges,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56", "1234.56"),
        ("1\u202f234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1'234.56", "1234.56"),
        ("1234,5", "1234.5"),
        ("1234.50", "1234.50"),
        ("(12.00)", "-12.00"),
        ("12.00-", "-12.00"),
        ("€1,234.56", "1234.56"),
        ("1 234 567,00 €", "1234567.00"),
        ("10", "10"),
        ("\u22121 234,56", "-1234.56"),
    ],
)
def test_numbers_read_whatever_the_region(text, expected):
    numbers = NumberFormat()
    numbers.observe(2, text)
    numbers.decide()
    assert numbers.parse(text) == expected


def test_a_stated_decimal_comma_reads_dots_as_thousands():
    numbers = NumberFormat(decimal=",", stated=True)
    assert numbers.parse("1.234") == "1234"
    assert numbers.parse("1.234,5") == "1234.5"
    with pytest.raises(FormatError, match="decimal mark but the file uses ','"):
        numbers.parse("1,234.50")


def test_numbers_decided_on_the_sample_then_a_contradiction_names_itself():
    numbers = NumberFormat()
    for row, text in enumerate(["1 234,56", "12,00", "1,234"], start=2):
        numbers.observe(row, text, "total")
    numbers.decide()
    assert numbers.decimal == ","
    assert numbers.parse("1,234") == "1.234"
    with pytest.raises(FormatError, match=r"'1,234\.56' has '\.' as decimal mark"):
        numbers.parse("1,234.56")


def test_both_decimal_marks_in_the_sample_is_an_error_naming_the_rows():
    numbers = NumberFormat()
    numbers.observe(2, "12.50", "total")
    numbers.observe(7, "3,75", "total")
    with pytest.raises(FormatError, match="row 2 has a decimal point, row 7 a decimal comma") as e:
        numbers.decide()
    assert (e.value.row, e.value.field) == (7, "total")


def test_ambiguous_thousands_alone_keep_the_decimal_point():
    numbers = NumberFormat()
    numbers.observe(2, "1,234")
    numbers.decide()
    assert numbers.parse("1,234") == "1234"


@pytest.mark.parametrize("text", ["12abc", "1,23,4", "1.2.3,4.5", "--1", "12,"])
def test_not_numbers(text):
    with pytest.raises(FormatError, match=r"not a number|decimal mark"):
        NumberFormat(decimal=".", stated=True).parse(text)


def test_canonical_spreadsheet_cells_are_not_reread():
    numbers = NumberFormat(decimal=",", stated=True)
    assert numbers.parse(canonical(1234.5)) == "1234.5"
    assert canonical(0.1 + 0.2) == "0.3"
    assert canonical(1e20) == "100000000000000000000"
    assert canonical(datetime(2026, 1, 31)) == "2026-01-31"
    assert canonical(date(2026, 1, 31)) == "2026-01-31"
    assert canonical(True) == "true"
    assert canonical(None) == ""
    assert isinstance(canonical(3), Canonical)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31", "2026-01-31"),
        ("2026/01/31", "2026-01-31"),
        ("31/01/2026", "2026-01-31"),
        ("31.01.2026", "2026-01-31"),
        ("31-01-2026", "2026-01-31"),
        ("46053", "2026-01-31"),
        ("2026-01-31 00:00:00", "2026-01-31"),
        ("2026-01-31T09:30:00Z", "2026-01-31"),
        ("2026-01-31T09:30:00+01:00", "2026-01-31"),
    ],
)
def test_dates_in_every_usual_form(text, expected):
    dates = DateFormat()
    dates.observe(2, text)
    dates.decide()
    assert dates.parse(text) == expected


def test_day_first_decided_by_one_row_reads_the_ambiguous_ones():
    dates = DateFormat()
    for row, text in enumerate(["01/02/2026", "03/04/2026", "31/01/2026"], start=2):
        dates.observe(row, text, "issue_date")
    dates.decide()
    assert dates.parse("01/02/2026") == "2026-02-01"
    with pytest.raises(FormatError, match="does not fit the file's date order"):
        dates.parse("01/31/2026")


def test_month_first_files():
    dates = DateFormat()
    dates.observe(2, "01/31/2026")
    dates.decide()
    assert dates.parse("02/03/2026") == "2026-02-03"


def test_ambiguous_dates_name_the_rows_and_the_fix():
    dates = DateFormat()
    for row in range(2, 41):
        dates.observe(row, "01/02/2026", "issue_date")
    with pytest.raises(FormatError) as e:
        dates.decide()
    assert str(e.value) == (
        "dates could be day/month or month/day: rows 2-40 fit both; set the mapping's "
        '`dates` (e.g. "%d/%m/%Y")'
    )
    assert (e.value.row, e.value.field) == (2, "issue_date")


def test_disagreeing_dates_name_both_rows():
    dates = DateFormat()
    dates.observe(2, "31/01/2026", "issue_date")
    dates.observe(9, "01/31/2026", "due_date")
    with pytest.raises(FormatError, match=r"row 2 \(31/01/2026\) is day/month, row 9"):
        dates.decide()


def test_stated_format_wins():
    dates = DateFormat(stated="%d/%m/%y")
    assert dates.parse("01/02/26") == "2026-02-01"
    assert dates.parse("01/02/26 00:00:00") == "2026-02-01"
    with pytest.raises(FormatError, match="mapping's format"):
        dates.parse("2026/02/xx")


def test_bad_calendar_dates():
    with pytest.raises(FormatError, match="not a valid calendar date"):
        DateFormat(day_first=True).parse("31/02/2026")
    with pytest.raises(FormatError, match="is not a date"):
        DateFormat().parse("soon")


def test_encodings():
    assert detect_encoding("é".encode("utf-8-sig")) == "utf-8-sig"
    assert detect_encoding("a;é".encode("utf-16")) == "utf-16"
    assert detect_encoding("external_id,name".encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding("external_id,name".encode("utf-16-be")) == "utf-16-be"
    assert detect_encoding("Café,1".encode()) == "utf-8"
    assert detect_encoding("Café,1".encode("cp1252")) == "cp1252"
    assert detect_encoding("Café\x81".encode("latin-1")) == "latin-1"
    # a character cut at the end of a sample is not a reason to doubt UTF-8
    assert detect_encoding("Caf\u00e9".encode()[:-1], whole=False) == "utf-8"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["a,b,c", "1,2,3"], ","),
        (["a;b;c", "1,5;2;3"], ";"),
        (["a\tb", "1\t2"], "\t"),
        (["a|b|c", "1|2|3"], "|"),
        (['"x, y";b;c', "1;2;3"], ";"),
        (["name,amount;x", "A,1;2", "B,2;3"], ","),
        (["single"], ","),
        (["Balance âgée", "N°;Client;Montant", "F-1;C1;1 234,56", "F-2;C1;10,00"], ";"),
        (
            ["Acme", "As of December 7, 2026", "Date,Num,Amount", "1/2/2026,7,10", "1/3/2026,8,9"],
            ",",
        ),
        ([], ","),
    ],
)
def test_delimiters(lines, expected):
    assert detect_delimiter(lines) == expected


def test_headers_compare_loosely():
    assert header_key(" *ContactName ") == header_key("contactname")
    assert header_key("Due  Date") == header_key("due date")


def test_ranges():
    assert ranges([2, 3, 4, 7, 9, 10]) == "2-4, 7, 9-10"
    assert ranges(range(1, 30, 2)) == "1, 3, 5, 7, 9, …"


@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    style=st.sampled_from(
        [
            (" ", ","),
            ("\u00a0", ","),
            ("\u202f", ","),
            (".", ","),
            (",", "."),
            ("'", "."),
            ("", ","),
        ]
    ),
)
def test_any_grouped_amount_reads_back(amount, style):
    thousands, decimal = style
    whole, _, fraction = f"{amount:.2f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = thousands.join(groups) + decimal + fraction
    numbers = NumberFormat(decimal=decimal, stated=True)
    assert Decimal(numbers.parse(text)) == amount


def test_undecided_after_the_sample_the_first_telling_row_decides():
    numbers = NumberFormat()
    numbers.observe(2, "100")
    numbers.decide()
    assert numbers.parse("1.234,56") == "1234.56"
    with pytest.raises(FormatError, match="the file uses ','"):
        numbers.parse("1,234.56")
