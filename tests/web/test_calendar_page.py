"""The calendar: the stored forecast of the next 30 days, within reach, filtered; the same as
the forecast the cycle would follow."""

from __future__ import annotations

import html
from datetime import timedelta
from pathlib import Path

import pytest

from relance.messaging.reasons import written
from relance.models import ForecastEntry, Plan
from relance.services.dunning import calendar, forecasting
from relance.services.dunning.plans import load_plans
from relance.services.organisation import hours

STANDARD = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"


@pytest.fixture
def stored(world):
    load_plans(STANDARD.read_text(encoding="utf-8"))
    for name in ("dupont", "smith"):
        customer = world.customers[name]
        customer.plan = Plan.objects.get(code="standard", company=customer.company)
        customer.save()
    today = hours.company_today(world.alpha)
    for company in (world.alpha, world.beta):
        calendar.refresh(company, today)
    return today


def test_the_stored_calendar_is_the_forecast(world, stored):
    end = stored + timedelta(days=calendar.DAYS - 1)
    expected = forecasting.forecast(stored, end, company_id=world.alpha.pk)
    rows = ForecastEntry.objects.filter(company=world.alpha).order_by("day", "step_index")
    assert [(r.day.isoformat(), r.step, r.reference, r.reason) for r in rows] == [
        (i["date"], i["step"], i["reference_invoice"], i["reason"]) for i in expected
    ]
    assert rows  # Dupont's I1 (10 days late) and I2 (due in 20 days) have steps coming
    calendar.refresh(world.alpha, stored)  # replaced, not added
    assert ForecastEntry.objects.filter(company=world.alpha).count() == len(expected)


def test_the_page_lists_days_with_reasons_within_reach(world, stored):
    page = world.client("controller").get("/calendar/").content.decode()
    assert "Boulangerie Dupont" in page
    assert "Smith" not in page
    entry = ForecastEntry.objects.filter(company=world.alpha).first()
    assert html.escape(written(entry.reason, "en", entry.reason_data)) in page
    assert entry.reason not in page  # the stored English text has ISO dates: not shown
    assert world.client("other_rep").get("/calendar/").content.decode().count("Dupont") == 0
    by_letter = world.client("controller").get("/calendar/", {"channel": "letter"}).content.decode()
    by_email = world.client("controller").get("/calendar/", {"channel": "email"}).content.decode()
    letters = ForecastEntry.objects.filter(company=world.alpha, channel="letter").count()
    emails = ForecastEntry.objects.filter(company=world.alpha, channel="email").count()
    assert ("Boulangerie Dupont" in by_letter) == bool(letters)
    assert ("Boulangerie Dupont" in by_email) == bool(emails)


def test_another_companys_filter_shows_nothing_of_it(world, stored):
    page = world.client("controller").get("/calendar/", {"company": world.beta.pk})
    assert "Smith" not in page.content.decode()


def test_the_daily_tick_stores_the_calendar_and_the_days_figures(world):
    from relance.models import DailyFigures
    from relance.services.dunning import scheduling

    load_plans(STANDARD.read_text(encoding="utf-8"))
    world.customers["dupont"].plan = Plan.objects.get(code="standard", company=world.alpha)
    world.customers["dupont"].save()
    scheduling.tick()
    today = hours.company_today(world.alpha)
    assert ForecastEntry.objects.filter(company=world.alpha, day__gte=today).exists()
    assert DailyFigures.objects.filter(company=world.alpha, day=today, currency="EUR").exists()


@pytest.mark.parametrize(
    ("language", "amount"), [("en", "€1,250.00"), ("fr", "1\u202f250,00\xa0€")]
)
def test_each_step_shows_what_it_chases_and_whose_customer_it_is(world, stored, language, amount):
    controller = world.users["controller"]
    controller.first_name, controller.last_name = "Claire", "Martin"
    controller.save()
    world.customers["dupont"].owner = controller
    world.customers["dupont"].save()
    entry = ForecastEntry.objects.filter(company=world.alpha, reference="I1").first()
    assert entry is not None
    assert entry.amounts == {"EUR": "1250.00"}
    page = world.client("controller", language).get("/calendar/").content.decode()
    assert amount in page
    assert "Claire Martin" in page
    assert "Standard B2B · F-I1" in page  # the plan's name and the invoice's number, not codes
    if language == "en":
        assert "owner: Claire Martin" in page
    assert "controller@ar.test" not in page  # a name, not an email address
    assert f'<option value="{controller.pk}">Claire Martin</option>' in page
    assert f'<option value="{entry.plan_code}">Standard B2B</option>' in page  # filter by name


def test_the_calendar_filters_by_owner(world, stored):
    controller = world.users["controller"]
    world.customers["dupont"].owner = controller
    world.customers["dupont"].save()
    client = world.client("controller")
    mine = client.get("/calendar/", {"owner": controller.pk}).content.decode()
    assert "Boulangerie Dupont" in mine
    nobodys = client.get("/calendar/", {"owner": "none"}).content.decode()
    assert "Boulangerie Dupont" not in nobodys
    someone_else = client.get("/calendar/", {"owner": world.users["admin"].pk}).content.decode()
    assert "Boulangerie Dupont" in someone_else  # not an owner here: the filter is ignored
