"""Mappings and file uploads over the API: the same reader and mappings as the CLI."""

from __future__ import annotations

import json
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from relance.models import Customer, Invoice, Payment, SavedMapping

FRENCH = (
    "external_id;customer_id;number;issue_date;due_date;currency;total\r\n"
    "F-1;C1;F-1 é;31/01/2026;02/03/2026;EUR;1 234,56\r\n"
).encode("cp1252")
BALANCE = """\
kind: invoices
columns: {external_id: "N° facture", customer_id: "Code client", number: "N° facture",
          issue_date: "Date", due_date: "Échéance", total: "Montant TTC"}
open_amount: "Reste dû"
"""


def upload(api, kind, data, name="file.csv", token="alpha", **form):
    return api.client.post(
        f"/api/v1/imports/{kind}",
        {"file": SimpleUploadedFile(name, data), **form},
        headers={"Authorization": f"Bearer {api.tokens[token]}"},
    )


def _customer(api):
    Customer.objects.create(
        company=api.alpha,
        external_id="C1",
        name="Dupont",
        currency="EUR",
        country="FR",
        time_zone="Europe/Paris",
    )


def test_upload_a_french_csv(api):
    _customer(api)
    response = upload(api, "invoices", FRENCH)
    assert response.status_code == 200, response.content
    out = json.loads(response.content)
    assert (out["created"], out["format"]) == (
        1,
        {"encoding": "Windows-1252", "delimiter": ";", "sheet": None},
    )
    assert Invoice.objects.get().total == Decimal("1234.56")
    again = json.loads(upload(api, "invoices", FRENCH).content)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)


def test_a_bad_file_is_refused_whole_with_rows(api):
    response = upload(api, "invoices", FRENCH)  # no customer C1
    assert response.status_code == 422
    error = json.loads(response.content)["error"]
    assert error["details"][0]["row"] == 2
    assert error["details"][0]["field"] == "customer_id"
    assert not Invoice.objects.exists()


def test_read_only_tokens_cannot_upload_or_save(api):
    assert upload(api, "invoices", FRENCH, token="alpha_read").status_code == 403
    answer = api.put("/mappings/mine", {"yaml": BALANCE}, token="alpha_read")
    assert answer.status == 403


@override_settings(RELANCE_MAX_API_REQUEST_BYTES=1000)
def test_too_big_a_file_is_refused(api):
    response = upload(api, "invoices", FRENCH + b"x" * 2000)
    assert response.status_code == 413
    assert json.loads(response.content)["error"]["type"] == "payload_too_large"


def test_mappings_list_get_save_and_import_through_one(api):
    _customer(api)
    names = {m["name"] for m in api.get("/mappings").body}
    assert {"xero-invoices", "odoo-invoices", "aged-balance"} <= names
    assert "InvoiceAmountDue" in api.get("/mappings/xero-invoices").body["yaml"]
    assert api.get("/mappings/nope").status == 404
    saved = api.put("/mappings/balance", {"yaml": BALANCE})
    assert (saved.status, saved.body["source"]) == (201, "saved")
    assert api.put("/mappings/balance", {"yaml": BALANCE}).status == 200
    bad = api.put("/mappings/bad", {"yaml": "kind: invoices\ncolumns: {external_id: A}"})
    assert bad.status == 422
    assert "`columns.customer_id`" in bad.body["error"]["message"]
    assert api.get("/mappings/balance", token="beta").status == 404  # another company's
    data = (
        "N° facture,Code client,Date,Échéance,Montant TTC,Reste dû\n"
        "F-9,C1,2026-01-10,2026-02-09,100.00,40.00\n"
    ).encode()
    out = json.loads(upload(api, "invoices", data, mapping="balance").content)
    assert out["created"] == 1
    assert out["settled"] == {"created": 1, "updated": 0, "deleted": 0}
    assert Payment.objects.get().amount == Decimal("60.00")
    assert SavedMapping.objects.filter(company=api.alpha).count() == 1


def test_an_inline_mapping_and_never_a_server_path(api):
    _customer(api)
    data = (
        b"N\xc2\xb0 facture,Code client,Date,\xc3\x89ch\xc3\xa9ance,Montant TTC,Reste d\xc3\xbb\n"
    )
    assert upload(api, "invoices", data, mapping_yaml=BALANCE).status_code == 200
    refused = upload(api, "invoices", data, mapping="/etc/passwd")
    assert refused.status_code == 404
