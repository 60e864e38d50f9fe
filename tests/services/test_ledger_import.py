"""Ledger import through the DESIGN §4 contract: upsert, idempotence, all-or-nothing errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from relance.models import Allocation, Contact, CreditNote, Customer, Event, Invoice, Payment
from relance.services.ledger.allocation import customer_position

CUSTOMERS = ["external_id", "name", "currency", "language", "country", "owner_email", "risk"]
INVOICES = ["external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"]
SETTLEMENTS = ["external_id", "customer_id", "invoice_id", "date", "currency", "amount"]


@pytest.fixture
def ledger(company, relance, write_csv):
    """Two customers with three invoices, imported through the CLI."""
    customers = write_csv(
        "customers",
        CUSTOMERS,
        [
            ["C1", "Boulangerie Dupont", "EUR", "fr", "FR", "claire@ar.test", "low"],
            ["C2", "Harbour Logistics", "GBP", "en", "GB", "", "high"],
        ],
    )
    assert relance.json("import", "customers", customers)["created"] == 2
    invoices = write_csv(
        "invoices",
        INVOICES,
        [
            ["I1", "C1", "F-001", "2026-01-10", "2026-02-09", "EUR", "1000.00"],
            ["I2", "C1", "F-002", "2026-02-10", "2026-03-12", "EUR", "500.00"],
            ["I3", "C2", "F-003", "2026-01-15", "2026-02-14", "GBP", "250.00"],
        ],
    )
    assert relance.json("import", "invoices", invoices)["created"] == 3
    return {"customers": customers, "invoices": invoices}


def counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (Customer, Contact, Invoice, Payment, CreditNote, Allocation)
    }


def test_import_creates_rows_with_their_values(ledger):
    c1 = Customer.objects.get(external_id="C1")
    assert (c1.name, c1.currency, c1.language, c1.country, c1.risk) == (
        "Boulangerie Dupont",
        "EUR",
        "fr",
        "FR",
        "low",
    )
    assert c1.owner is not None
    assert c1.owner.email == "claire@ar.test"
    assert c1.time_zone == "Europe/Paris"  # from the company, the column being absent
    inv = Invoice.objects.get(external_id="I1")
    assert (inv.number, inv.issue_date, inv.due_date, inv.total, inv.status) == (
        "F-001",
        date(2026, 1, 10),
        date(2026, 2, 9),
        Decimal("1000.00"),
        "open",
    )
    assert inv.customer == c1
    assert inv.amount_due(date(2026, 3, 1)) == Decimal("1000.00")


def test_reimporting_the_same_file_changes_nothing(ledger, relance):
    before = counts()
    out = relance.json("import", "invoices", ledger["invoices"])
    assert (out["created"], out["updated"], out["unchanged"], out["errors"]) == (0, 0, 3, [])
    out = relance.json("import", "customers", ledger["customers"])
    assert (out["created"], out["updated"], out["unchanged"]) == (0, 0, 2)
    assert counts() == before


def test_changed_rows_are_updated_and_absent_columns_left_alone(ledger, relance, write_csv):
    Customer.objects.filter(external_id="C1").update(segment="smb")
    path = write_csv("customers2", ["external_id", "name"], [["C1", "Boulangerie Dupont & Fils"]])
    out = relance.json("import", "customers", path)
    assert (out["created"], out["updated"], out["unchanged"]) == (0, 1, 0)
    c1 = Customer.objects.get(external_id="C1")
    assert c1.name == "Boulangerie Dupont & Fils"
    assert (c1.segment, c1.currency, c1.risk) == ("smb", "EUR", "low")


def test_dry_run_counts_but_writes_nothing(company, relance, write_csv):
    path = write_csv("customers", CUSTOMERS, [["C9", "Acme", "EUR", "en", "FR", "new@ar.test", ""]])
    out = relance.json("import", "customers", path, "--dry-run")
    assert out["created"] == 1
    assert out["dry_run"] is True
    assert out["invited_users"] == ["new@ar.test"]
    assert not Customer.objects.exists()
    assert not get_user_model().objects.filter(email="new@ar.test").exists()


def test_unknown_staff_address_creates_an_inactive_user_to_invite(ledger):
    user = get_user_model().objects.get(email="claire@ar.test")
    assert not user.is_active
    assert not user.has_usable_password()
    event = Event.objects.filter(kind="import.customers").first()
    assert event is not None
    assert event.data["invited_users"] == ["claire@ar.test"]


def test_contacts_with_roles_and_phone_in_e164(ledger, relance, write_csv):
    path = write_csv(
        "contacts",
        ["external_id", "customer_id", "name", "email", "phone", "roles"],
        [
            ["K1", "C1", "Marie Dupont", "Marie@Dupont.test", "01 42 68 53 00", "billing|primary"],
            ["K2", "C2", "Tom Harbour", "tom@harbour.test", "+44 20 7946 0000", ""],
        ],
    )
    out = relance.json("import", "contacts", path)
    assert out["created"] == 2
    marie = Contact.objects.get(external_id="K1")
    assert (marie.email, marie.phone, marie.roles) == (
        "marie@dupont.test",
        "+33142685300",
        ["billing", "primary"],
    )
    assert Contact.objects.get(external_id="K2").roles == []


def test_payments_allocate_and_overpayment_stays_as_credit(ledger, relance, write_csv):
    path = write_csv(
        "payments",
        SETTLEMENTS,
        [
            ["P1", "C1", "I2", "2026-03-01", "EUR", "200.00"],
            ["P2", "C1", "", "2026-03-05", "EUR", "1500.00"],
        ],
    )
    assert relance.json("import", "payments", path)["created"] == 2
    i1, i2 = Invoice.objects.get(external_id="I1"), Invoice.objects.get(external_id="I2")
    assert i2.amount_due(date(2026, 3, 2)) == Decimal("300.00")
    assert i1.amount_due(date(2026, 3, 2)) == Decimal("1000.00")
    # The unallocated 1500 settles the oldest due date first, then the rest of I2; 200 is credit.
    assert i1.amount_due(date(2026, 3, 5)) == 0
    assert i2.amount_due(date(2026, 3, 5)) == 0
    position, _ = customer_position(Customer.objects.get(external_id="C1"), date(2026, 3, 31))
    assert dict(position.credit) == {"EUR": Decimal("200.00")}


def test_credit_note_reduces_its_invoice(ledger, relance, write_csv):
    path = write_csv("credit-notes", SETTLEMENTS, [["CN1", "C2", "I3", "2026-02-01", "GBP", "50"]])
    assert relance.json("import", "credit-notes", path)["created"] == 1
    assert Invoice.objects.get(external_id="I3").amount_due(date(2026, 2, 1)) == Decimal("200")
    assert Invoice.objects.get(external_id="I3").amount_due(date(2026, 1, 31)) == Decimal("250")


# --- bad input: a clear error naming the row and field, and nothing written --------------------

BAD_INVOICES = [
    (
        "wrong date",
        ["I9", "C1", "F-9", "2026-13-01", "2026-02-01", "EUR", "10"],
        "issue_date",
        "not a valid calendar date",
    ),
    (
        "date format",
        ["I9", "C1", "F-9", "10/01/26", "2026-02-01", "EUR", "10"],
        "issue_date",
        "YYYY-MM-DD",
    ),
    (
        "unknown currency",
        ["I9", "C1", "F-9", "2026-01-01", "2026-02-01", "EUX", "10"],
        "currency",
        "ISO 4217",
    ),
    (
        "negative total",
        ["I9", "C1", "F-9", "2026-01-01", "2026-02-01", "EUR", "-10"],
        "total",
        "credit note",
    ),
    (
        "not a number",
        ["I9", "C1", "F-9", "2026-01-01", "2026-02-01", "EUR", "12 EUR"],
        "total",
        "not a number",
    ),
    (
        "too many decimals",
        ["I9", "C1", "F-9", "2026-01-01", "2026-02-01", "EUR", "10.001"],
        "total",
        "more decimals",
    ),
    (
        "unknown customer",
        ["I9", "C404", "F-9", "2026-01-01", "2026-02-01", "EUR", "10"],
        "customer_id",
        "unknown customer 'C404'",
    ),
    (
        "due before issue",
        ["I9", "C1", "F-9", "2026-03-01", "2026-02-01", "EUR", "10"],
        "due_date",
        "before the issue date",
    ),
    (
        "missing required value",
        ["I9", "C1", "", "2026-01-01", "2026-02-01", "EUR", "10"],
        "number",
        "required",
    ),
]


@pytest.mark.parametrize(
    ("case", "bad_row", "field", "message"), BAD_INVOICES, ids=[c[0] for c in BAD_INVOICES]
)
def test_a_bad_invoice_row_rejects_the_whole_file(
    ledger, relance, write_csv, case, bad_row, field, message
):
    before = counts()
    good = ["I8", "C1", "F-8", "2026-01-01", "2026-02-01", "EUR", "10"]
    path = write_csv("bad", INVOICES, [good, bad_row])
    out = relance.json("import", "invoices", path, code=1)
    assert out["created"] == 0
    assert len(out["errors"]) == 1
    error = out["errors"][0]
    assert (error["row"], error["field"]) == (3, field)
    assert message in error["message"]
    assert counts() == before


def test_every_bad_row_is_reported_at_once(ledger, relance, write_csv):
    path = write_csv(
        "bad",
        INVOICES,
        [
            ["I7", "C1", "F-7", "2026-01-01", "2026-02-01", "EUX", "-1"],
            ["I8", "C1", "F-8", "2026-01-01", "2026-02-01", "EUR", "10"],
            ["I8", "C1", "F-8b", "2026-01-01", "2026-02-01", "EUR", "10"],
        ],
    )
    out = relance.json("import", "invoices", path, code=1)
    assert [(e["row"], e["field"]) for e in out["errors"]] == [
        (2, "currency"),
        (4, "external_id"),
    ]
    assert "more than once" in out["errors"][1]["message"]
    assert not Invoice.objects.filter(external_id__in=["I7", "I8"]).exists()


def test_unknown_and_missing_columns_are_reported_on_the_header(company, relance, write_csv):
    path = write_csv("bad", ["external_id", "nom", "colour"], [["C1", "x", "red"]])
    out = relance.json("import", "customers", path, code=1)
    assert {(e["row"], e["field"]) for e in out["errors"]} == {
        (1, "nom"),
        (1, "colour"),
        (1, "name"),
    }
    assert any("unknown column 'colour'" in e["message"] for e in out["errors"])
    assert not Customer.objects.exists()


def test_empty_file_is_an_error(company, relance, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    out = relance.json("import", "customers", path, code=1)
    assert out["errors"][0]["row"] == 1
    assert "empty" in out["errors"][0]["message"]


def test_header_only_file_imports_nothing(company, relance, write_csv):
    out = relance.json("import", "customers", write_csv("h", CUSTOMERS, []))
    assert (out["created"], out["errors"]) == (0, [])


def test_windows_1252_file_is_read_as_such(company, relance, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("external_id,name\nC1,Caf\u00e9 A\nC2,Caf\u00e9 B\n".encode("cp1252"))
    out = relance.json("import", "customers", path)
    assert out["format"] == {"encoding": "Windows-1252", "delimiter": ",", "sheet": None}
    assert Customer.objects.get(external_id="C1").name == "Caf\u00e9 A"


def test_utf8_start_then_another_encoding_names_the_line(company, relance, tmp_path):
    path = tmp_path / "mixed.csv"
    head = "external_id,name\n" + "".join(f"C{i},Caf\u00e9\n" for i in range(30000))
    path.write_bytes(head.encode() + "C-last,Caf\u00e9\n".encode("cp1252"))
    out = relance.json("import", "customers", path, code=1)
    assert out["errors"][0]["row"] == 30002
    assert "not valid UTF-8" in out["errors"][0]["message"]
    assert not Customer.objects.exists()


def test_utf8_bom_and_accents_are_fine(company, relance, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("external_id,name\nC1,Café Crème\n".encode("utf-8-sig"))
    assert relance.json("import", "customers", path)["created"] == 1
    assert Customer.objects.get().name == "Café Crème"


def test_wrong_number_of_values(company, relance, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("external_id,name\nC1,A,extra\n", encoding="utf-8")
    out = relance.json("import", "customers", path, code=1)
    assert out["errors"][0]["row"] == 2
    assert "3 values" in out["errors"][0]["message"]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("language", "de", "not one of fr, en"),
        ("risk", "extreme", "not one of low, medium, high"),
        ("owner_email", "claire-at-ar", "not an email"),
        ("plan", "gold", "unknown plan 'gold'"),
        ("pays_by_bank_transfer", "maybe", "true or false"),
        ("card_expiry", "2027-13", "YYYY-MM"),
        ("time_zone", "Paris", "IANA"),
        ("credit_limit", "-5", "negative"),
    ],
)
def test_bad_customer_values(company, relance, write_csv, column, value, message):
    path = write_csv("c", ["external_id", "name", column], [["C1", "Acme", value]])
    out = relance.json("import", "customers", path, code=1)
    assert [(e["row"], e["field"]) for e in out["errors"]] == [(2, column)]
    assert message in out["errors"][0]["message"]


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (["K1", "C1", "A", "a@b.test", "12", "billing"], "phone", "not a valid phone"),
        (["K1", "C1", "A", "a@b.test", "", "billing|boss"], "roles", "unknown role 'boss'"),
        (["K1", "C404", "A", "a@b.test", "", ""], "customer_id", "unknown customer"),
    ],
)
def test_bad_contact_values(ledger, relance, write_csv, row, field, message):
    header = ["external_id", "customer_id", "name", "email", "phone", "roles"]
    out = relance.json("import", "contacts", write_csv("k", header, [row]), code=1)
    assert [(e["row"], e["field"]) for e in out["errors"]] == [(2, field)]
    assert message in out["errors"][0]["message"]


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (["P1", "C1", "I3", "2026-03-01", "GBP", "10"], "invoice_id", "another customer"),
        (["P1", "C1", "I1", "2026-03-01", "USD", "10"], "invoice_id", "is in EUR, not USD"),
        (["P1", "C1", "I404", "2026-03-01", "EUR", "10"], "invoice_id", "unknown invoice"),
        (["P1", "C1", "I1", "2026-03-01", "EUR", "0"], "amount", "greater than zero"),
        (["P1", "C1", "I1", "2026-03-01", "EUR", "-3"], "amount", "greater than zero"),
    ],
)
def test_bad_payment_values(ledger, relance, write_csv, row, field, message):
    out = relance.json("import", "payments", write_csv("p", SETTLEMENTS, [row]), code=1)
    assert [(e["row"], e["field"]) for e in out["errors"]] == [(2, field)]
    assert message in out["errors"][0]["message"]
    assert not Payment.objects.exists()


def test_human_output_and_exit_codes(ledger, relance, write_csv):
    result = relance("import", "invoices", ledger["invoices"])
    assert result.exit_code == 0
    assert "invoices: 0 created, 0 updated, 3 unchanged" in result.stdout
    bad = write_csv("bad", INVOICES, [["I9", "C1", "F-9", "2026-01-01", "2026-02-01", "EUR", "x"]])
    result = relance("import", "invoices", bad)
    assert result.exit_code == 1
    assert "row 2, total" in result.stderr
    assert "nothing was written" in result.stderr
    assert relance("import", "receipts", bad).exit_code == 2
    assert relance("import", "invoices", bad, "--company", "nope").exit_code == 1
    assert relance("import", "invoices", "/nonexistent.csv").exit_code == 1


def test_another_company_keeps_its_own_external_ids(ledger, relance, write_csv):
    relance.json("company", "add", "uk", "--name", "UK", "--country", "GB", "--currency", "GBP")
    out = relance.json("import", "customers", ledger["customers"], "--company", "uk")
    assert out["created"] == 2
    assert Customer.objects.filter(external_id="C1").count() == 2
    uk_c1 = Customer.objects.get(company__code="uk", external_id="C1")
    assert uk_c1.currency == "EUR"  # the file says so


def test_rows_changing_different_fields_keep_the_fields_they_do_not_change(
    company, relance, write_csv
):
    """Two rows of one chunk, one changing the name and the other the segment: each keeps the
    value it does not change (the update of the chunk once wrote the model's defaults there)."""
    first = [["C1", "Boulangerie Dupont", "smb"], ["C2", "Garage Martin", "smb"]]
    relance.json("import", "customers", write_csv("c", ["external_id", "name", "segment"], first))
    second = [["C1", "Boulangerie Dupont", "enterprise"], ["C2", "Garage Martin SARL", "smb"]]
    out = relance.json(
        "import", "customers", write_csv("d", ["external_id", "name", "segment"], second)
    )
    assert out["updated"] == 2
    assert list(Customer.objects.order_by("external_id").values_list("name", "segment")) == [
        ("Boulangerie Dupont", "enterprise"),
        ("Garage Martin SARL", "smb"),
    ]
