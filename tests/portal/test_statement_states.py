"""The statement says one thing per invoice and asks only for what is to pay: a dispute is set
apart from the total (and from an online payment), a payment plan supersedes a promise, and the
customer reads a day, not a count of business hours."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.test import Client

from relance.models import Invoice, Promise
from relance.services.dialogue import pauses
from relance.services.portal import online_payments
from tests import clock


def _statement(ledger) -> str:
    return " ".join(Client().get(ledger.path()).content.decode().replace("\u202f", " ").split())


def test_a_disputed_invoice_is_set_apart_from_what_to_pay(ledger):
    """Dupont owes 1,000.00 on I1 (1,250 less 250 paid) and 300.00 on I2."""
    before = _statement(ledger)
    assert "1 300,00" in before
    pauses.open_dispute(Invoice.objects.get(external_id="I2"), clock.today(), reason="x")
    after = _statement(ledger)
    assert "1 300,00" not in after
    assert "1 000,00" in after
    assert "et 300,00 € en litige, mis de côté" in after.replace("\xa0", " ")
    owed = online_payments.owed_by_currency(ledger.dupont, clock.today())
    assert owed == {"EUR": (Decimal("1000.00"), ["I1"])}


def test_a_payment_plan_supersedes_a_promise_on_the_same_invoice(ledger):
    from relance.models import PaymentPlan

    invoice = Invoice.objects.get(external_id="I1")
    promise = Promise.objects.create(
        company=ledger.company,
        customer=ledger.dupont,
        promised_on=clock.today(),
        pay_by=clock.today() + timedelta(days=10),
    )
    promise.invoices.set([invoice])
    assert "Vous avez promis de régler" in _statement(ledger)
    plan = PaymentPlan.objects.create(
        company=ledger.company,
        customer=ledger.dupont,
        currency="EUR",
        total=Decimal("1000.00"),
        status=PaymentPlan.Status.ACTIVE,
    )
    plan.invoices.set([invoice])
    shown = _statement(ledger)
    assert "Dans votre échéancier" in shown
    assert "Vous avez promis de régler" not in shown


def test_a_promise_of_part_of_an_invoice_says_how_much(ledger):
    """Found from outside (issue 22): 150 € promised on a 300 € invoice read as the whole."""
    promise = Promise.objects.create(
        company=ledger.company,
        customer=ledger.dupont,
        promised_on=clock.today(),
        pay_by=clock.today() + timedelta(days=10),
        amount=Decimal("150.00"),
        currency="EUR",
    )
    promise.invoices.set([Invoice.objects.get(external_id="I2")])
    shown = _statement(ledger).replace("\xa0", " ")
    assert "Vous avez promis de régler 150,00 € avant le" in shown
