"""Payment plans: asked for on the portal within the company's rules, decided by staff (or at once
below an amount), kept out of dunning while they hold; reminders, missed-instalment notices,
breaking after the grace period and completion, each once, read from the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from relance.models import Company, Event, OutboxMessage, Payment, PaymentPlan
from relance.services.dialogue import payment_plans
from relance.services.dialogue.payment_plans import PlanRefused
from relance.services.ledger import allocation, snapshots
from tests import clock


def _ask(ledger, **data):
    first = clock.today() + timedelta(days=10)
    body = {"invoices": ["I1", "I2"], "count": "3", "first": first.isoformat(), **data}
    return Client().post(ledger.path(suffix="payment-plan/"), body)


def _on(day):
    return datetime.combine(day, time(12), UTC)


def test_a_plan_asked_on_the_portal_pauses_its_invoices_and_tells_staff(ledger):
    page = _ask(ledger)
    assert page.status_code == 200
    text = page.content.decode()
    assert "nous avons bien reçu votre demande" in text
    plan = PaymentPlan.objects.get()
    assert (plan.status, plan.total, plan.currency) == ("requested", Decimal("1300.00"), "EUR")
    assert [i.amount for i in plan.instalments.all()] == [Decimal("433.33")] * 2 + [
        Decimal("433.34")
    ]
    assert OutboxMessage.objects.get(key=f"payment-plan-request:{plan.pk}").to == [
        "compta@atelier.test"
    ]
    [debtor] = snapshots.debtors([ledger.dupont.pk])
    [snap] = snapshots.load([debtor], clock.today(), history_days=0)
    assert all(item.in_payment_plan for item in snap.account.items)
    statement = Client().get(ledger.path()).content.decode()
    assert "Dans votre échéancier" in statement


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"count": "9"}, "Sélectionnez un choix valide"),  # above the company's 6
        ({"invoices": ["M1"]}, "Sélectionnez un choix valide"),  # another customer's
        ({"first": "2020-01-01"}, "La première échéance ne peut pas être dans le passé."),
    ],
)
def test_the_companys_rules_are_enforced(ledger, data, problem):
    page = _ask(ledger, **data)
    assert page.status_code == 400
    assert problem in page.content.decode()
    assert not PaymentPlan.objects.exists()


def test_below_the_companys_amount_a_plan_is_agreed_at_once(ledger):
    Company.objects.filter(pk=ledger.company.pk).update(plan_auto_approve_below=Decimal("5000"))
    _ask(ledger)
    plan = PaymentPlan.objects.get()
    assert plan.status == "active"
    assert not OutboxMessage.objects.filter(key__startswith="payment-plan-request").exists()


def test_staff_counter_and_the_customer_accepts(ledger, django_user_model):
    _ask(ledger)
    plan = PaymentPlan.objects.get()
    first = clock.today() + timedelta(days=5)
    with pytest.raises(PlanRefused):
        payment_plans.counter(plan, 12, first, "too many")
    payment_plans.counter(plan, 2, first, "Two instalments, please")
    plan.refresh_from_db()
    assert plan.status == "countered"
    assert plan.instalments.count() == 2
    page = Client().get(ledger.path()).content.decode()
    assert "Two instalments, please" in page
    Client().post(ledger.path(suffix="payment-plan/"), {"accept": plan.pk})
    plan.refresh_from_db()
    assert plan.status == "active"
    assert Event.objects.filter(kind="payment_plan.accepted").exists()


def _pay(ledger, amount, day):
    Payment.objects.create(
        company=ledger.company,
        customer=ledger.dupont,
        external_id=f"P-{amount}-{day}",
        date=day,
        currency="EUR",
        amount=Decimal(amount),
    )
    allocation.reallocate([ledger.dupont.pk])


def test_the_daily_tick_reminds_notices_and_breaks_once_each(ledger):
    Company.objects.filter(pk=ledger.company.pk).update(plan_auto_approve_below=Decimal("5000"))
    ledger.company.refresh_from_db()
    _ask(ledger)
    plan = PaymentPlan.objects.get()
    first = plan.instalments.get(number=1).due_date
    before = first - timedelta(days=2)
    assert payment_plans.run_daily(ledger.company, before, _on(before))["reminders"] == 1
    assert payment_plans.run_daily(ledger.company, before, _on(before))["reminders"] == 0
    reminder = OutboxMessage.objects.get(key__startswith="instalment_reminder:")
    assert "échéance n° 1" in reminder.subject
    late = first + timedelta(days=1)
    assert payment_plans.run_daily(ledger.company, late, _on(late))["missed"] == 1
    missed = OutboxMessage.objects.get(key__startswith="missed_instalment:")
    assert "F-I1" in missed.body
    broken_day = first + timedelta(days=8)  # grace of 7 days passed
    counts = payment_plans.run_daily(ledger.company, broken_day, _on(broken_day))
    assert counts["broken"] == 1
    plan.refresh_from_db()
    assert plan.status == "broken"
    [debtor] = snapshots.debtors([ledger.dupont.pk])
    [snap] = snapshots.load([debtor], broken_day, history_days=0)
    assert not any(item.in_payment_plan for item in snap.account.items)  # back in dunning


def test_paid_instalments_are_met_and_a_paid_plan_completes(ledger):
    Company.objects.filter(pk=ledger.company.pk).update(plan_auto_approve_below=Decimal("5000"))
    ledger.company.refresh_from_db()
    _ask(ledger)
    plan = PaymentPlan.objects.get()
    first = plan.instalments.get(number=1).due_date
    _pay(ledger, "433.33", first)
    state = payment_plans.progress(plan, first)
    assert state.met == {1: True, 2: False, 3: False}
    late = first + timedelta(days=3)
    assert payment_plans.run_daily(ledger.company, late, _on(late))["missed"] == 0
    _pay(ledger, "866.67", late)
    assert payment_plans.run_daily(ledger.company, late, _on(late))["completed"] == 1
    plan.refresh_from_db()
    assert plan.status == "completed"


def test_staff_decide_from_the_customer_page(ledger, django_user_model):
    from relance.models import Membership

    controller = django_user_model.objects.create(username="claire")
    Membership.objects.create(company=ledger.company, user=controller, role="credit_controller")
    _ask(ledger)
    plan = PaymentPlan.objects.get()
    client = Client()
    client.force_login(controller)
    page = client.get(f"/customers/{ledger.dupont.pk}/").content.decode()
    assert "Payment plans" in page
    assert "Counter-propose" in page
    client.post(
        f"/customers/{ledger.dupont.pk}/payment-plans/{plan.pk}/",
        {"decision": "reject", "note": "Please pay by the end of the month"},
    )
    plan.refresh_from_db()
    assert (plan.status, plan.note) == ("rejected", "Please pay by the end of the month")
