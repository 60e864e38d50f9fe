"""The dashboard: each role's figures and lists, stored figures reused, and the page on an empty
database and in French."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from relance.models import DailyFigures, Dispute, ForecastEntry, Invoice, OutboxMessage, Promise
from relance.services.ledger import receivables
from relance.services.organisation import hours


def page(world, user: str, language: str = "en", **params: str) -> str:
    response = world.client(user, language).get("/dashboard/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_logging_in_lands_on_the_dashboard(world):
    client = Client()
    response = client.post("/login/", {"username": "admin", "password": "s3cret-pass!"})
    assert client.get(response["Location"])["Location"] == "/dashboard/"
    assert client.get(client.get("/")["Location"])["Location"] == "/dashboard/"


def test_a_controller_sees_the_companys_figures_stored_for_the_day(world, new_invoice):
    new_invoice(world.customers["martin"], "M1", "80.00", days_late=45)
    shown = page(world, "controller")
    assert "€1,630.00" in shown  # owed: I1 1250 + I2 300 + M1 80
    assert "€1,330.00" in shown  # overdue: I1 + M1
    assert "€1,250.00" in shown  # 1-30 days
    assert "€80.00" in shown  # 31-60 days
    today = hours.company_today(world.alpha)
    assert DailyFigures.objects.filter(company=world.alpha, day=today).count() == 1
    assert "Smith" not in shown
    # stored: the same figures until an import forgets them
    Invoice.objects.filter(external_id="M1").update(total=Decimal("1000.00"))
    assert "€1,630.00" in page(world, "controller")
    receivables.forget(world.alpha, [today])
    assert "€2,550.00" in page(world, "controller")


def test_a_sales_rep_sees_their_own_customers_figures_only(world, new_invoice):
    new_invoice(world.customers["martin"], "M1", "80.00", days_late=45)
    shown = page(world, "rep")  # Dupont's rep
    assert "€1,550.00" in shown
    assert "€80.00" not in shown
    assert not DailyFigures.objects.exists()  # computed for them, not stored for the company


def test_lists_of_the_day(world):
    dupont = world.customers["dupont"]
    today = hours.company_today(world.alpha)
    Promise.objects.create(company=world.alpha, customer=dupont, promised_on=today, pay_by=today)
    Promise.objects.create(
        company=world.beta,
        customer=world.customers["smith"],
        promised_on=today,
        pay_by=today,
    )
    Dispute.objects.create(
        company=world.alpha,
        customer=dupont,
        invoice=Invoice.objects.get(external_id="I1"),
        opened_on=today - timedelta(days=40),
    )
    OutboxMessage.objects.create(
        key="m1",
        company=world.alpha,
        customer=dupont,
        channel="email",
        status=OutboxMessage.Status.DEAD,
        last_error="550 mailbox unavailable",
    )
    shown = page(world, "controller")
    assert "Boulangerie Dupont" in shown
    assert "Smith" not in shown  # another company's promise
    assert "40 days" in shown
    assert "550 mailbox unavailable" in shown


@pytest.mark.parametrize("user", ["outsider", "beta_admin"])
def test_nothing_of_another_company(world, user):
    shown = page(world, user)
    assert "€1,550.00" not in shown
    assert "Boulangerie Dupont" not in shown


def test_the_trend_draws_dso_over_stored_days(world):
    today = hours.company_today(world.alpha)
    for back in (2, 1):
        receivables.record(world.alpha, today - timedelta(days=back))
    shown = page(world, "admin")
    assert "<polyline" in shown
    assert "DSO, last 3 days" in shown


def test_the_next_7_days_steps_from_the_stored_forecast_and_staff_messages(world):
    today = hours.company_today(world.alpha)
    for offset, channel, customer in [
        (1, "email", "dupont"),
        (1, "call", "dupont"),
        (3, "email", "martin"),
        (9, "email", "dupont"),  # beyond the week
        (2, "email", "smith"),  # another company
    ]:
        ForecastEntry.objects.create(
            company=world.customers[customer].company,
            customer=world.customers[customer],
            day=today + timedelta(days=offset),
            plan_code="standard",
            step="Payment reminder",
            step_index=2,
            channel=channel,
            reference="I1",
            reason="15 days after the due date",
        )
    OutboxMessage.objects.create(  # a sales rep's digest that could not leave
        key="digest", company=world.alpha, channel="email", to=["rep@ar.test"], status="dead"
    )
    shown = page(world, "controller")
    section = shown[shown.index("Steps in the next 7 days") : shown.index("Messages not sent")]
    assert section.count("<p>") == 3  # two days, and the calendar link
    assert "Call 1" in section
    assert "Email 1" in section
    assert "rep@ar.test" in shown
    rep = page(world, "rep")
    rep_section = rep[rep.index("Steps in the next 7 days") : rep.index("Messages not sent")]
    assert rep_section.count("<p>") == 2  # Dupont's day only
