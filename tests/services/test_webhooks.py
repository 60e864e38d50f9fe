"""Outgoing webhooks: each subscribed event reaches a real HTTP endpoint once, signed and
timestamped, retried with backoff until it is taken, dead after the last try; nothing is told
about work that was rolled back, and a company's endpoints hear only its own events."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from relance.models import Contact, Promise, WebhookDelivery
from relance.services.dialogue import pauses
from relance.services.dunning import outbox, plans
from relance.services.dunning.run import run as run_cycle
from relance.services.integrations import webhooks
from relance.services.ledger import imports, lookup
from tests import clock

PLANS = plans.SHIPPED


@pytest.fixture
def local(settings):
    """The test receivers listen on this machine: an operator's allow list lets them in."""
    settings.RELANCE_WEBHOOK_ALLOW = "127.0.0.1"


@pytest.fixture
def endpoint(company, receiver, local):
    return webhooks.subscribe(company, receiver.url, webhooks.EVENT_TYPES)


def _events(receiver):
    return [json.loads(r["body"]) for r in receiver.received]


def test_a_subscription_needs_a_url_and_known_events(company):
    with pytest.raises(webhooks.WebhookRefused, match="not an http"):
        webhooks.subscribe(company, "ftp://example.test/", ["dispute.opened"])
    with pytest.raises(webhooks.WebhookRefused, match="unknown events"):
        webhooks.subscribe(company, "https://example.test/", ["invoice.eaten"])
    with pytest.raises(webhooks.WebhookRefused, match="at least one"):
        webhooks.subscribe(company, "https://example.test/", [])
    made = webhooks.subscribe(company, " https://example.test/h ", ["dispute.resolved"])
    assert made.url == "https://example.test/h"
    assert made.secret.startswith("whsec_")


def test_disputes_and_promises_are_posted_signed(
    company, endpoint, receiver, new_customer, new_invoice
):
    customer = new_customer(company, "C1", "Dupont")
    new_invoice(customer, "I1", "500.00", days_late=3)
    today = clock.today()
    pauses.open_dispute(lookup.invoice("I1", company), today, reason="wrong quantity")
    pauses.resolve_dispute(lookup.invoice("I1", company), today, resolution="credit note")
    pauses.add_promise(
        customer, lookup.invoices_of(customer, ["I1"]), today + timedelta(days=7), today
    )
    assert webhooks.deliver_due() == {"delivered": 3, "retrying": 0, "dead": 0, "deferred": 0}
    events = _events(receiver)
    assert [e["type"] for e in events] == ["dispute.opened", "dispute.resolved", "promise.created"]
    assert events[0]["data"]["reason"] == "wrong quantity"
    assert events[0]["data"]["invoice_id"] == "I1"
    assert events[2]["data"]["invoice_ids"] == ["I1"]
    for posted in receiver.received:
        header = posted["headers"]["Relance-Signature"]
        assert webhooks.verify(endpoint.secret, header, posted["body"])
        assert not webhooks.verify(endpoint.secret, header, posted["body"] + b" ")
        assert not webhooks.verify("whsec_other", header, posted["body"])
        at = int(header.split(",")[0][2:])
        assert not webhooks.verify(endpoint.secret, header, posted["body"], now=at + 301)
    assert webhooks.deliver_due()["delivered"] == 0  # once each


def test_payments_imported_are_told_but_not_a_dry_run(company, endpoint, receiver, new_customer):
    new_customer(company, "C1", "Dupont")
    row = {"external_id": "P1", "customer_id": "C1", "date": "2026-11-02", "currency": "EUR"}
    imports.import_rows("payments", [{**row, "amount": "120.50"}], company, dry_run=True)
    assert not WebhookDelivery.objects.exists()
    bad = [{**row, "amount": "120.50"}, {**row, "external_id": "P2", "amount": "-1"}]
    assert not imports.import_rows("payments", bad, company).ok
    assert not WebhookDelivery.objects.exists()  # the file was rolled back: nobody is told
    imports.import_rows("payments", [{**row, "amount": "120.50"}], company)
    imports.import_rows("payments", [{**row, "amount": "120.50"}], company)  # unchanged
    webhooks.deliver_due()
    [event] = _events(receiver)
    assert event["type"] == "payment.received"
    assert event["data"] == {
        "external_id": "P1",
        "customer_id": "C1",
        "invoice_id": None,
        "date": "2026-11-02",
        "currency": "EUR",
        "amount": "120.50",
    }


def test_the_cycle_tells_reminders_actions_and_broken_promises(
    company, endpoint, receiver, new_customer, new_invoice, smtp
):
    plans.load_plans((PLANS / "standard.yaml").read_text())
    today = clock.today()
    mailed = new_customer(company, "C1", "Dupont")
    new_invoice(mailed, "I1", "500.00", days_late=16)  # the email "Payment reminder"
    Contact.objects.create(
        company=company, customer=mailed, external_id="K1", email="a@dupont.test", roles=["billing"]
    )
    called = new_customer(company, "C3", "Durand")
    new_invoice(called, "I3", "700.00", days_late=46)  # "Account owner call": an action item
    promised = new_customer(company, "C2", "Martin")
    new_invoice(promised, "I2", "900.00", days_late=20)
    promise = pauses.add_promise(
        promised,
        lookup.invoices_of(promised, ["I2"]),
        today - timedelta(days=2),
        today - timedelta(days=9),
    )
    for customer in (mailed, called, promised):
        plans.assign_plan(customer, "standard")
    run_cycle(today, company_id=company.pk, deliver=False)
    outbox.deliver_due(as_of=today, now=timezone.now() + timedelta(days=4))  # in hours
    assert Promise.objects.get(pk=promise.pk).status == Promise.Status.BROKEN
    webhooks.deliver_due()
    by_type = {}
    for e in _events(receiver):
        by_type.setdefault(e["type"], []).append(e["data"])
    assert [d["customer_id"] for d in by_type["reminder.sent"]] == ["C1"]
    assert by_type["reminder.sent"][0]["step"] == "Payment reminder"
    assert by_type["reminder.sent"][0]["invoice_ids"] == ["I1"]
    assert by_type["reminder.sent"][0]["to"] == ["a@dupont.test"]
    assert [d["customer_id"] for d in by_type["action.created"]] == ["C3"]
    assert by_type["action.created"][0]["kind"] == "call"
    assert [d["id"] for d in by_type["promise.broken"]] == [promise.pk]


def test_failures_are_retried_with_backoff_then_dead(
    company, endpoint, receiver, new_customer, new_invoice
):
    customer = new_customer(company, "C1", "Dupont")
    new_invoice(customer, "I1", "500.00", days_late=3)
    pauses.open_dispute(lookup.invoice("I1", company), clock.today())
    receiver.statuses = [500] * webhooks.MAX_ATTEMPTS
    now = timezone.now()
    assert webhooks.deliver_due(now)["retrying"] == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.last_status_code, delivery.last_error) == (500, "answered 500")
    assert delivery.next_attempt_at == now + timedelta(minutes=1)
    assert webhooks.deliver_due(now + timedelta(seconds=30))["retrying"] == 0  # not yet
    for wait in webhooks.BACKOFF:
        now += wait
        webhooks.deliver_due(now)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DEAD
    assert delivery.attempts == webhooks.MAX_ATTEMPTS == len(receiver.received)
    ids = {json.loads(r["body"])["id"] for r in receiver.received}
    assert len(ids) == 1  # the same event id on every try, for the receiver to deduplicate
    webhooks.retry(delivery)
    assert webhooks.deliver_due()["delivered"] == 1


def test_only_subscribed_events_of_ones_own_company(
    company, receiver, local, new_customer, new_invoice
):
    from relance.models import Company

    other = Company.objects.create(code="other", name="Other", country="FR", currency="EUR")
    webhooks.subscribe(other, receiver.url, webhooks.EVENT_TYPES)
    webhooks.subscribe(company, receiver.url, ["dispute.resolved"])
    customer = new_customer(company, "C1", "Dupont")
    new_invoice(customer, "I1", "500.00", days_late=3)
    pauses.open_dispute(lookup.invoice("I1", company), clock.today())
    assert not WebhookDelivery.objects.exists()
    pauses.resolve_dispute(lookup.invoice("I1", company), clock.today())
    assert WebhookDelivery.objects.get().endpoint.company == company


def test_an_unreachable_endpoint_is_a_failure_not_a_crash(
    company, local, new_customer, new_invoice
):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhooks.subscribe(company, f"http://127.0.0.1:{port}/", ["dispute.opened"])
    customer = new_customer(company, "C1", "Dupont")
    new_invoice(customer, "I1", "500.00", days_late=3)
    new_invoice(customer, "I2", "80.00", days_late=3)
    pauses.open_dispute(lookup.invoice("I1", company), clock.today())
    pauses.open_dispute(lookup.invoice("I2", company), clock.today())
    assert webhooks.deliver_due() == {"delivered": 0, "retrying": 1, "dead": 0, "deferred": 1}
    tried = WebhookDelivery.objects.get(attempts=1)
    assert (tried.last_status_code, tried.last_error) == (None, "could not connect")


def _dead_port():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_company_with_many_deliveries_to_a_dead_endpoint_does_not_starve_another(
    company, receiver, local, new_customer, new_invoice
):
    """Deliveries are taken company by company: a backlog of company A's (to a dead URL) does
    not fill the pass before company B's turn, and costs A a single try."""
    from relance.models import Company

    webhooks.subscribe(company, f"http://127.0.0.1:{_dead_port()}/", ["dispute.opened"])
    customer = new_customer(company, "C1", "Dupont")
    for n in range(5):
        new_invoice(customer, f"I{n}", "10.00", days_late=3)
        pauses.open_dispute(lookup.invoice(f"I{n}", company), clock.today())
    other = Company.objects.create(code="other", name="Other", country="FR", currency="EUR")
    webhooks.subscribe(other, receiver.url, ["dispute.opened"])
    new_invoice(new_customer(other, "B1", "Smith"), "B-I1", "10.00", days_late=3)
    pauses.open_dispute(lookup.invoice("B-I1", other), clock.today())
    counts = webhooks.deliver_due(limit=3)
    assert counts == {"delivered": 1, "retrying": 1, "dead": 0, "deferred": 2}
    assert len(receiver.received) == 1
    tried = WebhookDelivery.objects.filter(endpoint__company=company, attempts=1)
    assert tried.count() == 1  # one try for the dead URL in the pass, not five


def test_a_company_whose_pass_takes_its_budget_leaves_the_rest_to_the_next_pass(
    company, receiver, local, new_customer, new_invoice
):
    """Two dead endpoints of company A: with no time to spare, A gets one post in the pass, its
    other endpoint waits (due at once next pass, not leased), and company B is still served."""
    from relance.models import Company

    for _ in range(2):
        webhooks.subscribe(company, f"http://127.0.0.1:{_dead_port()}/", ["dispute.opened"])
    new_invoice(new_customer(company, "C1", "Dupont"), "I1", "10.00", days_late=3)
    pauses.open_dispute(lookup.invoice("I1", company), clock.today())
    other = Company.objects.create(code="other", name="Other", country="FR", currency="EUR")
    webhooks.subscribe(other, receiver.url, ["dispute.opened"])
    new_invoice(new_customer(other, "B1", "Smith"), "B-I1", "10.00", days_late=3)
    pauses.open_dispute(lookup.invoice("B-I1", other), clock.today())
    now = timezone.now()
    counts = webhooks.deliver_due(now, budget_seconds=0)
    assert counts == {"delivered": 1, "retrying": 1, "dead": 0, "deferred": 1}
    assert len(receiver.received) == 1
    waiting = WebhookDelivery.objects.get(endpoint__company=company, attempts=0)
    assert waiting.next_attempt_at <= now  # given back, first in line for the next pass
    assert webhooks.deliver_due(now + timedelta(seconds=1))["retrying"] == 1


def test_one_companys_pass(company, receiver, local, new_customer, new_invoice):
    from relance.models import Company

    other = Company.objects.create(code="other", name="Other", country="FR", currency="EUR")
    for owner, code in ((company, "A"), (other, "B")):
        webhooks.subscribe(owner, receiver.url, ["dispute.opened"])
        new_invoice(new_customer(owner, f"{code}1", "X"), f"{code}-I1", "10.00", days_late=3)
        pauses.open_dispute(lookup.invoice(f"{code}-I1", owner), clock.today())
    assert webhooks.deliver_due(company_id=other.pk)["delivered"] == 1
    assert WebhookDelivery.objects.get(status="delivered").endpoint.company == other
