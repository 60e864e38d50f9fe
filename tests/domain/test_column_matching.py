"""The wizard's first guess of which column feeds which field, from the headers alone: exports
as their products write them, French and English spreadsheets, and known mappings."""

from __future__ import annotations

from pathlib import Path

import pytest

from relance.domain.column_matching import match_headers, plain, suggest
from relance.domain.mappings import parse

MAPPINGS = Path(__file__).parents[2] / "relance" / "services" / "ledger" / "mappings"


def builtin(name: str):
    return name, parse((MAPPINGS / f"{name}.yaml").read_text(encoding="utf-8"))


def test_headers_are_compared_without_accents_case_or_punctuation():
    assert plain("N° facture") == "n facture"
    assert plain(" *Échéance ") == "echeance"
    assert plain("due_date") == "due date"
    assert plain("Date d'échéance") == "date d echeance"


def test_a_french_spreadsheet_of_invoices():
    headers = ["N° facture", "Code client", "Date", "Échéance", "Devise", "Montant TTC", "Reste dû"]
    found = match_headers("invoices", headers)
    assert found.columns == {
        "external_id": "N° facture",
        "customer_id": "Code client",
        "number": "N° facture",
        "issue_date": "Date",
        "due_date": "Échéance",
        "currency": "Devise",
        "total": "Montant TTC",
    }
    assert found.open_amount == "Reste dû"
    assert found.missing == []


def test_an_english_spreadsheet_with_close_names():
    headers = ["Invoice No", "Customer Code", "Invoice Date", "Due Date", "Amount", "Notes"]
    found = match_headers("invoices", headers)
    assert found.columns["number"] == "Invoice No"
    assert found.columns["external_id"] == "Invoice No"
    assert found.columns["customer_id"] == "Customer Code"
    assert found.columns["issue_date"] == "Invoice Date"
    assert found.columns["due_date"] == "Due Date"
    assert found.columns["total"] == "Amount"
    assert "Notes" not in found.columns.values()
    assert found.open_amount is None


def test_relance_s_own_names_match_themselves():
    headers = ["external_id", "name", "segment", "credit_limit"]
    found = match_headers("customers", headers)
    assert found.columns == {h: h for h in headers}


def test_one_column_feeds_one_field_and_what_is_missing_is_said():
    found = match_headers("payments", ["Date", "Montant"])
    assert found.columns == {"date": "Date", "amount": "Montant"}
    assert found.missing == ["external_id", "customer_id"]  # currency: the company's


def test_unrelated_headers_are_not_guessed():
    found = match_headers("contacts", ["Colour", "Weight", "Height"])
    assert found.columns == {}


@pytest.mark.parametrize(
    ("kind", "headers", "expected"),
    [
        (
            "invoices",
            # Xero's invoice export as it writes it (one row per line item).
            [
                "*ContactName",
                "EmailAddress",
                "*InvoiceNumber",
                "Reference",
                "*InvoiceDate",
                "*DueDate",
                "Total",
                "InvoiceAmountDue",
                "InvoiceAmountPaid",
                "Currency",
                "*Description",
                "*Quantity",
                "*UnitAmount",
                "LineAmount",
                "TaxAmount",
            ],
            "xero-invoices",
        ),
        (
            "invoices",
            ["Client", "N° facture", "Date facture", "Échéance", "Montant TTC", "Reste dû"],
            "balance-agee",
        ),
    ],
)
def test_a_known_export_is_recognised_whole(kind, headers, expected):
    known = [builtin(p.stem) for p in sorted(MAPPINGS.glob("*.yaml"))]
    found = suggest(kind, headers, known)
    assert found.mapping == expected
    assert found.missing == []


def test_a_mapping_is_suggested_only_when_all_its_columns_are_there():
    known = [builtin("balance-agee")]
    found = suggest("invoices", ["Client", "N° facture", "Échéance", "Montant TTC"], known)
    assert found.mapping is None  # no "Date facture", no "Reste dû": matched header by header
    assert found.columns["due_date"] == "Échéance"
