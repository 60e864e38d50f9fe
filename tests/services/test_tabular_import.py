"""Importing the files finance teams have: any delimiter and encoding, workbooks, regional
cells, and other products' exports through the built-in mappings, balance-only ones included."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from relance.models import Customer, Invoice, Payment, SavedMapping
from relance.services.organisation import hours

INVOICES = ["external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"]


def write(
    path: Path,
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    newline: str = "\r\n",
) -> Path:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


@pytest.fixture
def customers(company, relance, tmp_path):
    path = write(
        tmp_path / "c.csv",
        [["external_id", "name"], ["C1", "Boulangerie Dupont"], ["C2", "Harbour Logistics"]],
    )
    relance.json("import", "customers", path)


def test_french_excel_export_semicolon_windows_1252(customers, relance, tmp_path):
    """The issue's file: `;`, Windows-1252, `1 234,56`, `31/01/2026`, an accent."""
    path = write(
        tmp_path / "factures.csv",
        [
            INVOICES,
            ["F-001", "C1", "F-001 é", "31/01/2026", "02/03/2026", "EUR", "1 234,56"],
            ["F-002", "C1", "F-002", "15/02/2026", "17/03/2026", "EUR", "99,90"],
        ],
        delimiter=";",
        encoding="cp1252",
    )
    out = relance.json("import", "invoices", path)
    assert out["created"] == 2
    assert out["format"] == {"encoding": "Windows-1252", "delimiter": ";", "sheet": None}
    first = Invoice.objects.get(external_id="F-001")
    assert (first.number, first.issue_date, first.due_date, first.total) == (
        "F-001 é",
        date(2026, 1, 31),
        date(2026, 3, 2),
        Decimal("1234.56"),
    )
    again = relance.json("import", "invoices", path)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


@pytest.mark.parametrize(
    ("delimiter", "encoding", "expected"),
    [
        ("\t", "utf-16", "UTF-16"),
        ("|", "utf-8-sig", "UTF-8 (BOM)"),
        (",", "latin-1", "Windows-1252"),
    ],
)
def test_any_delimiter_and_encoding(customers, relance, tmp_path, delimiter, encoding, expected):
    path = write(
        tmp_path / "i.txt",
        [INVOICES, ["I1", "C2", "N°1", "2026-01-10", "2026-02-09", "GBP", "1'250.00"]],
        delimiter=delimiter,
        encoding=encoding,
    )
    out = relance.json("import", "invoices", path)
    assert out["created"] == 1
    assert out["format"]["encoding"] == expected
    assert out["format"]["delimiter"] == delimiter
    assert Invoice.objects.get().total == Decimal("1250.00")


def test_ambiguous_dates_are_an_error_naming_the_rows(customers, relance, tmp_path):
    rows = [INVOICES] + [
        [f"I{n}", "C1", f"N{n}", "01/02/2026", "03/04/2026", "EUR", "10"] for n in range(39)
    ]
    out = relance.json("import", "invoices", write(tmp_path / "a.csv", rows), code=1)
    assert out["errors"][0]["message"].startswith(
        "dates could be day/month or month/day: rows 2-40 fit both; set the mapping's `dates`"
    )
    assert not Invoice.objects.exists()
    mapping = tmp_path / "m.yaml"
    mapping.write_text('kind: invoices\ndates: "%m/%d/%Y"\n')
    relance.json("import", "invoices", write(tmp_path / "a.csv", rows), "--mapping", mapping)
    assert Invoice.objects.get(external_id="I0").issue_date == date(2026, 1, 2)


def test_a_later_row_contradicting_the_sample_is_named(customers, relance, tmp_path):
    rows = (
        [INVOICES]
        + [[f"I{n}", "C1", f"N{n}", "31/01/2026", "28/02/2026", "EUR", "10"] for n in range(1000)]
        + [["I-late", "C1", "N", "01/31/2026", "02/28/2026", "EUR", "10"]]
    )
    out = relance.json("import", "invoices", write(tmp_path / "a.csv", rows), code=1)
    assert out["errors"][0]["row"] == 1002
    assert out["errors"][0]["field"] == "issue_date"
    assert "does not fit the file's date order (day/month)" in out["errors"][0]["message"]


def _sheet_rows():
    return [
        INVOICES,
        ["I1", "C1", "F-1", datetime(2026, 1, 31), datetime(2026, 3, 2), "EUR", 1234.56],
        ["I2", "C2", 1002, datetime(2026, 2, 1), datetime(2026, 3, 3), "GBP", 250],
    ]


def test_xlsx_written_by_openpyxl_with_typed_dates_and_numbers(customers, relance, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing to read here"])
    sheet = book.create_sheet("Factures")
    for row in _sheet_rows():
        sheet.append(row)
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    out = relance.json("import", "invoices", path, "--sheet", "Factures")
    assert out["created"] == 2
    assert out["format"] == {"encoding": None, "delimiter": None, "sheet": "Factures"}
    assert Invoice.objects.get(external_id="I1").total == Decimal("1234.56")
    assert Invoice.objects.get(external_id="I2").number == "1002"
    missing = relance.json("import", "invoices", path, "--sheet", "Nope", code=1)
    assert "no sheet 'Nope'; its sheets: Notes, Factures" in missing["error"]


def test_ods_written_by_odfpy(customers, relance, tmp_path):
    pytest.importorskip("odf")
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Feuille1")
    for row in _sheet_rows():
        tr = TableRow()
        for value in row:
            if isinstance(value, datetime):
                cell = TableCell(valuetype="date", datevalue=value.date().isoformat())
            elif isinstance(value, int | float):
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    path = tmp_path / "ledger.ods"
    doc.save(str(path))
    out = relance.json("import", "invoices", path)
    assert (out["created"], out["format"]["sheet"]) == (2, "Feuille1")
    assert Invoice.objects.get(external_id="I1").due_date == date(2026, 3, 2)


def test_xls_written_by_xlwt(customers, relance, tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    dated = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for r, row in enumerate(_sheet_rows()):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write(r, c, value, dated)
            else:
                sheet.write(r, c, value)
    path = tmp_path / "ledger.xls"
    book.save(str(path))
    out = relance.json("import", "invoices", path)
    assert out["created"] == 2
    assert Invoice.objects.get(external_id="I1").issue_date == date(2026, 1, 31)


def test_excel_serial_dates_in_csv(customers, relance, tmp_path):
    path = write(tmp_path / "s.csv", [INVOICES, ["I1", "C1", "N", "46053", "46083", "EUR", "5"]])
    relance.json("import", "invoices", path)
    assert Invoice.objects.get().issue_date == date(2026, 1, 31)


# --- the issue's mapping, balance-only ----------------------------------------------------------

FRENCH_MAPPING = """\
kind: invoices
columns: {external_id: "N° facture", customer_id: "Code client", number: "N° facture",
          issue_date: "Date", due_date: "Échéance", currency: "Devise", total: "Montant TTC"}
dates: "%d/%m/%Y"
decimal: ","
defaults: {currency: EUR}
open_amount: "Reste dû"
"""
FRENCH_HEADER = [
    "Libellé",
    "N° facture",
    "Code client",
    "Date",
    "Échéance",
    "Devise",
    "Montant TTC",
    "Reste dû",
]


def _balance(tmp_path, rows):
    return write(tmp_path / "balance.csv", [FRENCH_HEADER, *rows], delimiter=";", encoding="cp1252")


def test_balance_only_export_records_the_settled_part(customers, relance, tmp_path):
    mapping = tmp_path / "balance.yaml"
    mapping.write_text(FRENCH_MAPPING, encoding="utf-8")
    rows = [
        ["Pain", "F-1", "C1", "10/01/2026", "09/02/2026", "EUR", "1 000,00", "400,00"],
        ["Croissants", "F-2", "C1", "12/01/2026", "11/02/2026", "", "500,00", "500,00"],
    ]
    out = relance.json("import", "invoices", _balance(tmp_path, rows), "--mapping", mapping)
    assert out["created"] == 2
    settled = Payment.objects.get()
    today = hours.company_today(settled.company)
    assert (settled.external_id, settled.amount, settled.date) == (
        "F-1:settled",
        Decimal("600.00"),
        today,
    )
    f1 = Invoice.objects.get(external_id="F-1")
    assert f1.amount_due(today) == Decimal("400.00")
    assert Invoice.objects.get(external_id="F-2").currency == "EUR"  # the default

    again = relance.json("import", "invoices", _balance(tmp_path, rows), "--mapping", mapping)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert Payment.objects.get().pk == settled.pk

    rows[0][7] = "100,00"
    rows[1][7] = "450,00"
    relance.json("import", "invoices", _balance(tmp_path, rows), "--mapping", mapping)
    assert dict(Payment.objects.values_list("external_id", "amount")) == {
        "F-1:settled": Decimal("900.00"),
        "F-2:settled": Decimal("50.00"),
    }
    assert Invoice.objects.get(external_id="F-1").amount_due(today) == Decimal("100.00")

    rows[0][7] = "1 000,00"
    relance.json("import", "invoices", _balance(tmp_path, rows), "--mapping", mapping)
    assert list(Payment.objects.values_list("external_id", flat=True)) == ["F-2:settled"]


def test_open_more_than_total_names_the_row(customers, relance, tmp_path):
    mapping = tmp_path / "balance.yaml"
    mapping.write_text(FRENCH_MAPPING, encoding="utf-8")
    rows = [["x", "F-1", "C1", "10/01/2026", "09/02/2026", "EUR", "100,00", "120,00"]]
    out = relance.json("import", "invoices", _balance(tmp_path, rows), "--mapping", mapping, code=1)
    assert (out["errors"][0]["row"], out["errors"][0]["field"]) == (2, "open_amount")
    assert "cannot be more than the total" in out["errors"][0]["message"]
    assert not Invoice.objects.exists()


def test_mapping_files_saved_by_notepad(customers, relance, tmp_path):
    rows = [["x", "F-1", "C1", "10/01/2026", "09/02/2026", "EUR", "100,00", "20,00"]]
    for n, encoding in enumerate(("utf-8-sig", "cp1252")):
        mapping = tmp_path / f"notepad-{n}.yaml"
        mapping.write_bytes(FRENCH_MAPPING.encode(encoding))
        out = relance.json("import", "invoices", _balance(tmp_path, rows), "--mapping", mapping)
        assert out["errors"] == []


def test_a_blank_open_amount_is_an_error(customers, relance, tmp_path):
    mapping = tmp_path / "balance.yaml"
    mapping.write_text(FRENCH_MAPPING, encoding="utf-8")
    rows = [["x", "F-1", "C1", "10/01/2026", "09/02/2026", "EUR", "100,00", ""]]
    out = relance.json("import", "invoices", _balance(tmp_path, rows), "--mapping", mapping, code=1)
    assert (out["errors"][0]["row"], out["errors"][0]["field"]) == (2, "open_amount")


def test_a_missing_source_column_is_named(customers, relance, tmp_path):
    mapping = tmp_path / "balance.yaml"
    mapping.write_text(FRENCH_MAPPING, encoding="utf-8")
    path = write(tmp_path / "b.csv", [FRENCH_HEADER[:-1], ["x", "F-1", "C1", "", "", "", ""]])
    out = relance.json("import", "invoices", path, "--mapping", mapping, code=1)
    assert "no column 'Reste dû'" in out["errors"][0]["message"]


# --- built-in mappings, on files shaped as the products write them ------------------------------

XERO_HEADER = [
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "SAAddressLine1",
    "SAAddressLine2",
    "SAAddressLine3",
    "SAAddressLine4",
    "SACity",
    "SARegion",
    "SAPostalCode",
    "SACountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "PlannedDate",
    "Total",
    "TaxTotal",
    "InvoiceAmountPaid",
    "InvoiceAmountDue",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "LineAmount",
    "*AccountCode",
    "*TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
    "Type",
    "Sent",
    "Status",
]


def _xero_line(contact, number, issued, due, total, paid, due_amount, desc, line, tax):
    row = dict.fromkeys(XERO_HEADER, "")
    row.update(
        {
            "*ContactName": contact,
            "POAddressLine1": "1 High Street",
            "POCity": "London",
            "*InvoiceNumber": number,
            "*InvoiceDate": issued,
            "*DueDate": due,
            "Total": total,
            "TaxTotal": "",
            "InvoiceAmountPaid": paid,
            "InvoiceAmountDue": due_amount,
            "*Description": desc,
            "*Quantity": "1",
            "*UnitAmount": line,
            "LineAmount": line,
            "*AccountCode": "200",
            "*TaxType": "20% (VAT on Income)",
            "TaxAmount": tax,
            "Currency": "GBP",
            "Type": "Sales invoice",
            "Sent": "Sent",
            "Status": "Awaiting Payment",
        }
    )
    return [row[h] for h in XERO_HEADER]


def test_xero_contacts_and_invoices_with_line_items(company, relance, tmp_path):
    contacts_header = [
        "*ContactName",
        "AccountNumber",
        "EmailAddress",
        "FirstName",
        "LastName",
        "POAttentionTo",
        "POAddressLine1",
        "POAddressLine2",
        "POAddressLine3",
        "POAddressLine4",
        "POCity",
        "PORegion",
        "POPostalCode",
        "POCountry",
    ]
    contacts = write(
        tmp_path / "Contacts.csv",
        [
            contacts_header,
            [
                "Harbour Logistics",
                "",
                "ap@harbour.test",
                "Ann",
                "Lee",
                "",
                "1 Dock Road",
                "",
                "",
                "",
                "Bristol",
                "",
                "BS1 4DJ",
                "United Kingdom",
            ],
        ],
    )
    out = relance.json("import", "customers", contacts, "--mapping", "xero-contacts")
    assert out["created"] == 1
    assert Customer.objects.get().city == "Bristol"
    rows = [
        XERO_HEADER,
        _xero_line(
            "Harbour Logistics",
            "INV-0001",
            "31/01/2026",
            "02/03/2026",
            "1,200.00",
            "200.00",
            "1,000.00",
            "Freight",
            "600.00",
            "120.00",
        ),
        _xero_line(
            "Harbour Logistics",
            "INV-0001",
            "31/01/2026",
            "02/03/2026",
            "1,200.00",
            "200.00",
            "1,000.00",
            "Storage",
            "400.00",
            "80.00",
        ),
        _xero_line(
            "Harbour Logistics",
            "INV-0002",
            "01/02/2026",
            "03/03/2026",
            "60.00",
            "0.00",
            "60.00",
            "Handling",
            "50.00",
            "10.00",
        ),
    ]
    invoices = write(tmp_path / "Invoices.csv", rows)
    out = relance.json("import", "invoices", invoices, "--mapping", "xero-invoices")
    assert out["created"] == 2
    first = Invoice.objects.get(external_id="INV-0001")
    assert (first.total, first.issue_date, first.currency) == (
        Decimal("1200.00"),
        date(2026, 1, 31),
        "GBP",
    )
    assert Payment.objects.get().amount == Decimal("200.00")

    rows[2][XERO_HEADER.index("LineAmount")] = "300.00"
    out = relance.json(
        "import",
        "invoices",
        write(tmp_path / "Bad.csv", rows),
        "--mapping",
        "xero-invoices",
        code=1,
    )
    assert out["errors"][0]["row"] == 2
    assert (
        "lines of invoice 'INV-0001' add up to 900.00 (1100.00 with their tax)"
        in (out["errors"][0]["message"])
    )


def test_quickbooks_open_invoices_report(company, relance, tmp_path):
    write(
        tmp_path / "cust.csv",
        [
            [
                "Customer",
                "Phone Numbers",
                "Email",
                "Full Name",
                "Billing Address",
                "Shipping Address",
            ],
            [
                "Amy's Bird Sanctuary",
                "(650) 555-3311",
                "Birds@Intuit.com",
                "Amy Lauterbach",
                "4581 Finch St. Bayshore, CA 94326",
                "",
            ],
        ],
    )
    relance.json("import", "customers", tmp_path / "cust.csv", "--mapping", "quickbooks-customers")
    report = write(
        tmp_path / "Open Invoices.csv",
        [
            ["Craig's Design and Landscaping Services"],
            ["Open Invoices"],
            ["As of December 7, 2026"],
            [],
            ["", "Date", "Transaction Type", "Num", "Terms", "Due Date", "Open Balance"],
            ["Amy's Bird Sanctuary", "", "", "", "", "", ""],
            ["", "11/14/2026", "Invoice", "1021", "Net 30", "12/14/2026", "1,239.00"],
            ["", "11/20/2026", "Payment", "", "", "11/20/2026", "-100.00"],
            ["", "10/01/2026", "Invoice", "1022", "Net 30", "10/31/2026", "80.00"],
            ["Total for Amy's Bird Sanctuary", "", "", "", "", "", "$1,219.00"],
            ["TOTAL", "", "", "", "", "", "$1,219.00"],
            [],
            ["Wednesday, Dec 07, 2026 06:12:21 PM GMT-8"],
        ],
    )
    out = relance.json("import", "invoices", report, "--mapping", "quickbooks-open-invoices")
    assert out["created"] == 2
    inv = Invoice.objects.get(external_id="1021")
    assert (inv.issue_date, inv.total, inv.currency, inv.customer.name) == (
        date(2026, 11, 14),
        Decimal("1239.00"),
        "EUR",
        "Amy's Bird Sanctuary",
    )


def test_odoo_partners_and_invoices_with_amount_residual(company, relance, tmp_path):
    write(
        tmp_path / "res.partner.csv",
        [
            ["id", "name", "email", "phone", "street", "street2", "zip", "city", "country_id"],
            [
                "__export__.res_partner_42_1a2b3c",
                "Deco Addict",
                "deco@example.com",
                "",
                "77 Santa",
                "",
                "94134",
                "San Francisco",
                "United States",
            ],
        ],
    )
    relance.json("import", "customers", tmp_path / "res.partner.csv", "--mapping", "odoo-partners")
    write(
        tmp_path / "account.move.csv",
        [
            [
                "id",
                "name",
                "partner_id/id",
                "invoice_date",
                "invoice_date_due",
                "currency_id",
                "amount_total",
                "amount_residual",
                "payment_state",
            ],
            [
                "__export__.account_move_7",
                "INV/2026/00001",
                "__export__.res_partner_42_1a2b3c",
                "2026-01-15",
                "2026-02-14",
                "USD",
                "1500.00",
                "0.00",
                "paid",
            ],
            [
                "__export__.account_move_8",
                "INV/2026/00002",
                "__export__.res_partner_42_1a2b3c",
                "2026-02-01",
                "2026-03-03",
                "USD",
                "750.50",
                "250.50",
                "partial",
            ],
        ],
    )
    out = relance.json(
        "import", "invoices", tmp_path / "account.move.csv", "--mapping", "odoo-invoices"
    )
    assert out["created"] == 2
    assert dict(Payment.objects.values_list("external_id", "amount")) == {
        "INV/2026/00001:settled": Decimal("1500.00"),
        "INV/2026/00002:settled": Decimal("500.00"),
    }


def test_sage_accounting_customers_and_opening_balances(company, relance, tmp_path):
    write(
        tmp_path / "customers.csv",
        [
            [
                "Reference",
                "Company Name",
                "Currency",
                "Credit Limit",
                "Main Address Type",
                "Main Address Line 1",
                "Main Address Line 2",
                "Main Address Town",
                "Main Address County",
                "Main Address Post Code",
                "Main Address Country",
                "Main Contact Name",
                "Main Contact Phone",
                "Main Contact Email",
            ],
            [
                "ACME001",
                "Acme Ltd",
                "GBP",
                "5000",
                "",
                "2 Mill Lane",
                "",
                "Leeds",
                "",
                "LS1 1AA",
                "GB",
                "Jo Bloggs",
                "0113 496 0000",
                "jo@acme.test",
            ],
        ],
    )
    relance.json("import", "customers", tmp_path / "customers.csv", "--mapping", "sage-customers")
    acme = Customer.objects.get()
    assert (acme.credit_limit, acme.country, acme.currency) == (Decimal("5000"), "GB", "GBP")
    write(
        tmp_path / "opening.csv",
        [
            [
                "Type",
                "Date",
                "Customer Name",
                "Customer Reference",
                "Reference",
                "Details",
                "Total",
            ],
            ["Invoice", "28/02/2026", "Acme Ltd", "ACME001", "SI-101", "Consulting", "1200.00"],
            ["Cr Note", "03/03/2026", "Acme Ltd", "ACME001", "SC-7", "Refund", "100.00"],
        ],
    )
    out = relance.json(
        "import", "invoices", tmp_path / "opening.csv", "--mapping", "sage-opening-balances"
    )
    assert out["created"] == 1
    assert Invoice.objects.get().due_date == date(2026, 2, 28)


def test_pennylane_invoices(customers, relance, tmp_path):
    write(
        tmp_path / "pl.csv",
        [
            [
                "id",
                "invoice_number",
                "label",
                "customer_id",
                "date",
                "deadline",
                "currency",
                "amount",
                "remaining_amount_with_tax",
                "status",
            ],
            [
                "101",
                "F-2026-0001",
                "Facture F-2026-0001",
                "C1",
                "2026-01-05",
                "2026-02-04",
                "EUR",
                "2400.00",
                "1200.00",
                "partially_paid",
            ],
        ],
    )
    out = relance.json("import", "invoices", tmp_path / "pl.csv", "--mapping", "pennylane-invoices")
    assert out["created"] == 1
    assert Payment.objects.get().amount == Decimal("1200.00")


def test_generic_aged_balance_in_a_workbook(customers, relance, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Aged receivables at 31/01/2026"])
    sheet.append([])
    sheet.append(
        ["Customer", "Invoice", "Invoice date", "Due date", "Total", "Open amount", "0-30", "31-60"]
    )
    sheet.append(["C1", "A-1", datetime(2025, 11, 2), datetime(2025, 12, 2), 800, 300.5, 0, 300.5])
    path = tmp_path / "aged.xlsx"
    book.save(path)
    out = relance.json("import", "invoices", path, "--mapping", "aged-balance")
    assert out["created"] == 1
    assert Payment.objects.get().amount == Decimal("499.50")


# --- saved mappings -----------------------------------------------------------------------------


def test_mapping_list_show_save_and_use(customers, relance, tmp_path):
    listed = relance.json("mapping", "list")["mappings"]
    assert {
        "xero-invoices",
        "quickbooks-open-invoices",
        "odoo-invoices",
        "sage-customers",
        "pennylane-invoices",
        "aged-balance",
    } <= {m["name"] for m in listed}
    shown = relance.json("mapping", "show", "xero-invoices")
    assert "InvoiceAmountDue" in shown["yaml"]
    source = tmp_path / "mine.yaml"
    source.write_text(FRENCH_MAPPING, encoding="utf-8")
    saved = relance.json("mapping", "save", "ma-balance", source)
    assert (saved["created"], saved["kind"], saved["source"]) == (True, "invoices", "saved")
    assert SavedMapping.objects.get().name == "ma-balance"
    assert relance.json("mapping", "save", "ma-balance", source)["created"] is False
    assert relance.json("mapping", "save", source)["name"] == "mine"
    rows = [["x", "F-1", "C1", "10/01/2026", "09/02/2026", "EUR", "100,00", "20,00"]]
    out = relance.json("import", "invoices", _balance(tmp_path, rows), "--mapping", "ma-balance")
    assert out["created"] == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: invoices\ncolumns: {external_id: A}\n")
    refused = relance.json("mapping", "save", "bad", bad, code=1)
    assert "`columns.customer_id`" in refused["error"]
    assert "built-in" in relance.json("mapping", "save", "xero-invoices", source, code=1)["error"]
    assert (
        "no mapping 'nope'"
        in relance.json("import", "invoices", source, "--mapping", "nope", code=1)["error"]
    )


def test_a_mapping_without_columns_sets_formats_and_defaults_on_own_headers(
    customers, relance, tmp_path
):
    header = ["external_id", "customer_id", "number", "issue_date", "due_date", "total"]
    path = write(tmp_path / "i.csv", [header, ["I1", "C1", "N1", "01/02/2026", "03/04/2026", "9"]])
    mapping = tmp_path / "m.yaml"
    mapping.write_text('kind: invoices\ndates: "%d/%m/%Y"\ndefaults: {currency: CHF}\n')
    relance.json("import", "invoices", path, "--mapping", mapping)
    invoice = Invoice.objects.get()
    assert (invoice.issue_date, invoice.currency) == (date(2026, 2, 1), "CHF")


def test_trailing_empty_columns_of_a_sheet_are_ignored(customers, relance, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([*INVOICES, None, None])
    sheet.append(["I1", "C1", "N1", "2026-01-05", "2026-02-04", "EUR", "12.5", None, None])
    sheet.cell(row=5, column=9).value = None
    sheet.cell(row=5, column=9).number_format = "0.00"
    path = tmp_path / "t.xlsx"
    book.save(path)
    assert relance.json("import", "invoices", path)["created"] == 1


def test_a_mapping_for_another_kind_is_refused(customers, relance, tmp_path):
    path = write(tmp_path / "c.csv", [["Reference", "Company Name"], ["X", "Y"]])
    out = relance.json("import", "customers", path, "--mapping", "xero-invoices", code=1)
    assert "the mapping is for invoices, not customers" in out["error"]


def test_a_zip_bomb_workbook_is_refused_before_unzipping(customers, relance, tmp_path, monkeypatch):
    import zipfile

    from relance.services.ledger import tabular

    monkeypatch.setattr(tabular, "MAX_UNZIPPED", 10_000)
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000)
    out = relance.json("import", "invoices", path, code=1)
    assert "unzips to" in out["error"]
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    assert "damaged" in relance.json("import", "invoices", damaged, code=1)["error"]


def test_human_output_says_how_the_file_was_read(customers, relance, tmp_path):
    path = write(
        tmp_path / "i.csv",
        [INVOICES, ["I1", "C1", "N", "2026-01-01", "2026-01-31", "EUR", "1"]],
        delimiter=";",
    )
    result = relance("import", "invoices", path)
    assert "invoices: 1 created, 0 updated, 0 unchanged" in result.stdout
    assert "read as UTF-8, semicolon-separated" in result.stdout


def test_french_aged_balance(customers, relance, tmp_path):
    path = write(
        tmp_path / "balance.csv",
        [
            ["Balance âgée au 31/01/2026"],
            ["Client", "N° facture", "Date facture", "Échéance", "Montant TTC", "Reste dû"],
            ["C1", "FA-7", "15/12/2025", "14/01/2026", "1 200,00", "200,00"],
        ],
        delimiter=";",
        encoding="cp1252",
    )
    out = relance.json("import", "invoices", path, "--mapping", "balance-agee")
    assert out["created"] == 1
    assert Payment.objects.get().amount == Decimal("1000.00")


def test_excel_sep_hint_line(customers, relance, tmp_path):
    path = tmp_path / "hint.csv"
    path.write_bytes(
        b"sep=;\r\nexternal_id;customer_id;number;issue_date;due_date;currency;total\r\n"
        b"I1;C1;N,1;2026-01-05;2026-02-04;EUR;12,50\r\n"
    )
    out = relance.json("import", "invoices", path)
    assert (out["created"], out["format"]["delimiter"]) == (1, ";")
    assert Invoice.objects.get().number == "N,1"
