"""Segments as finance teams mean them: an overdue invoice (not one due next month), overdue by
more than N days, owing more than an amount in the company's currency (other currencies are
never added to it)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from relance.models import Customer, Invoice
from relance.services.dunning import segments
from relance.services.ledger import balances
from tests import clock


def _names(**criteria):
    found = segments.matching(Customer.objects.all(), criteria, clock.today())
    return set(found.values_list("external_id", flat=True))


def _invoice(customer, ext, total, days_late, currency="EUR"):
    due = clock.today() - timedelta(days=days_late)
    Invoice.objects.create(
        company=customer.company,
        customer=customer,
        external_id=ext,
        number=ext,
        issue_date=due - timedelta(days=30),
        due_date=due,
        currency=currency,
        total=Decimal(total),
    )
    balances.refresh([customer.pk])


def test_overdue_late_by_more_than_and_owing_more_than(company, new_customer):
    company.currency = "EUR"
    company.save()
    late = new_customer(company, "LATE", "Late 40 days")
    _invoice(late, "L1", "900.00", 40)
    _invoice(late, "L2", "300.00", -10)  # due in ten days: owed, not overdue
    soon = new_customer(company, "SOON", "Due next month")
    _invoice(soon, "S1", "5000.00", -30)
    dollars = new_customer(company, "USD", "Owes dollars")
    _invoice(dollars, "U1", "800.00", 5)
    _invoice(dollars, "U2", "5000.00", 5, currency="USD")
    new_customer(company, "NONE", "Owes nothing")

    assert _names(owes="yes") == {"LATE", "SOON", "USD"}
    assert _names(owes="overdue") == {"LATE", "USD"}  # not the invoice due next month
    assert _names(owes="no") == {"NONE"}
    assert _names(late_over="30") == {"LATE"}
    assert _names(late_over="4") == {"LATE", "USD"}
    assert _names(late_over="0") == {"LATE", "USD"}
    assert _names(owed_over="1000") == {"LATE", "SOON"}  # 900 + 300; 5,000 due later
    assert _names(owed_over="1 199,99") == {"LATE", "SOON"}
    assert _names(owed_over="1200") == {"SOON"}  # more than, not as much as
    assert _names(owed_over="900") == {"LATE", "SOON"}  # 800 EUR: USD not added to it
    assert _names(owed_over="not a number") == {"LATE", "SOON", "USD", "NONE"}  # ignored


def test_a_payment_lowers_what_is_owed(company, new_customer):
    from relance.models import Payment
    from relance.services.ledger import allocation

    company.currency = "EUR"
    company.save()
    paying = new_customer(company, "PAY", "Paying")
    _invoice(paying, "P1", "1500.00", 20)
    assert _names(owed_over="1000") == {"PAY"}
    Payment.objects.create(
        company=company,
        customer=paying,
        external_id="PM1",
        invoice=Invoice.objects.get(external_id="P1"),
        date=clock.today(),
        currency="EUR",
        amount=Decimal("600.00"),
    )
    allocation.reallocate({paying.pk})
    assert _names(owed_over="1000") == set()
