"""The customer page's header answers at a glance: owed, overdue and late fees per currency, the
states that hold dunning, open tasks and who holds them, the last and next contact; a hold is
lifted early from there."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from relance.models import ActionItem, Customer, Event, Execution, Promise
from tests import clock


def _glance(client, customer) -> str:
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    return re.search(r'<section class="card glance" id="glance">(.*?)</section>', html, re.S)[1]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("\u202f", " ").split())


def test_owed_overdue_and_fees_are_told_apart(world):
    """Dupont owes 1,250.00 ten days late and 300.00 due in twenty days."""
    shown = _text(_glance(world.client("controller"), world.customers["dupont"]))
    assert "Owed" in shown
    assert "€1,550.00" in shown
    assert "Overdue €1,250.00" in shown
    assert "Late fees €" in shown  # ECB + 10 points on 1,250.00 for 10 days, and €40


def test_the_states_tasks_and_contacts_are_in_the_header(world):
    dupont = world.customers["dupont"]
    today = clock.today()
    Customer.objects.filter(pk=dupont.pk).update(hold_until=today + timedelta(days=5))
    promise = Promise.objects.create(
        company=world.alpha,
        customer=dupont,
        promised_on=today,
        pay_by=today + timedelta(days=3),
        amount=Decimal("500.00"),
        currency="EUR",
    )
    promise.invoices.set(dupont.invoices.all())
    Execution.objects.create(
        key="x1",
        company=world.alpha,
        customer=dupont,
        step_name="Payment reminder",
        date=today - timedelta(days=2),
        status=Execution.Status.EXECUTED,
        reason="test",
        channel="email",
        mode="auto",
        customer_facing=True,
    )
    task = ActionItem.objects.create(
        company=world.alpha,
        customer=dupont,
        kind=ActionItem.Kind.CALL,
        title="Call Boulangerie Dupont",
        due_date=today,
    )
    world.users["controller"].first_name, world.users["controller"].last_name = "Claire", "Martin"
    world.users["controller"].save()
    task.assignees.set([world.users["controller"]])
    client = world.client("controller")
    html = client.get(f"/customers/{dupont.pk}/").content.decode()
    states = _text(
        re.search(r'<span class="states" id="states">(.*?)</span>\s*</div>', html, re.S)[1]
    )
    assert "On hold until" in states
    assert "Promised to pay by" in states
    assert "€500.00" in states
    shown = _text(_glance(client, dupont))
    assert "Call Boulangerie Dupont" in shown
    assert "Claire Martin" in shown
    assert "Payment reminder (email)" in shown  # the last contact

    answer = client.post(f"/customers/{dupont.pk}/release/", follow=True)
    assert "The hold is lifted" in answer.content.decode()
    assert Customer.objects.get(pk=dupont.pk).hold_until is None
    assert Event.objects.get(kind="customer.released").actor == world.users["controller"]
    again = client.post(f"/customers/{dupont.pk}/release/", follow=True)
    assert "not on hold" in again.content.decode()


def test_only_those_who_act_lift_a_hold(world):
    dupont = world.customers["dupont"]
    Customer.objects.filter(pk=dupont.pk).update(hold_until=clock.today() + timedelta(days=5))
    reader = world.client("reader")
    assert "Lift the hold" not in reader.get(f"/customers/{dupont.pk}/").content.decode()
    assert reader.post(f"/customers/{dupont.pk}/release/").status_code == 403
    assert world.client("beta_admin").post(f"/customers/{dupont.pk}/release/").status_code == 404
    assert Customer.objects.get(pk=dupont.pk).hold_until is not None


def test_the_header_in_french(world):
    shown = _text(_glance(world.client("controller", "fr"), world.customers["dupont"]))
    assert "1 550,00 €" in shown.replace("\u00a0", " ")
