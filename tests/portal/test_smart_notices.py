"""Smart notices: credit-limit use and card expiry tell the customer and the owner once per event,
never daily; promises get a reminder the day before, once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from relance.models import Customer, OutboxMessage, Payment, Promise, SmartNotice
from relance.services.dialogue import smart_notices
from relance.services.ledger import allocation
from tests import clock


def _run(ledger, day=None):
    day = day or clock.today()
    return smart_notices.run_daily(ledger.company, day, datetime.combine(day, time(12), UTC))


def _customer_notices():
    return list(OutboxMessage.objects.filter(key__startswith="notice:").order_by("pk"))


def test_credit_limit_use_is_told_once_then_again_when_exceeded_then_after_clearing(ledger):
    # Dupont owes 1,300 EUR: 87 % of 1,500.
    Customer.objects.filter(pk=ledger.dupont.pk).update(credit_limit=Decimal("1500"))
    assert _run(ledger)["credit"] == 1
    assert _run(ledger)["credit"] == 0  # not daily
    [notice] = _customer_notices()
    assert notice.to == ["jeanne@dupont.test"]
    assert "87\xa0%" in notice.subject or "87 %" in notice.subject
    owner = OutboxMessage.objects.get(key__startswith="notice-owner:")
    assert owner.customer is None
    assert owner.to == ["compta@atelier.test"]

    Customer.objects.filter(pk=ledger.dupont.pk).update(credit_limit=Decimal("1000"))
    assert _run(ledger)["credit"] == 1  # now exceeded: a new event
    assert SmartNotice.objects.get(cleared_on=None).kind == "credit_over"

    Payment.objects.create(
        company=ledger.company,
        customer=ledger.dupont,
        external_id="P9",
        date=clock.today(),
        currency="EUR",
        amount=Decimal("1300.00"),
    )
    allocation.reallocate([ledger.dupont.pk])
    assert _run(ledger)["credit"] == 0
    assert not SmartNotice.objects.filter(cleared_on=None).exists()  # cleared


def test_a_card_expiring_within_30_days_is_told_once_per_expiry(ledger):
    today = clock.today()
    soon = (today + timedelta(days=20)).replace(day=1)
    Customer.objects.filter(pk=ledger.dupont.pk).update(
        pays_by_bank_transfer=False, card_expiry=soon
    )
    Customer.objects.filter(pk=ledger.martin.pk).update(  # pays by transfer: no card notice
        pays_by_bank_transfer=True, card_expiry=soon
    )
    assert _run(ledger)["cards"] == 1
    assert _run(ledger)["cards"] == 0
    assert f"{soon:%m/%Y}" in _customer_notices()[0].body
    Customer.objects.filter(pk=ledger.dupont.pk).update(card_expiry=soon + timedelta(days=400))
    assert _run(ledger)["cards"] == 0  # the new card is far from expiring


def test_a_reminder_the_day_before_a_promise(ledger):
    today = clock.today()
    promise = Promise.objects.create(
        company=ledger.company,
        customer=ledger.dupont,
        promised_on=today,
        pay_by=today + timedelta(days=2),
    )
    promise.invoices.set(ledger.dupont.invoices.filter(external_id="I1"))
    assert _run(ledger)["promises"] == 0  # two days before
    tomorrow = today + timedelta(days=1)
    assert _run(ledger, tomorrow)["promises"] == 1
    assert _run(ledger, tomorrow)["promises"] == 0
    reminder = OutboxMessage.objects.get(key=f"promise-reminder:{promise.pk}")
    assert reminder.subject.startswith("Rappel : le règlement promis pour le")
    assert "F-I1" in reminder.body
