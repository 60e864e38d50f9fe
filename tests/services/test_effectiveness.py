"""Effectiveness of steps, by hand: what the reference invoices owed when the step ran, what was
paid 7/14/30 days after, the median days to the first payment, answers within 14 days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from relance.models import Event, Execution, Invoice, Payment
from relance.services.analytics import effectiveness
from relance.services.ledger import allocation


def _execution(customer, invoice, step, day, channel="email"):
    return Execution.objects.create(
        key=f"{customer.pk}:{step}:{invoice.external_id}",
        company=customer.company,
        customer=customer,
        plan_code="standard",
        step_name=step,
        reference_invoice=invoice,
        reference_external_id=invoice.external_id,
        date=day,
        status="executed",
        channel=channel,
        mode="auto",
        customer_facing=True,
    )


def _invoice(customer, ext, total, due):
    return Invoice.objects.create(
        company=customer.company,
        customer=customer,
        external_id=ext,
        number=ext,
        issue_date=due - timedelta(days=30),
        due_date=due,
        currency="EUR",
        total=Decimal(total),
    )


def _pay(customer, ext, invoice, amount, day):
    Payment.objects.create(
        company=customer.company,
        customer=customer,
        external_id=ext,
        invoice=invoice,
        date=day,
        currency="EUR",
        amount=Decimal(amount),
    )


def test_a_reminder_that_brings_cash_and_one_that_does_not(company, new_customer):
    a, b = new_customer(company, "A", "Acme"), new_customer(company, "B", "Bistro")
    day = date(2026, 10, 1)
    ia = _invoice(a, "IA", "1000.00", day - timedelta(days=15))
    ib = _invoice(b, "IB", "500.00", day - timedelta(days=15))
    _pay(a, "PA0", ia, "200.00", day - timedelta(days=2))  # before the step: not its effect
    _pay(a, "PA1", ia, "300.00", day + timedelta(days=5))
    _pay(a, "PA2", ia, "500.00", day + timedelta(days=20))
    allocation.reallocate([a.pk, b.pk])
    _execution(a, ia, "Payment reminder", day)
    _execution(b, ib, "Payment reminder", day)
    Event.objects.create(
        company=company,
        customer=b,
        source="portal",
        kind="promise.created",
        at=datetime(2026, 10, 3, 9, tzinfo=UTC),
    )
    [row] = effectiveness.measure(Execution.objects.all())
    assert row.group == ("standard", "Payment reminder", "email")
    assert row.executions == 2
    assert row.owed == Decimal("1300.00")  # 800 left on IA + 500 on IB when it ran
    assert row.paid == {7: Decimal("300.00"), 14: Decimal("300.00"), 30: Decimal("800.00")}
    assert round(row.share(30), 1) == Decimal("61.5")
    assert row.median_days == 5.0  # only Acme paid: first payment 5 days after
    assert row.answered == 1
    assert row.answer_rate == Decimal(50)


def test_rows_by_owner_and_channel(company, new_customer):
    a = new_customer(company, "A", "Acme")
    day = date(2026, 10, 1)
    ia = _invoice(a, "IA", "100.00", day)
    _execution(a, ia, "Call", day, channel="call")
    [by_channel] = effectiveness.measure(Execution.objects.all(), by="channel")
    assert by_channel.group == ("call",)
    assert by_channel.paid == {7: Decimal(0), 14: Decimal(0), 30: Decimal(0)}
    assert by_channel.median_days is None
    [by_owner] = effectiveness.measure(Execution.objects.all(), by="owner")
    assert by_owner.group == ("",)
