"""Dunning over HTTP on a ledger loaded through the API itself: the same KPIs as `relance kpi`,
runs, the forecast, plans, holds, actions, promises and disputes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relance.models import ActionItem, Dispute, Execution, Promise, Run
from relance.services.dunning import plans
from tests import clock

PLANS = plans.SHIPPED


@pytest.fixture
def books(api):
    """DESIGN §5's hand-computed ledger (tests/services/test_kpi.py), loaded over HTTP."""
    rows = {
        "customers": [{"external_id": "C1", "name": "Acme", "country": "FR"}],
        "invoices": [
            _invoice("A", "2025-12-01", "2025-12-31", "1000.00"),
            _invoice("B", "2026-01-05", "2026-02-04", "600.00"),
            _invoice("C", "2026-01-10", "2026-01-20", "300.00"),
            _invoice("D", "2026-01-10", "2026-01-25", "200.00", "USD"),
        ],
        "payments": [_settlement("P1", None, "2026-01-10", "400.00")],
        "credit-notes": [_settlement("CN1", "C", "2026-01-15", "100.00")],
    }
    for kind, batch in rows.items():
        answer = api.post(f"/{kind}/batch", {"rows": batch})
        assert answer.status == 200, answer.body
    return api


def _invoice(ext, issued, due, total, currency="EUR"):
    return {
        "external_id": ext,
        "customer_id": "C1",
        "number": ext,
        "issue_date": issued,
        "due_date": due,
        "currency": currency,
        "total": total,
    }


def _settlement(ext, invoice, day, amount):
    row = {"external_id": ext, "customer_id": "C1", "date": day, "currency": "EUR"}
    return {**row, "amount": amount, "invoice_id": invoice}


def test_kpis_are_the_clis(books, relance):
    period = "from=2026-01-01&to=2026-01-31"
    answer = books.get(f"/kpi?{period}&currency=EUR")
    assert answer.status == 200, answer.body
    assert (answer.body["dso"], answer.body["best_possible_dso"], answer.body["cei"]) == (
        54.2,
        23.2,
        33.3,
    )
    assert answer.body == relance.json(
        "kpi",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-31",
        "--currency",
        "EUR",
        "--company",
        "alpha",
    )
    usd = books.get(f"/kpi?{period}&currency=USD").body
    assert usd["aging"]["1-30"] == "200.00"
    several = books.get(f"/kpi?{period}")  # EUR and USD owed, and the books are in EUR
    assert several.body["currency"] == "EUR"
    backwards = books.get("/kpi?from=2026-02-01&to=2026-01-01")
    assert backwards.status == 422
    assert books.get(f"/kpi?{period}", token="beta").body["dso"] is None  # beta sold nothing


def test_a_run_sends_once_and_says_what_it_did(api, new_customer, new_invoice):
    plans.load_plans((PLANS / "standard.yaml").read_text())
    customer = new_customer(api.alpha, "A1", "Dupont")
    new_invoice(customer, "I1", "1250.00", days_late=10)
    assigned = api.put("/customers/A1/plan", {"plan": "standard"}).body
    assert (assigned["reason"], assigned["reason_code"]) == ("explicit assignment", "plan.explicit")
    dry = api.post("/runs", {"dry_run": True})
    assert dry.status == 200, dry.body
    assert dry.body["run"] is None
    assert dry.body["actions"]
    assert not Execution.objects.exists()
    real = api.post("/runs", {})
    assert real.body["run"]["counts"]["actions"] == len(real.body["actions"]) >= 1
    again = api.post("/runs", {})
    assert again.body["actions"] == []  # nothing sends twice
    assert [r["id"] for r in api.get("/runs").body["data"]] == list(
        Run.objects.filter(company=api.alpha, dry_run=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ahead = api.post("/runs", {"date": (clock.today() + timedelta(days=3)).isoformat()})
    assert ahead.status == 422
    assert ahead.body["error"]["details"][0]["field"] == "date"
    today = clock.today()
    coming = api.get(f"/forecast?from={today}&to={today + timedelta(days=60)}")
    assert coming.status == 200
    assert all(item["customer"] == "A1" for item in coming.body)
    # the reason in English with ISO dates, and its stable code (domain.reasons)
    assert all(item["reason_code"] and "F-I1 " in item["reason"] for item in coming.body)
    french = api.get(
        f"/forecast?from={today}&to={today + timedelta(days=60)}", headers={"accept-language": "fr"}
    )
    assert [i["reason"] for i in french.body] == [i["reason"] for i in coming.body]
    assert api.get(f"/forecast?from={today}&to={today + timedelta(days=400)}").status == 422


def test_plans_holds_promises_and_disputes(api, new_customer, new_invoice):
    customer = new_customer(api.alpha, "A1", "Dupont")
    new_invoice(customer, "I1", "1250.00", days_late=10)
    assert api.put("/customers/A1/plan", {"plan": "nope"}).status == 422
    held = api.post("/customers/A1/hold", {"until": "2099-01-31"})
    assert held.body == {"customer_id": "A1", "hold_until": "2099-01-31"}

    promise = api.post(
        "/promises", {"customer_id": "A1", "invoice_ids": ["I1"], "pay_by": "2099-01-01"}
    )
    assert promise.status == 201, promise.body
    assert promise.body["invoice_ids"] == ["I1"]
    assert promise.body["status"] == "open"
    assert api.get("/promises?status=open").body["data"][0]["id"] == Promise.objects.get().pk
    unknown = api.post(
        "/promises", {"customer_id": "A1", "invoice_ids": ["X"], "pay_by": "2099-01-01"}
    )
    assert unknown.status == 422

    dispute = api.post("/disputes", {"invoice_id": "I1", "reason": "Goods damaged"})
    assert dispute.status == 201, dispute.body
    twice = api.post("/disputes", {"invoice_id": "I1"})
    assert twice.status == 422
    assert "already has an open dispute" in twice.body["error"]["message"]
    assert api.get("/disputes?open=true").body["data"][0]["reason"] == "Goods damaged"
    resolved = api.post(
        f"/disputes/{dispute.body['id']}/resolve", {"resolution": "Credit note sent"}
    )
    assert resolved.status == 200
    assert Dispute.objects.get().resolved_on is not None
    assert api.post(f"/disputes/{dispute.body['id']}/resolve", {}).status == 422
    assert api.post(f"/disputes/{dispute.body['id']}/resolve", {}, token="beta").status == 404


def test_the_actions_inbox(api, new_customer):
    customer = new_customer(api.alpha, "A1", "Dupont")
    item = ActionItem.objects.create(
        company=api.alpha,
        customer=customer,
        kind=ActionItem.Kind.CALL,
        title="Call Dupont",
        due_date=clock.today(),
    )
    listed = api.get("/actions").body["data"]
    assert [a["id"] for a in listed] == [item.pk]
    assert api.get("/actions", token="beta").body["data"] == []
    skip = api.post(f"/actions/{item.pk}/close", {"outcome": "done", "skip": True})
    assert skip.status == 422  # a skip says why
    stranger = api.post(f"/actions/{item.pk}/close", {"outcome": "done", "by": "who@else.test"})
    assert stranger.body["error"]["details"][0]["field"] == "by"
    done = api.post(f"/actions/{item.pk}/close", {"outcome": "reached", "note": "will pay"})
    assert done.status == 200, done.body
    assert (done.body["status"], done.body["outcome"]) == ("done", "reached")
    item.refresh_from_db()
    assert item.completed_by.email == "admin@alpha.test"  # the token's creator
    assert api.post(f"/actions/{item.pk}/close", {"outcome": "done"}, token="beta").status == 404


def test_plans_as_code(api, new_customer):
    definition = {
        "name": "Gentle",
        "steps": [
            {
                "name": "Reminder",
                "trigger": {"days": 7},
                "channel": "email",
                "recipients": ["role:billing"],
                "template": "first_reminder",
            }
        ],
    }
    made = api.put("/plans/gentle", definition)
    assert made.status == 201, made.body
    assert made.body["definition"]["steps"][0]["trigger"] == {"days": 7, "from": "due_date"}
    assert api.get("/plans/gentle").body["definition"] == made.body["definition"]
    assert "gentle" in [p["code"] for p in api.get("/plans").body]
    definition["steps"][0]["channel"] = "fax"
    wrong = api.put("/plans/gentle", definition)
    assert wrong.status == 422
    assert wrong.body["error"]["details"][0]["field"] == "steps[1].channel"
    assert api.get("/plans/gentle").body["definition"]["steps"][0]["channel"] == "email"
    definition["steps"][0]["channel"] = "email"
    definition["name"] = "Gentler"
    assert api.put("/plans/gentle", definition).status == 200
    new_customer(api.alpha, "A1", "Dupont")
    assert api.put("/customers/A1/plan", {"plan": "gentle"}).body["plan"] == "gentle"
    assert api.get("/plans/gentle", token="beta").status == 404
    assert api.put("/plans/other", definition, token="alpha_read").status == 403


def test_two_companies_keep_their_own_plan_of_the_same_code(api):
    """Issue 17, item 10: codes were global, so beta's PUT answered 409 "another company's plan"
    (telling beta that alpha has a plan of that code) and `plan load --company` moved the other
    company's plan. Each company now has its own plan of a code, and neither sees the other's."""
    definition = {
        "name": "Alpha's gentle plan",
        "steps": [
            {
                "name": "Reminder",
                "trigger": {"days": 7},
                "channel": "email",
                "recipients": ["role:billing"],
                "template": "first_reminder",
            }
        ],
    }
    assert api.put("/plans/gentle", definition).status == 201
    theirs = {**definition, "name": "Beta's gentle plan"}
    made = api.put("/plans/gentle", theirs, token="beta")
    assert made.status == 201, made.body
    assert api.get("/plans/gentle").body["definition"]["name"] == "Alpha's gentle plan"
    assert api.get("/plans/gentle", token="beta").body["definition"]["name"] == "Beta's gentle plan"
    plans.load_plans((PLANS / "standard.yaml").read_text())  # the library and every company
    assert api.put("/plans/standard", definition).status == 200  # alpha's own copy
    assert api.get("/plans/standard", token="beta").body["definition"]["name"] == "Standard B2B"
