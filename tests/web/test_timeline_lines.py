"""The customer page's timeline reads as sentences: who did what, about which invoice (its number,
linked), amounts and dates in the reader's language; raw data only for admins, hostile text
escaped."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from relance.models import Event, Execution, Invoice, OutboxMessage, Payment, Plan
from relance.services.dialogue import pauses
from relance.services.dunning.plans import load_plans
from relance.services.organisation import hours

STANDARD = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"


@pytest.fixture
def history(world):
    """A customer with a promise, a dispute, a hold, a note, a payment, a step and its message,
    each recorded by Claire (the credit controller)."""
    claire = world.users["controller"]
    claire.first_name, claire.last_name = "Claire", "Martin"
    claire.save()
    dupont = world.customers["dupont"]
    today = hours.company_today(world.alpha)
    i1, i2 = Invoice.objects.get(external_id="I1"), Invoice.objects.get(external_id="I2")
    pauses.add_promise(dupont, [i2], date(2026, 12, 18), today, source="web", actor=claire)
    pauses.open_dispute(
        i1, today, reason="Wrong <script>alert(1)</script> price", source="web", actor=claire
    )
    pauses.hold(dupont, today + timedelta(days=10), source="web", actor=claire)
    pauses.add_note(dupont, "Called <b>Jeanne</b>", source="web", actor=claire)
    Payment.objects.create(
        company=world.alpha,
        customer=dupont,
        external_id="P9",
        date=today,
        currency="EUR",
        amount=Decimal("10953.9700"),
    )
    load_plans(STANDARD.read_text(encoding="utf-8"), company=world.alpha)
    Plan.objects.filter(code="standard").update(name="Standard")
    execution = Execution.objects.create(
        key="k1",
        company=world.alpha,
        customer=dupont,
        plan_code="standard",
        step_name="Payment reminder",
        step_index=1,
        reference_invoice=i1,
        reference_external_id="I1",
        date=today,
        status=Execution.Status.EXECUTED,
        reason="10 days after the due date",
        channel="email",
        mode="auto",
        customer_facing=True,
        invoices=["I1"],
        totals={"EUR": "1250.00"},
    )
    OutboxMessage.objects.create(
        key="m1",
        company=world.alpha,
        customer=dupont,
        execution=execution,
        channel="email",
        status=OutboxMessage.Status.SENT,
        to=["jeanne@dupont.test"],
        subject="Invoice F-I1 is overdue",
        invoice_ids=[i1.pk],
        sent_at=execution.created_at,
    )
    return world


def _timeline(world, user: str, language: str = "en") -> str:
    url = reverse("customer", args=[world.customers["dupont"].pk])
    page = world.client(user, language).get(url).content.decode()
    return page[page.index('<ol class="timeline">') :]


def _invoice_link(number: str) -> str:
    pk = Invoice.objects.get(number=number).pk
    return f'<a href="{reverse("invoice", args=[pk])}">{number}</a>'


def _raw_free(timeline: str) -> None:
    shown = re.sub(r"<details.*?</details>", "", timeline, flags=re.S)
    assert "{'" not in shown
    assert ".0000" not in shown
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", shown)
    assert "action.done" not in shown


def test_each_event_reads_as_a_sentence_in_english(history):
    timeline = _timeline(history, "controller")
    i1, i2 = _invoice_link("F-I1"), _invoice_link("F-I2")
    assert f"Claire Martin recorded a promise to pay {i2} by 18 December 2026" in timeline
    assert f"Claire Martin opened a dispute on {i1}: Wrong" in timeline
    assert "Claire Martin put the customer on hold until" in timeline
    assert "Claire Martin added a note: Called &lt;b&gt;Jeanne&lt;/b&gt;" in timeline
    assert "Payment P9 of €10,953.97 received" in timeline
    assert "Payment reminder sent by email (plan Standard)" in timeline
    assert "10 days after the due date" in timeline  # the engine's reason, secondary
    assert "Sent by email to jeanne@dupont.test: Invoice F-I1 is overdue" in timeline
    assert f"Invoice {i1} issued for €1,250.00" in timeline
    _raw_free(timeline)


def test_each_event_reads_as_a_sentence_in_french(history):
    timeline = _timeline(history, "controller", "fr")
    assert "18 décembre 2026" in timeline
    assert "10\u202f953,97\u00a0€" in timeline
    assert "1\u202f250,00\u00a0€" in timeline
    assert _invoice_link("F-I2") in timeline
    _raw_free(timeline)


def test_hostile_text_is_escaped(history):
    timeline = _timeline(history, "admin")
    assert "<script>" not in timeline
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in timeline
    assert "<b>Jeanne</b>" not in timeline


def test_the_details_toggle_is_for_admins_only(history):
    assert "<details" in _timeline(history, "admin")
    assert "pay_by" in _timeline(history, "admin")
    for user in ("controller", "reader"):
        timeline = _timeline(history, user)
        assert "<details" not in timeline
        assert "pay_by" not in timeline


def test_an_unknown_kind_is_humanised(history):
    Event.objects.create(
        company=history.alpha,
        customer=history.customers["dupont"],
        kind="loyalty.card_sent",
        source="web",
        data={"level": "gold"},
    )
    timeline = _timeline(history, "controller")
    assert "Loyalty card sent (by relance)" in timeline
    assert "gold" not in timeline


def test_hundreds_of_events_cost_no_more_queries_than_a_few(history, django_assert_max_num_queries):
    """Invoice numbers, plans and actors are read once per timeline, not per entry."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        _timeline(history, "admin")
    dupont, claire = history.customers["dupont"], history.users["controller"]
    Event.objects.bulk_create(
        Event(
            company=history.alpha,
            customer=dupont,
            actor=claire,
            kind="promise.created",
            source="web",
            data={"pay_by": "2026-12-18", "invoices": ["I1", "I2"]},
        )
        for _ in range(300)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "recorded a promise to pay" in _timeline(history, "admin")


def test_a_dispute_from_the_portal_names_the_customer_and_its_deadlines(world):
    from datetime import UTC, datetime

    invoice = Invoice.objects.get(external_id="I1")
    raised = datetime(2026, 12, 1, 12, 4, 25, 285688, tzinfo=UTC)
    claim = pauses.Claim(
        category="price",
        proof="",
        opened_at=raised,
        acknowledge_by=raised + timedelta(days=7),
        resolve_by=raised + timedelta(days=30),
    )
    pauses.open_dispute(invoice, raised.date(), reason="Too much", source="portal", claim=claim)
    timeline = _timeline(world, "controller")
    assert f"The customer opened a dispute on {_invoice_link('F-I1')}: Too much" in timeline
    # Paris is UTC+1 in December: the company's zone, minutes without seconds.
    assert "To acknowledge by 8 December 2026 13:04, to resolve by 31 December 2026 13:04" in (
        timeline
    )
    _raw_free(timeline)
