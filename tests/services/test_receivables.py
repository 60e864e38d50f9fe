"""Receivables, aging and DSO on a ledger computed by hand (DESIGN §5), stored per day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from relance.models import Company, CreditNote, Customer, DailyFigures, Invoice, Payment
from relance.services.ledger import allocation, receivables

DAY = date(2026, 11, 20)


@pytest.fixture
def ledger(db) -> Company:
    company = Company.objects.create(code="c", name="C", country="FR", currency="EUR")
    customer = Customer.objects.create(
        company=company,
        external_id="C1",
        name="Dupont",
        currency="EUR",
        country="FR",
        time_zone="Europe/Paris",
    )

    def invoice(ext: str, total: str, days_late: int, currency: str = "EUR", **kw: object):
        due = DAY - timedelta(days=days_late)
        return Invoice.objects.create(
            company=company,
            customer=customer,
            external_id=ext,
            number=ext,
            issue_date=kw.pop("issued", due - timedelta(days=30)),
            due_date=due,
            currency=currency,
            total=Decimal(total),
            **kw,
        )

    invoice("NOT-DUE", "100.00", -10)  # current
    invoice("ON-DUE", "50.00", 0)  # due today: still current
    paid_part = invoice("LATE-1", "300.00", 1)  # 1-30, 120 paid: 180 left
    invoice("LATE-30", "10.00", 30)  # 1-30
    invoice("LATE-31", "20.00", 31)  # 31-60
    invoice("LATE-90", "40.00", 90)  # 61-90
    invoice("LATE-91", "80.00", 91, issued=DAY - timedelta(days=200))  # 91-120, not a sale
    invoice("LATE-200", "160.00", 200, issued=DAY - timedelta(days=300))  # 120+
    invoice("VOID", "999.00", 45, status=Invoice.Status.VOID)
    invoice("FUTURE", "777.00", -40, issued=DAY + timedelta(days=1))  # issued after the day
    invoice("USD-1", "1000.00", 5, currency="USD")
    Payment.objects.create(
        company=company,
        customer=customer,
        external_id="P1",
        invoice=paid_part,
        date=DAY - timedelta(days=1),
        currency="EUR",
        amount=Decimal("120.00"),
    )
    Payment.objects.create(  # after the day: not counted at the end of DAY
        company=company,
        customer=customer,
        external_id="P2",
        invoice=paid_part,
        date=DAY + timedelta(days=2),
        currency="EUR",
        amount=Decimal("30.00"),
    )
    CreditNote.objects.create(
        company=company,
        customer=customer,
        external_id="CN1",
        invoice=None,
        date=DAY - timedelta(days=5),
        currency="EUR",
        amount=Decimal("25.00"),
    )
    allocation.reallocate([customer.pk])
    return company


def test_figures_of_a_day_by_hand(ledger):
    figures = receivables.compute(DAY, company_id=ledger.pk)
    eur, usd = figures["EUR"], figures["USD"]
    # the credit note is allocated to the oldest invoice (LATE-200: 160 -> 135)
    assert eur.current == Decimal("150.00")
    assert eur.aging == {
        "1-30": Decimal("190.00"),
        "31-60": Decimal("20.00"),
        "61-90": Decimal("40.00"),
        "91-120": Decimal("80.00"),
        "120+": Decimal("135.00"),
    }
    assert eur.receivables == Decimal("615.00")
    assert eur.overdue == Decimal("465.00")
    # sales in the 90 days to DAY, issued 30 days before their due date: NOT-DUE, ON-DUE,
    # LATE-1, LATE-30, LATE-31 (100+50+300+10+20 = 480; LATE-90 was issued 120 days before,
    # VOID is void, FUTURE after DAY), less the credit note of the period (25)
    assert eur.credit_sales == Decimal("455.00")
    assert eur.dso == Decimal("615.00") / Decimal("455.00") * 90
    assert eur.add == eur.dso - Decimal("150.00") / Decimal("455.00") * 90
    assert (usd.receivables, usd.current, usd.credit_sales) == (
        Decimal("1000.00"),
        Decimal(0),
        Decimal("1000.00"),
    )


def test_stored_once_a_day_and_forgotten_when_the_ledger_changes(ledger):
    first = receivables.of_day(ledger, DAY)
    assert DailyFigures.objects.filter(company=ledger, day=DAY).count() == 2
    Invoice.objects.filter(external_id="USD-1").update(total=Decimal("10.00"))
    assert receivables.of_day(ledger, DAY)["USD"].receivables == first["USD"].receivables
    receivables.forget(ledger, [DAY])
    assert receivables.of_day(ledger, DAY)["USD"].receivables == Decimal("10.00")


def test_a_trend_adds_companies_per_currency_and_day(ledger):
    other = Company.objects.create(code="d", name="D", country="FR", currency="EUR")
    receivables.record(ledger, DAY - timedelta(days=1))
    receivables.record(ledger, DAY)
    receivables.record(other, DAY)  # nothing owed: no rows
    found = receivables.trend([ledger.pk, other.pk], DAY - timedelta(days=30))
    assert [day for day, _ in found["EUR"]] == [DAY - timedelta(days=1), DAY]
    assert found["EUR"][1][1].receivables == Decimal("615.00")


def test_figures_of_different_currencies_never_add():
    with pytest.raises(ValueError, match="different currencies"):
        receivables.Figures("EUR") + receivables.Figures("USD")
