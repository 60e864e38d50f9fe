"""Tokens: hashed, per company, read or read-write, revocable; no token, no answer."""

from __future__ import annotations

import hashlib

from relance.models import ApiToken, Customer
from relance.services.integrations import api_tokens


def test_tokens_are_kept_hashed(api):
    raw = api.tokens["alpha"]
    token = ApiToken.objects.get(name="alpha")
    assert token.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {t.secret_hash for t in ApiToken.objects.all()}
    assert raw.startswith(f"rl_{token.prefix}_")


def test_no_token_or_a_wrong_one_is_401(api):
    for headers in (
        {},
        {"Authorization": "Bearer rl_00000000_forged"},
        {"Authorization": "Basic x"},
    ):
        answer = api.call("GET", "/customers", token="", headers=headers)
        assert answer.status == 401
        assert answer.body["error"]["type"] == "authentication_failed"


def test_a_token_sees_only_its_own_company(api, new_customer):
    new_customer(api.alpha, "A1", "Alpha's customer")
    new_customer(api.beta, "B1", "Beta's customer")
    assert [c["external_id"] for c in api.get("/customers").body["data"]] == ["A1"]
    assert [c["external_id"] for c in api.get("/customers", token="beta").body["data"]] == ["B1"]
    assert api.get("/customers/B1").status == 404
    assert api.get("/customers/A1", token="beta").status == 404
    # Writing another company's id creates a row in one's own company, never touches theirs.
    api.put("/customers/B1", {"name": "Same id, other company"})
    assert Customer.objects.get(company=api.beta, external_id="B1").name == "Beta's customer"
    assert (
        Customer.objects.get(company=api.alpha, external_id="B1").name == "Same id, other company"
    )
    # Nor can one company's token act on the other's invoices, disputes or promises.
    assert api.post("/disputes", {"invoice_id": "anything"}, token="beta").status == 404


def test_a_read_only_token_cannot_write(api):
    answer = api.post("/customers", {"external_id": "C1", "name": "x"}, token="alpha_read")
    assert answer.status == 403
    assert answer.body["error"]["type"] == "permission_denied"
    assert api.get("/customers", token="alpha_read").status == 200
    assert not Customer.objects.exists()


def test_a_revoked_token_stops_at_once(api):
    assert api.get("/customers").status == 200
    api_tokens.revoke(ApiToken.objects.get(name="alpha"))
    assert api.get("/customers").status == 401


def test_the_schema_and_docs_are_public_and_local(client):
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "relance"
    assert "/api/v1/invoices/{external_id}" in schema["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()  # Swagger UI from our own static files


def test_tokens_from_the_command_line(api, relance):
    made = relance.json("token", "create", "--name", "nightly", "--write", "--company", "beta")
    assert (made["company"], made["scope"]) == ("beta", "write")
    answer = api.client.get(
        "/api/v1/customers", headers={"Authorization": f"Bearer {made['token']}"}
    )
    assert answer.status_code == 200
    listed = relance.json("token", "list", "--company", "beta")["tokens"]
    assert [t["name"] for t in listed] == ["nightly", "beta"]
    assert made["token"] not in str(listed)
    prefix = made["token"].split("_")[1]
    assert relance.json("token", "revoke", prefix)["revoked"] is True
    again = api.client.get(
        "/api/v1/customers", headers={"Authorization": f"Bearer {made['token']}"}
    )
    assert again.status_code == 401
    assert relance.json("token", "revoke", "ffffffff", code=1)["error"] == "unknown token"
