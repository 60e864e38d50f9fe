"""A customer's oldest unpaid due date follows payments, credit notes and voids."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from relance.models import Customer, Invoice, Payment
from relance.services.ledger import allocation, balances
from tests import clock


def test_the_oldest_unpaid_due_date_moves_as_invoices_are_paid(db, new_customer, new_invoice):
    from relance.models import Company

    company = Company.objects.create(code="c", name="C", country="FR", currency="EUR")
    customer = new_customer(company, "C1", "Dupont")
    old = new_invoice(customer, "I1", "100.00", days_late=40)
    recent = new_invoice(customer, "I2", "50.00", days_late=5)

    def oldest() -> object:
        return Customer.objects.get(pk=customer.pk).oldest_unpaid_due

    assert oldest() == old.due_date
    Payment.objects.create(
        company=company,
        customer=customer,
        external_id="P1",
        invoice=old,
        date=clock.today(),
        currency="EUR",
        amount=Decimal("100.00"),
    )
    allocation.reallocate([customer.pk])
    assert oldest() == recent.due_date
    Invoice.objects.filter(pk=recent.pk).update(status=Invoice.Status.VOID)
    balances.refresh([customer.pk])
    assert oldest() is None
    assert old.due_date == clock.today() - timedelta(days=40)
