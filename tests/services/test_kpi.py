"""KPIs (DESIGN §5) on a ledger computed by hand: a partial payment, a credit note, an invoice not
yet due, another currency; `relance kpi --json` gives the same figures as the service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relance.models import CreditNote, Invoice, Payment
from relance.services.analytics.kpi import KpiError, report
from relance.services.ledger import allocation


@pytest.fixture
def books(company, new_customer):
    customer = new_customer(company, "C1", "Acme")

    def invoice(ext, issued, due, total, currency="EUR"):
        return Invoice.objects.create(
            company=company,
            customer=customer,
            external_id=ext,
            number=ext,
            issue_date=issued,
            due_date=due,
            currency=currency,
            total=Decimal(total),
        )

    invoice("A", date(2025, 12, 1), date(2025, 12, 31), "1000.00")
    invoice("B", date(2026, 1, 5), date(2026, 2, 4), "600.00")
    c = invoice("C", date(2026, 1, 10), date(2026, 1, 20), "300.00")
    invoice("D", date(2026, 1, 10), date(2026, 1, 25), "200.00", "USD")
    Payment.objects.create(  # oldest first: on A
        company=company,
        customer=customer,
        external_id="P1",
        date=date(2026, 1, 10),
        currency="EUR",
        amount=Decimal("400.00"),
    )
    CreditNote.objects.create(
        company=company,
        customer=customer,
        external_id="CN1",
        invoice=c,
        date=date(2026, 1, 15),
        currency="EUR",
        amount=Decimal("100.00"),
    )
    allocation.reallocate([customer.pk])
    return company


def test_kpis_by_hand_in_euros(books):
    # receivables(31 Dec) = A 1000; receivables(31 Jan) = A 600 + B 600 + C 200 = 1400,
    # of which current (B, due 4 Feb) 600; credit sales = B 600 + C 300 - CN 100 = 800; 31 days.
    assert report(date(2026, 1, 1), date(2026, 1, 31), [books], "EUR") == {
        "from": "2026-01-01",
        "to": "2026-01-31",
        "currency": "EUR",
        "dso": 54.2,  # 1400 / 800 x 31 = 54.25, half-even
        "best_possible_dso": 23.2,  # 600 / 800 x 31 = 23.25
        "add": 31.0,
        "cei": 33.3,  # (1000 + 800 - 1400) / (1000 + 800 - 600) x 100
        "aging": {
            "current": "600.00",
            "1-30": "200.00",  # C, 11 days late
            "31-60": "600.00",  # A, 31 days late
            "61-90": "0.00",
            "91-120": "0.00",
            "120+": "0.00",
        },
    }


def test_another_currency_is_never_added_in(books):
    usd = report(date(2026, 1, 1), date(2026, 1, 31), [books], "usd")
    assert (usd["dso"], usd["best_possible_dso"], usd["add"], usd["cei"]) == (31.0, 0.0, 31.0, 0.0)
    assert usd["aging"]["1-30"] == "200.00"
    with pytest.raises(KpiError, match="several currencies"):
        report(date(2026, 1, 1), date(2026, 1, 31), [books, _other_books(books)])
    assert report(date(2026, 1, 1), date(2026, 1, 31), [books])["currency"] == "EUR"  # the books'


def _other_books(company):
    from relance.models import Company

    return Company.objects.create(code="uk", name="UK Ltd", country="GB", currency="GBP")


def test_nothing_sold_means_no_ratio(books):
    empty = report(date(2025, 6, 1), date(2025, 6, 30), [books], "JPY")
    assert empty["dso"] is None
    assert empty["aging"]["current"] == "0"
    with pytest.raises(KpiError, match="ends"):
        report(date(2026, 2, 1), date(2026, 1, 1), [books])


def test_the_cli_prints_the_same(books, relance):
    assert relance.json(
        "kpi", "--from", "2026-01-01", "--to", "2026-01-31", "--currency", "EUR"
    ) == (report(date(2026, 1, 1), date(2026, 1, 31), [books], "EUR"))
    result = relance("kpi", "--from", "2026-01-31", "--to", "2026-01-01")
    assert result.exit_code == 1


def test_the_other_measures_by_hand(books):
    from relance.models import Customer, Dispute, Promise

    customer = Customer.objects.get(external_id="C1")
    invoices = {i.external_id: i for i in Invoice.objects.all()}

    def promise(status, pay_by, *refs):
        made = Promise.objects.create(
            company=books,
            customer=customer,
            promised_on=date(2026, 1, 2),
            pay_by=pay_by,
            status=status,
        )
        made.invoices.set([invoices[r] for r in refs])

    promise(Promise.Status.KEPT, date(2026, 1, 12), "A")
    promise(Promise.Status.KEPT, date(2026, 1, 20), "B", "C")
    promise(Promise.Status.BROKEN, date(2026, 1, 25), "B")
    promise(Promise.Status.OPEN, date(2026, 1, 30), "C")  # not settled: not counted
    promise(Promise.Status.BROKEN, date(2026, 2, 3), "B")  # due after the period
    promise(Promise.Status.KEPT, date(2026, 1, 20), "D")  # USD
    for ref, opened, resolved in [
        ("B", date(2026, 1, 6), date(2026, 1, 16)),  # 10 days
        ("C", date(2026, 1, 12), date(2026, 1, 15)),  # 3 days
        ("A", date(2026, 1, 20), None),  # still open
        ("D", date(2026, 1, 11), date(2026, 1, 12)),  # USD
    ]:
        Dispute.objects.create(
            company=books,
            customer=customer,
            invoice=invoices[ref],
            opened_on=opened,
            resolved_on=resolved,
        )
    found = report(date(2026, 1, 1), date(2026, 1, 31), [books], "EUR", more=True)
    assert found["dso"] == 54.2  # DESIGN §4's object is all there
    assert {
        k: v
        for k, v in found.items()
        if k not in report(date(2026, 1, 1), date(2026, 1, 31), [books], "EUR")
    } == {
        # P1 (400) settled A, issued 1 Dec and due 31 Dec, on 10 Jan: 40 days, 10 late.
        "weighted_days_to_pay": 40.0,
        "weighted_days_late": 10.0,
        "percent_current": 42.9,  # 600 not due of 1400 owed
        "promise_kept_rate": 66.7,  # two kept, one broken
        "promises_settled": 3,
        "dispute_resolution_days": 6.5,  # (10 + 3) / 2
        "disputes_resolved": 2,
        "cash_collected": "400.00",
    }
    usd = report(date(2026, 1, 1), date(2026, 1, 31), [books], "USD", more=True)
    assert (usd["weighted_days_to_pay"], usd["cash_collected"]) == (None, "0.00")
    assert (usd["promise_kept_rate"], usd["dispute_resolution_days"]) == (100.0, 1.0)


def test_weights_follow_the_amounts(company, new_customer):
    customer = new_customer(company, "C9", "Weighted")
    for ext, issued, total in [
        ("X", date(2026, 3, 1), "300.00"),
        ("Y", date(2026, 3, 21), "100.00"),
    ]:
        Invoice.objects.create(
            company=company,
            customer=customer,
            external_id=ext,
            number=ext,
            issue_date=issued,
            due_date=issued,
            currency="EUR",
            total=Decimal(total),
        )
        Payment.objects.create(
            company=company,
            customer=customer,
            external_id=f"P{ext}",
            invoice=Invoice.objects.get(external_id=ext),
            date=date(2026, 3, 31),
            currency="EUR",
            amount=Decimal(total),
        )
    allocation.reallocate([customer.pk])
    found = report(date(2026, 3, 1), date(2026, 3, 31), [company], "EUR", more=True)
    assert found["weighted_days_to_pay"] == 25.0  # (300 x 30 + 100 x 10) / 400
    assert found["cash_collected"] == "400.00"


def test_the_cli_and_the_api_say_more_alike(books, relance):
    from relance.services.integrations import api_tokens

    _, secret = api_tokens.create(books, "kpi", "read")
    from django.test import Client

    api = Client().get(
        "/api/v1/kpi?from=2026-01-01&to=2026-01-31&currency=EUR&more=true",
        headers={"Authorization": f"Bearer {secret}"},
    )
    cli = relance.json(
        "kpi", "--from", "2026-01-01", "--to", "2026-01-31", "--currency", "EUR", "--more"
    )
    assert api.json() == cli
    assert cli["cash_collected"] == "400.00"
    text = relance("kpi", "--from", "2026-01-01", "--to", "2026-01-31", "--more").output
    assert "weighted days to pay 40.0" in text
