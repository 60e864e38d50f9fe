"""`Idempotency-Key` with Stripe's semantics, on every POST."""

from __future__ import annotations

from relance.models import ApiToken, Customer, IdempotencyKey, Promise
from relance.services.integrations import idempotency


def _key(k):
    return {"Idempotency-Key": k}


def test_a_retry_gets_the_first_answer_and_writes_nothing_more(api):
    body = {"external_id": "C1", "name": "First"}
    first = api.post("/customers", body, headers=_key("k-1"))
    assert first.status == 201
    retry = api.post("/customers", body, headers=_key("k-1"))
    assert (retry.status, retry.body) == (201, first.body)  # not the 409 a new request would get
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1
    fresh = api.post("/customers", body, headers=_key("k-2"))
    assert fresh.status == 409


def test_the_same_key_with_another_body_is_a_conflict(api):
    api.post("/customers", {"external_id": "C1", "name": "First"}, headers=_key("k"))
    other = api.post("/customers", {"external_id": "C2", "name": "Second"}, headers=_key("k"))
    assert other.status == 409
    assert other.body["error"]["type"] == "idempotency_key_reused"
    assert not Customer.objects.filter(external_id="C2").exists()


def test_keys_are_per_token(api):
    body = {"external_id": "C1", "name": "First"}
    assert api.post("/customers", body, headers=_key("shared")).status == 201
    assert api.post("/customers", body, headers=_key("shared"), token="beta").status == 201
    assert Customer.objects.count() == 2


def test_an_error_answer_is_replayed_too(api, new_customer, new_invoice):
    customer = new_customer(api.alpha, "A1", "Dupont")
    new_invoice(customer, "I1", "100.00", days_late=5)
    body = {"customer_id": "A1", "invoice_ids": ["I1"], "pay_by": "2000-01-01"}
    refused = api.post("/promises", body, headers=_key("p"))
    assert refused.status == 422
    assert api.post("/promises", body, headers=_key("p")).body == refused.body
    good = {**body, "pay_by": "2099-01-01"}
    made = api.post("/promises", good, headers=_key("p2"))
    assert made.status == 201, made.body
    assert api.post("/promises", good, headers=_key("p2")).body == made.body
    assert Promise.objects.count() == 1


def test_a_key_still_running_is_a_conflict_and_an_empty_key_is_refused(api):
    token = ApiToken.objects.get(name="alpha")

    body = b'{"external_id": "C1", "name": "x"}'
    print_ = idempotency.fingerprint("POST", "/api/v1/customers", body)
    assert idempotency.begin(token, "busy", print_) is None  # as a first request would
    busy = api.post("/customers", {"external_id": "C1", "name": "x"}, headers=_key("busy"))
    assert busy.status == 409
    assert busy.body["error"]["type"] == "idempotency_key_in_use"
    assert (
        api.post("/customers", {"external_id": "C1", "name": "x"}, headers=_key("")).status == 400
    )
    assert IdempotencyKey.objects.count() == 1
