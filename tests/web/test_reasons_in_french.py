"""The engine's reasons on a French page: the reader's words and dates ("1er octobre 2026"),
never the English text with ISO dates that the CLI and the API carry."""

from __future__ import annotations

import html
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from relance.domain import reasons
from relance.messaging import formatting
from relance.models import Execution, ForecastEntry, Invoice, Plan
from relance.services.dunning import calendar
from relance.services.dunning.plans import load_plans
from relance.services.ledger import balances
from tests.clock import today as company_today

STANDARD = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"


def _first_of_next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@pytest.fixture
def due_on_the_first(world):
    """Garage Martin on the standard plan, one invoice due on the first of next month: its
    friendly reminder (5 days before) is in the calendar, its reason names that first."""
    load_plans(STANDARD.read_text(encoding="utf-8"))
    martin = world.customers["martin"]
    martin.plan = Plan.objects.get(code="standard", company=world.alpha)
    martin.save()
    today = company_today(world.alpha)
    due = _first_of_next_month(today)
    Invoice.objects.create(
        company=world.alpha,
        customer=martin,
        external_id="M1",
        number="F-M1",
        issue_date=due - timedelta(days=30),
        due_date=due,
        currency="EUR",
        total=Decimal("800.00"),
    )
    balances.refresh([martin.pk])
    calendar.refresh(world.alpha, today)
    return due


def _english_and_iso(page: str, due: date) -> None:
    assert f"F-M1 due {due.isoformat()}" not in page
    assert due.isoformat() not in page


def test_the_calendar_writes_the_reasons_date_in_french(world, due_on_the_first):
    due = due_on_the_first
    entry = ForecastEntry.objects.get(customer=world.customers["martin"], reference="M1")
    assert entry.reason == f"F-M1 due {due.isoformat()} - 5 days"  # the English text is kept
    assert [c["code"] for c in entry.reason_data] == [reasons.DUE_BEFORE]
    page = world.client("controller", "fr").get("/calendar/").content.decode()
    assert formatting.day(due, "fr").startswith("1er ")
    assert html.escape(formatting.day(due, "fr")) in page
    _english_and_iso(page, due)
    english = world.client("controller", "en").get("/calendar/").content.decode()
    assert f"F-M1 due {formatting.day(due, 'en')} - 5 days" in english


def test_the_customer_page_writes_its_next_steps_reasons_in_french(world, due_on_the_first):
    due = due_on_the_first
    martin = world.customers["martin"]
    page = world.client("controller", "fr").get(f"/customers/{martin.pk}/").content.decode()
    assert html.escape(formatting.day(due, "fr")) in page
    _english_and_iso(page, due)


def _executed(customer, key, why, day):
    text, data = reasons.stored(why)
    return Execution.objects.create(
        key=key,
        company=customer.company,
        customer=customer,
        step_name="Relance 1",
        date=day,
        status="executed",
        reason=text,
        reason_data=data,
        channel="email",
        mode="auto",
        customer_facing=True,
    )


def test_the_timeline_writes_a_stored_reason_in_the_readers_words(world, due_on_the_first):
    martin = world.customers["martin"]
    first = _first_of_next_month(company_today(world.alpha)) - timedelta(days=62)
    first = first.replace(day=1)  # a first of the month in the past
    why = reasons.reason(reasons.DUE_AFTER, invoice="F-M0", date=first, days=15).and_(
        reasons.DELAYED, delay=15, contact=first + timedelta(days=10)
    )
    _executed(martin, "coded", why, first + timedelta(days=25))
    stored = Execution.objects.get(key="coded")
    assert stored.reason == str(why)  # the English text, ISO dates, as before
    page = world.client("controller", "fr").get(f"/customers/{martin.pk}/").content.decode()
    assert html.escape(formatting.day(first, "fr")) in page
    assert first.isoformat() not in page
    assert html.escape(formatting.day(first + timedelta(days=10), "fr")) in page
    english = world.client("controller", "en").get(f"/customers/{martin.pk}/").content.decode()
    assert html.escape(f"F-M0 due {formatting.day(first, 'en')} + 15 days") in english


def test_a_reason_stored_as_text_only_is_shown_as_it_was(world, due_on_the_first):
    martin = world.customers["martin"]
    Execution.objects.create(
        key="old",
        company=world.alpha,
        customer=martin,
        step_name="Relance ancienne",
        date=company_today(world.alpha) - timedelta(days=3),
        status="executed",
        reason="written before reasons had codes",
        channel="email",
        mode="auto",
        customer_facing=True,
    )
    page = world.client("controller", "fr").get(f"/customers/{martin.pk}/").content.decode()
    assert "written before reasons had codes" in page


def test_french_pages_say_the_reason_in_french_words(world, due_on_the_first):
    due = due_on_the_first
    martin = world.customers["martin"]
    for url in ("/calendar/", f"/customers/{martin.pk}/"):
        page = world.client("controller", "fr").get(url).content.decode()
        assert f"F-M1 échue le {html.escape(formatting.day(due, 'fr'))} - 5 jours" in page
        assert "F-M1 due" not in page
