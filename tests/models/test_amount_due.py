"""The amount-due rule's two forms (raw SQL for the hot reads, ORM for the rest) agree."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from relance.models import Allocation, Customer, Invoice, Payment
from relance.models.documents import (
    allocated,
    amount_due_expression,
    amount_due_sql,
    still_owed_sql,
)

DAYS = (date(2025, 1, 9), date(2025, 1, 10), date(2025, 2, 10), date(2025, 3, 1))


@pytest.fixture
def invoice(company):
    customer = Customer.objects.create(company=company, external_id="C1", name="Acme")
    invoice = Invoice.objects.create(
        company=company,
        customer=customer,
        external_id="I1",
        number="F-1",
        issue_date=date(2025, 1, 1),
        due_date=date(2025, 1, 31),
        currency="EUR",
        total=Decimal("100.00"),
    )
    for on, amount in ((date(2025, 1, 10), "30.00"), (date(2025, 2, 10), "70.00")):
        payment = Payment.objects.create(
            company=company,
            customer=customer,
            external_id=f"P{on}",
            date=on,
            currency="EUR",
            amount=Decimal(amount),
        )
        Allocation.objects.create(invoice=invoice, payment=payment, amount=amount, date=on)
    return invoice


def _sql(invoice_pk: int, day: date) -> tuple[Decimal, bool]:
    due = amount_due_sql("i", as_of="%s")
    sql = f"SELECT {due}, CASE WHEN {still_owed_sql(due)} THEN 1 ELSE 0 END FROM relance_invoice i"
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} WHERE i.id = %s", [day, day, invoice_pk])
        amount, owed = cursor.fetchone()
    return Decimal(str(amount)).quantize(Decimal("0.0001")), bool(owed)


@pytest.mark.django_db
@pytest.mark.parametrize("day", DAYS)
def test_sql_orm_and_instance_agree(invoice, day):
    orm = Invoice.objects.annotate(due=amount_due_expression(as_of=day)).get(pk=invoice.pk).due
    amount, owed = _sql(invoice.pk, day)
    assert amount == orm == invoice.amount_due(day)
    assert owed == (day < date(2025, 2, 10))


@pytest.mark.django_db
def test_allocated_within_a_window(invoice):
    window = allocated(after=date(2025, 1, 10), until=date(2025, 2, 10))
    assert Invoice.objects.annotate(s=window).get(pk=invoice.pk).s == Decimal("70.00")
    assert Invoice.objects.annotate(s=allocated()).get(pk=invoice.pk).s == Decimal("100.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "tolerance", "owed"),
    [("0.00004", None, False), ("0.0001", None, True), ("5.0001", "5", True), ("5", "5", False)],
)
def test_still_owed_above_paid_below(amount, tolerance, owed):
    """A sum of REALs can leave 1e-13 of a paid invoice: below PAID_BELOW, nothing is owed."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT CASE WHEN {still_owed_sql(amount, tolerance)} THEN 1 ELSE 0 END")
        assert bool(cursor.fetchone()[0]) is owed
