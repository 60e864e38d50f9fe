"""The ledger over HTTP: create, upsert by external id, batches all or nothing, filters, cursor
pages, and the same validation messages as the CSV import."""

from __future__ import annotations

from datetime import date, timedelta

from relance.models import Customer, Event, Invoice
from relance.services.ledger import imports


def _customer(api, ext="C1", **fields):
    return api.post("/customers", {"external_id": ext, "name": f"Customer {ext}", **fields})


def test_create_then_read_a_customer(api):
    made = _customer(api, country="FR", segment="retail", credit_limit="5000")
    assert made.status == 201, made.body
    assert made.body["external_id"] == "C1"
    assert made.body["language"] == "fr"  # from the country, as the CSV import does
    assert made.body["credit_limit"] == "5000.00"
    assert api.get("/customers/C1").body == made.body
    again = _customer(api)
    assert again.status == 409
    assert again.body["error"]["type"] == "conflict"
    assert "PUT" in again.body["error"]["message"]


def test_put_upserts_and_keeps_the_fields_left_out(api):
    created = api.put("/customers/C9", {"name": "Nine", "segment": "smb", "risk": "high"})
    assert created.status == 201, created.body
    updated = api.put("/customers/C9", {"segment": "enterprise"})
    assert updated.status == 200
    assert (updated.body["name"], updated.body["segment"], updated.body["risk"]) == (
        "Nine",
        "enterprise",
        "high",
    )
    cleared = api.put("/customers/C9", {"risk": None})
    assert cleared.body["risk"] == ""
    assert Customer.objects.filter(external_id="C9").count() == 1


def test_a_bad_value_names_its_field_and_writes_nothing(api):
    bad = _customer(api, currency="EURO", time_zone="Mars/Olympus")
    assert bad.status == 422
    fields = {d["field"]: d["message"] for d in bad.body["error"]["details"]}
    assert set(fields) == {"currency", "time_zone"}
    assert "IANA" in fields["time_zone"]
    assert not Customer.objects.exists()
    unknown = api.post("/customers", {"external_id": "C2", "name": "x", "colour": "blue"})
    assert unknown.status == 422
    assert unknown.body["error"]["details"][0]["field"] == "colour"


def test_a_batch_is_all_or_nothing_and_names_the_row(api):
    rows = [{"external_id": f"C{i}", "name": f"N{i}"} for i in range(1, 4)]
    rows[2]["country"] = "France"
    bad = api.post("/customers/batch", {"rows": rows})
    assert bad.status == 422
    assert bad.body["error"]["details"] == [
        {"row": 3, "field": "country", "message": bad.body["error"]["details"][0]["message"]}
    ]
    assert not Customer.objects.exists()
    rows[2]["country"] = "FR"
    good = api.post("/customers/batch", {"rows": rows})
    assert good.status == 200
    assert (good.body["created"], good.body["updated"]) == (3, 0)
    same = api.post("/customers/batch", {"rows": rows})
    assert same.body["unchanged"] == 3
    assert Event.objects.filter(kind="import.customers", source__startswith="api:").count() == 2


def test_invoices_payments_and_what_is_still_due(api):
    _customer(api)
    issued = date(2026, 9, 1)
    made = api.post(
        "/invoices",
        {
            "external_id": "F1",
            "customer_id": "C1",
            "number": "F-2026-001",
            "issue_date": issued.isoformat(),
            "due_date": (issued + timedelta(days=30)).isoformat(),
            "currency": "EUR",
            "total": "1200.00",
        },
    )
    assert made.status == 201, made.body
    assert made.body["amount_due"] == "1200.00"
    paid = api.post(
        "/payments",
        {
            "external_id": "P1",
            "customer_id": "C1",
            "invoice_id": "F1",
            "date": "2026-10-05",
            "currency": "EUR",
            "amount": "200.00",
        },
    )
    assert paid.status == 201, paid.body
    assert api.get("/invoices/F1").body["amount_due"] == "1000.00"
    wrong = api.post(
        "/credit-notes",
        {
            "external_id": "A1",
            "customer_id": "C1",
            "invoice_id": "F1",
            "date": "2026-10-05",
            "currency": "USD",
            "amount": "10",
        },
    )
    assert wrong.status == 422
    assert wrong.body["error"]["details"][0]["field"] == "invoice_id"
    assert "is in EUR" in wrong.body["error"]["details"][0]["message"]
    backwards = api.put(
        "/invoices/F2",
        {
            "customer_id": "C1",
            "number": "F2",
            "issue_date": "2026-10-10",
            "due_date": "2026-10-01",
            "currency": "EUR",
            "total": "5",
        },
    )
    assert backwards.status == 422
    assert backwards.body["error"]["details"][0]["field"] == "due_date"
    assert api.get("/invoices?unpaid=true").body["data"][0]["external_id"] == "F1"
    assert api.get("/invoices?unpaid=false").body["data"] == []
    assert api.get("/payments?invoice_id=F1").body["data"][0]["amount"] == "200.00"


def test_lists_are_paged_by_cursor_and_filtered(api):
    rows = [
        {"external_id": f"C{i:02}", "name": f"N{i}", "segment": "smb" if i % 2 else "retail"}
        for i in range(25)
    ]
    assert api.post("/customers/batch", {"rows": rows}).status == 200
    seen, cursor = [], None
    while True:
        query = "?segment=smb&limit=5" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(f"/customers{query}").body
        seen += [c["external_id"] for c in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"C{i:02}" for i in range(25) if i % 2]
    bad = api.get("/customers?cursor=not-ours")
    assert bad.status == 422
    assert bad.body["error"]["details"][0]["field"] == "cursor"
    too_many = api.get("/customers?limit=100000")
    assert too_many.status == 422
    assert too_many.body["error"]["details"][0]["field"] == "limit"


def test_contacts_take_the_customers_country_for_phones(api):
    _customer(api, country="FR")
    made = api.post(
        "/contacts",
        {
            "external_id": "K1",
            "customer_id": "C1",
            "email": "compta@client.test",
            "phone": "01 42 68 53 00",
            "roles": ["billing"],
        },
    )
    assert made.status == 201, made.body
    assert made.body["phone"] == "+33142685300"
    assert made.body["roles"] == ["billing"]
    orphan = api.post("/contacts", {"external_id": "K2", "customer_id": "nobody"})
    assert orphan.status == 422
    assert "unknown customer" in orphan.body["error"]["details"][0]["message"]


def test_unknown_rows_are_404_with_the_error_body(api):
    missing = api.get("/invoices/nope")
    assert missing.status == 404
    assert missing.body == {
        "error": {
            "type": "not_found",
            "message": "no invoice 'nope' in company alpha",
            "details": [],
        }
    }
    assert not Invoice.objects.exists()


def test_text_no_database_can_hold_is_refused(api):
    for payload in ({"name": "Nul\u0000"}, {"name": "half \ud800 a pair"}):
        answer = api.put("/customers/C1", payload)
        assert answer.status == 422
        assert "NUL" in answer.body["error"]["message"]
    assert api.get("/customers/C%00").status == 422
    result = imports.import_rows("customers", [{"external_id": "C\x00", "name": "x"}], api.alpha)
    assert [(e.row, e.field) for e in result.errors] == [(1, "external_id")]
    assert not Customer.objects.exists()


def test_unknown_paths_and_methods_answer_in_the_error_body(api):
    missing = api.get("/nope")
    assert missing.status == 404
    assert missing.body["error"]["type"] == "not_found"
    wrong = api.call("DELETE", "/customers")
    assert wrong.status == 405
    assert wrong.body["error"]["type"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]
