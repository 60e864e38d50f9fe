"""`relance statement` with the late-payment law packs, and `relance rate` (DESIGN §4, §6)."""

from __future__ import annotations

import json

import pytest

CUSTOMERS = ["external_id", "name", "currency", "country", "late_interest_rate", "late_fees_waived"]
INVOICES = ["external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"]


@pytest.fixture
def ledger(company, relance, write_csv):
    relance.json(
        "import",
        "customers",
        write_csv(
            "customers",
            CUSTOMERS,
            [
                ["C1", "Dupont", "EUR", "FR", "", ""],
                ["C2", "Contract", "EUR", "FR", "10", ""],
                ["C3", "Friend", "EUR", "FR", "", "true"],
                ["C4", "Low contract", "EUR", "FR", "5", ""],
            ],
        ),
    )
    relance.json(
        "import",
        "invoices",
        write_csv(
            "invoices",
            INVOICES,
            [
                ["I1", "C1", "F-1", "2025-09-01", "2025-09-30", "EUR", "1000.00"],
                ["I2", "C1", "F-2", "2025-09-01", "2025-09-30", "USD", "200.00"],
                ["I3", "C2", "F-3", "2025-12-01", "2026-01-01", "EUR", "100.00"],
                ["I4", "C3", "F-4", "2025-09-01", "2025-09-30", "EUR", "1000.00"],
                ["I5", "C4", "F-5", "2025-12-01", "2026-01-01", "EUR", "100.00"],
            ],
        ),
    )
    return relance


def lines(out):
    return {i["id"]: (i["late_interest"], i["fixed_indemnity"]) for i in out["invoices"]}


def test_french_law_pack_on_the_statement(ledger):
    out = ledger.json("statement", "C1", "--date", "2025-10-30")
    # 12.15 % (ECB 2.15 on 1 July 2025 + 10): 1,000.00 x 30 days = 9.9863. The USD invoice has
    # interest too, but the €40 indemnity is not converted into dollars.
    assert lines(out) == {"I1": ("9.99", "40.00"), "I2": ("2.00", "0.00")}
    assert out["totals"] == {"EUR": "1000.00", "USD": "200.00"}  # amounts due, fees apart
    text = ledger("statement", "C1", "--date", "2025-10-30").output
    assert "interest       9.99" in text
    assert "indemnity   40.00" in text


def test_contract_rate_waiver_and_the_french_floor(ledger):
    # 10 % agreed: 100.00 x 10 % x 15 / 365 = 0.41
    assert lines(ledger.json("statement", "C2", "--date", "2026-01-16")) == {
        "I3": ("0.41", "40.00")
    }
    assert lines(ledger.json("statement", "C3", "--date", "2025-10-30")) == {"I4": ("0.00", "0.00")}
    # 5 % agreed is below three times the legal rate (3 x 2.62 = 7.86 %): 100 x 7.86 % x 15 / 365
    assert lines(ledger.json("statement", "C4", "--date", "2026-01-16")) == {
        "I5": ("0.32", "40.00")
    }


def test_nothing_is_due_on_or_before_the_due_date(ledger):
    assert lines(ledger.json("statement", "C1", "--date", "2025-09-30")) == {
        "I1": ("0.00", "0.00"),
        "I2": ("0.00", "0.00"),
    }


def test_uk_company_statement(relance, write_csv, company):
    relance.json("company", "add", "uk", "--name", "UK Ltd", "--country", "GB", "--currency", "GBP")
    relance.json(
        "import",
        "customers",
        write_csv("c", ["external_id", "name", "currency"], [["U1", "Harbour", "GBP"]]),
        "--company",
        "uk",
    )
    relance.json(
        "import",
        "invoices",
        write_csv(
            "i",
            INVOICES,
            [["J1", "U1", "G-1", "2025-08-01", "2025-08-31", "GBP", "1500.00"]],
        ),
        "--company",
        "uk",
    )
    out = relance.json("statement", "U1", "--date", "2025-10-01", "--company", "uk")
    # Base rate on 30 June 2025 (4.25 %) + 8 = 12.25 %, 31 days: 1,500 x 12.25 % x 31/365 = 15.61
    assert lines(out) == {"J1": ("15.61", "70.00")}


def test_a_new_rate_changes_the_next_half_year(ledger):
    before = ledger.json("statement", "C1", "--date", "2026-07-31")
    added = ledger.json("rate", "add", "ECB", "--since", "2026-06-10", "--percent", "1.90")
    assert added == {"source": "ECB", "since": "2026-06-10", "percent": "1.90", "created": True}
    after = ledger.json("statement", "C1", "--date", "2026-07-31")
    # Only the 31 days of July 2026 change: 1,000 x (12.15 - 11.90) % x 31 / 365 = 0.21 less.
    old, new = (float(lines(o)["I1"][0]) for o in (before, after))
    assert round(old - new, 2) == 0.21
    listed = ledger.json("rate", "list")["rates"]
    assert {"source": "ECB", "since": "2026-06-10", "percent": "1.90"} in listed
    assert (
        ledger.json("rate", "add", "ECB", "--since", "2026-06-10", "--percent", "1.95")["created"]
        is False
    )


def test_a_missing_rate_is_a_clear_error(relance, company, write_csv):
    relance.json("import", "customers", write_csv("c", ["external_id", "name"], [["O1", "Old"]]))
    relance.json(
        "import",
        "invoices",
        write_csv("i", INVOICES, [["O1", "O1", "X-1", "2015-01-01", "2015-02-01", "EUR", "10.00"]]),
    )
    result = relance("statement", "O1", "--date", "2015-06-01")
    assert result.exit_code == 1
    assert "no ECB rate known on 2015-01-01" in result.output
    assert "relance rate add" in result.output
    assert "Traceback" not in result.output


def test_bad_customer_terms_are_rejected_with_the_row(relance, company, write_csv):
    result = relance(
        "import",
        "customers",
        write_csv("c", ["external_id", "name", "late_interest_rate"], [["C9", "X", "abc"]]),
        "--json",
    )
    assert result.exit_code == 1
    report = json.loads(result.output.splitlines()[0])
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, "late_interest_rate")]


def test_invoice_pdfs_from_a_folder(ledger, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "I1.pdf").write_bytes(b"%PDF-1.4 one")
    (folder / "F-3.pdf").write_bytes(b"%PDF-1.4 three")  # by number
    (folder / "X-9.pdf").write_bytes(b"%PDF-1.4 nobody")
    (folder / "I2.pdf").write_bytes(b"<html>not a pdf</html>")
    out = ledger.json("invoice-pdfs", folder)
    assert sorted(out["attached"]) == ["I1", "I3"]
    assert out["unmatched"] == ["X-9.pdf"]
    assert [r.split(":")[0] for r in out["refused"]] == ["I2.pdf"]
    again = ledger.json("invoice-pdfs", folder)
    assert (again["attached"], sorted(again["unchanged"])) == ([], ["I1", "I3"])
    assert ledger("invoice-pdfs", tmp_path / "missing").exit_code == 1
