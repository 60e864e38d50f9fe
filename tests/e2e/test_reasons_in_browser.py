"""The engine's reasons in Chromium, in French: the calendar and the customer's next steps write
their dates as French does ("1er janvier 2027"), never the ISO dates of the stored English text."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from relance.messaging import formatting
from relance.models import Company, Invoice, Membership, Plan
from relance.services.dunning import calendar
from relance.services.dunning.plans import load_plans
from relance.services.ledger import balances
from relance.services.organisation import hours

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"
STANDARD = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"


@pytest.fixture
def due_on_the_first(new_customer):
    get_user_model().objects.create(
        username="claire", email="claire@ar.test", password=make_password(PASSWORD)
    )
    company = Company.objects.create(code="atelier", name="Atelier SAS", country="FR")
    Membership.objects.create(
        company=company, user=get_user_model().objects.get(), role=Membership.Role.ADMIN
    )
    load_plans(STANDARD.read_text(encoding="utf-8"))
    martin = new_customer(company, "C1", "Garage Martin")
    martin.plan = Plan.objects.get(code="standard", company=company)
    martin.save()
    today = hours.company_today(company)
    due = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    Invoice.objects.create(
        company=company,
        customer=martin,
        external_id="M1",
        number="F-M1",
        issue_date=due - timedelta(days=30),
        due_date=due,
        currency="EUR",
        total=Decimal("800.00"),
    )
    balances.refresh([martin.pk])
    calendar.refresh(company, today)
    return martin, due


def test_the_reasons_dates_read_in_french(page, due_on_the_first, tmp_path):
    martin, due = due_on_the_first
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.goto("/")
    page.get_by_label("Username").fill("claire")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/calendar/")
    page.get_by_label("Language").select_option("fr")
    french_day = formatting.day(due, "fr")
    assert french_day.startswith("1er ")
    reason = page.locator(".what").first
    expect(reason).to_contain_text("F-M1")
    expect(reason).to_contain_text(french_day)
    expect(page.locator("main")).not_to_contain_text(due.isoformat())
    page.screenshot(path=str(shots / "reasons-calendar-fr.png"), full_page=True)
    page.goto(f"/customers/{martin.pk}/")
    expect(page.locator("main")).to_contain_text(french_day)
    expect(page.locator("main")).not_to_contain_text(due.isoformat())
    page.screenshot(path=str(shots / "reasons-customer-fr.png"), full_page=True)
