"""The journal: an event lands on the timelines its subject belongs to (company, customer,
invoice), the kinds outside systems subscribe to are queued for the webhooks in the same
transaction, and nothing is queued (nor built) when nobody listens."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder as JSON
from django.db import transaction

from relance.models import Dispute, Event, PaymentPlan, Promise, WebhookDelivery
from relance.services.integrations import resources, webhooks
from relance.services.organisation import journal

DAY = date(2026, 3, 2)


@pytest.fixture
def ledger(company, new_customer, new_invoice):
    customer = new_customer(company, "C1", "Dupont")
    invoice = new_invoice(customer, "I1", "500.00", days_late=3)
    dispute = Dispute.objects.create(
        company=company, customer=customer, invoice=invoice, opened_on=DAY, reason="quantity"
    )
    promise = Promise.objects.create(
        company=company, customer=customer, promised_on=DAY, pay_by=DAY
    )
    promise.invoices.set([invoice])
    return customer, invoice, dispute, promise


def _where(event: Event) -> tuple[int, int | None, int | None]:
    stored = Event.objects.get(pk=event.pk)
    return stored.company_id, stored.customer_id, stored.invoice_id


def test_an_event_belongs_where_its_subject_does(company, ledger, django_user_model):
    customer, invoice, dispute, promise = ledger
    plan = PaymentPlan.objects.create(
        company=company, customer=customer, currency="EUR", total="500.00", source="portal"
    )
    clerk = django_user_model.objects.create_user("clerk", "clerk@example.test", "x")
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    on_company = journal.record("plan.loaded", company, source="cli", data={"plan": "P"})
    on_customer = journal.record("note.added", customer, actor=clerk, source="web", at=at)
    on_invoice = journal.record("invoice.seen", invoice, source="web")
    on_dispute = journal.record("dispute.acknowledged", dispute, source="web")
    on_promise = journal.record("promise.noted", promise, source="web")
    on_plan = journal.record("payment_plan.accepted", plan, source="portal")

    assert _where(on_company) == (company.pk, None, None)
    assert _where(on_customer) == (company.pk, customer.pk, None)
    assert _where(on_invoice) == (company.pk, customer.pk, invoice.pk)
    assert _where(on_dispute) == (company.pk, customer.pk, invoice.pk)
    assert _where(on_promise) == (company.pk, customer.pk, None)  # several invoices: the customer
    assert _where(on_plan) == (company.pk, customer.pk, None)
    stored = Event.objects.get(pk=on_customer.pk)
    assert (stored.actor_id, stored.at, stored.source, stored.data) == (clerk.pk, at, "web", {})
    assert Event.objects.get(pk=on_company.pk).data == {"plan": "P"}


def test_an_anonymous_actor_is_recorded_as_nobody(company):
    event = journal.record("company.updated", company, actor=AnonymousUser(), source="web")
    assert Event.objects.get(pk=event.pk).actor_id is None


def test_a_kind_with_a_topic_is_queued_for_the_endpoints_that_subscribed(company, ledger):
    _, _, dispute, _ = ledger
    endpoint = webhooks.subscribe(company, "https://example.test/h", ["dispute.opened"])
    journal.record("dispute.opened", dispute, source="cli", data={"on": DAY.isoformat()})
    [queued] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert (queued.event_id, queued.event_type) == (
        f"dispute.opened:{dispute.pk}",
        "dispute.opened",
    )
    assert queued.payload["data"] == json.loads(json.dumps(resources.dispute(dispute), cls=JSON))
    journal.record("dispute.acknowledged", dispute, source="web")  # no topic: nothing more
    assert WebhookDelivery.objects.count() == 1


def test_nothing_is_queued_when_nobody_listens_to_the_topic(company, ledger):
    _, _, dispute, promise = ledger
    webhooks.subscribe(company, "https://example.test/h", ["payment.received"])
    journal.record("dispute.opened", dispute, source="cli")
    journal.record("promise.created", promise, source="cli")
    assert not journal.listened(company.pk, "dispute.opened")
    assert journal.listened(company.pk, "payment.received")
    assert not WebhookDelivery.objects.exists()
    assert Event.objects.filter(kind__in=["dispute.opened", "promise.created"]).count() == 2


def test_a_rolled_back_event_tells_nobody(company, ledger):
    _, _, dispute, _ = ledger
    webhooks.subscribe(company, "https://example.test/h", ["dispute.resolved"])
    with transaction.atomic():
        journal.record("dispute.resolved", dispute, source="cli")
        transaction.set_rollback(True)
    assert not Event.objects.filter(kind="dispute.resolved").exists()
    assert not WebhookDelivery.objects.exists()


def test_the_cycles_rows_are_inserted_and_broken_promises_told(company, ledger):
    customer, invoice, _, promise = ledger
    webhooks.subscribe(company, "https://example.test/h", ["promise.broken"])
    now = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
    rows = [
        journal.row(
            "promise.broken",
            customer,
            invoice_id=invoice.pk,
            source="cycle",
            data={"promise": promise.pk, "key": "k1"},
            at=now,
        ),
        journal.row("promise.kept", customer, source="cycle", data={"promise": 0}, at=now),
    ]
    journal.record_rows(rows)
    broken = Event.objects.get(kind="promise.broken")
    assert (broken.customer_id, broken.invoice_id, broken.at) == (customer.pk, invoice.pk, now)
    assert Event.objects.filter(kind="promise.kept").exists()
    assert list(WebhookDelivery.objects.values_list("event_id", flat=True)) == [
        f"promise.broken:{promise.pk}"
    ]


def test_many_events_in_one_statement_but_not_those_the_webhooks_hear_of(company, ledger):
    customer = ledger[0]
    journal.record_many(
        [
            journal.entry("sales_rep.notified", customer, source="scheduler", data={"n": n})
            for n in (1, 2)
        ]
    )
    assert Event.objects.filter(kind="sales_rep.notified", customer=customer).count() == 2
    with pytest.raises(AssertionError):
        journal.record_many([journal.entry("promise.created", ledger[3], source="cli")])
