"""Mappings: parsing names the key at fault; applying one turns a source row into relance's."""

from __future__ import annotations

import re

import pytest

from relance.domain.mappings import (
    Line,
    Mapped,
    MappingError,
    collapse_lines,
    find_header,
    parse,
)

ISSUE_EXAMPLE = """
kind: invoices                 # the KIND it maps
columns: {external_id: "N° facture", customer_id: "Code client", number: "N° facture",
          issue_date: "Date", due_date: "Échéance", currency: "Devise", total: "Montant TTC"}
dates: "%d/%m/%Y"              # strftime format; omitted: ISO or unambiguous detection
decimal: ","                   # "." (default) or ","
defaults: {currency: EUR}      # constants for fields with no column
open_amount: "Reste dû"        # optional: balance-only export (item 3)
"""


def test_the_issue_s_example_parses():
    mapping = parse(ISSUE_EXAMPLE)
    assert mapping.kind == "invoices"
    assert mapping.columns["number"] == mapping.columns["external_id"] == "N° facture"
    assert (mapping.dates, mapping.decimal, mapping.open_amount) == ("%d/%m/%Y", ",", "Reste dû")
    assert mapping.defaults == {"currency": "EUR"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: bills", "`kind` must be one of"),
        ("- a", "must be a YAML table"),
        ("kind: invoices\ncolumns: [a]", "`columns` must be a table"),
        ("kind: invoices\ncolour: red", "unknown key `colour`"),
        ("kind: customers\ncolumns: {external_id: A, name: B, colour: C}", "`columns.colour`"),
        ("kind: invoices\ncolumns: {external_id: A}", "`columns.customer_id`"),
        ("kind: customers\ncolumns: {external_id: A, name: B}\ndates: '%Y'", "`dates`"),
        ("kind: customers\ncolumns: {external_id: A, name: B}\ndecimal: ';'", "`decimal`"),
        ("kind: customers\nopen_amount: X", "`open_amount` applies to invoices only"),
        ("kind: invoices\nlines: {amount: X}", "`lines.group_by` is required"),
        ("kind: customers\ncolumns: {external_id: '', name: B}", "`columns.external_id` is empty"),
        ("kind: [", "not valid YAML (line 1)"),
    ],
)
def test_errors_name_the_key(text, message):
    with pytest.raises(MappingError, match=re.escape(message)):
        parse(text)


def test_a_default_satisfies_a_required_field():
    mapping = parse(
        "kind: payments\ncolumns: {external_id: Ref, customer_id: Client, "
        "date: Date, amount: Montant}\ndefaults: {currency: EUR}"
    )
    assert mapping.defaults == {"currency": "EUR"}


def test_the_header_is_found_below_a_report_title():
    mapping = parse(ISSUE_EXAMPLE)
    rows = [
        ["Balance âgée au 31/01/2026"],
        [],
        ["N° facture", "Code client", "date", "ÉCHÉANCE", "Devise", "Montant TTC", "Reste dû"],
    ]
    assert find_header(rows, mapping) == 2
    with pytest.raises(MappingError, match="no column 'Reste dû'"):
        find_header([rows[2][:-1]], mapping)


def test_mapped_rows_ignore_unnamed_columns_and_feed_two_fields_from_one():
    mapping = parse(ISSUE_EXAMPLE)
    header = [
        "Libellé",
        "N° facture",
        "Code client",
        "Date",
        "Échéance",
        "Devise",
        "Montant TTC",
        "Reste dû",
    ]
    mapped = Mapped(mapping, header, "GBP")
    values, extras = mapped.row(
        ["Ignored", "F-1", "C1", "31/01/2026", "02/03/2026", "", "1 234,56", "234,56"]
    )
    assert values["external_id"] == values["number"] == "F-1"
    assert values["currency"] == "EUR"  # an empty cell takes the default
    assert "Libellé" not in values
    assert "libellé" not in values
    assert extras == {"open_amount": "234,56"}
    assert mapped.row(["", "", "", "", "", "", "", ""]) is None


def test_company_currency_fills_an_unmapped_currency():
    mapping = parse(
        "kind: invoices\ncolumns: {external_id: N, customer_id: C, number: N, "
        "issue_date: D, due_date: E, total: T}"
    )
    values, _ = Mapped(mapping, ["N", "C", "D", "E", "T"], "USD").row(
        ["1", "C1", "2026-01-01", "2026-01-31", "10"]
    )
    assert values["currency"] == "USD"


def test_where_skips_other_rows():
    mapping = parse(
        "kind: invoices\ncolumns: {external_id: Num, customer_id: C, number: Num, "
        "issue_date: D, due_date: D, total: T}\nwhere: {Type: Invoice}"
    )
    mapped = Mapped(mapping, ["Type", "Num", "C", "D", "T"], "EUR")
    assert mapped.row(["Payment", "7", "C1", "2026-01-01", "5"]) is None
    assert mapped.row(["invoice", "8", "C1", "2026-01-01", "5"]) is not None


def _line(row, group, total, amount, tax=""):
    return Line(
        row,
        {"external_id": group, "total": total},
        {"group": group, "line_amount": amount, "line_tax": tax},
    )


def test_lines_fold_into_their_invoice_with_or_without_tax():
    lines = [
        _line(2, "INV-1", "120.00", "60.00", "10.00"),
        _line(3, "INV-1", "120.00", "40.00", "10.00"),
        _line(4, "INV-2", "50.00", "50.00", "0"),
    ]
    folded = list(collapse_lines(iter(lines)))
    assert [(f.row, f.values["external_id"]) for f in folded] == [(2, "INV-1"), (4, "INV-2")]


def test_lines_that_do_not_add_up_name_the_invoice():
    lines = [_line(2, "INV-1", "120.00", "60.00"), _line(3, "INV-1", "120.00", "50.00")]
    with pytest.raises(MappingError, match=r"invoice 'INV-1' add up to 110\.00, not to its"):
        list(collapse_lines(iter(lines)))
    problems: list[tuple[int, str]] = []
    more = [*lines, _line(4, "INV-2", "5", "5")]
    kept = list(collapse_lines(iter(more), lambda *p: problems.append(p)))
    assert [k.row for k in kept] == [4]
    assert problems[0][0] == 2


def test_headings_give_a_field_to_the_rows_below():
    mapping = parse(
        "kind: invoices\ncolumns: {external_id: Num, number: Num, issue_date: D, due_date: D, "
        "total: T}\nheadings: customer_id"
    )
    mapped = Mapped(mapping, ["", "Num", "D", "T"], "EUR")
    assert mapped.row(["Acme", "", "", ""]) is None
    values, _ = mapped.row(["", "7", "2026-01-01", "5"])
    assert values["customer_id"] == "Acme"
    with pytest.raises(MappingError, match="also in `columns`"):
        parse(
            "kind: invoices\ncolumns: {external_id: N, customer_id: C, number: N, "
            "issue_date: D, due_date: D, total: T}\nheadings: customer_id"
        )
