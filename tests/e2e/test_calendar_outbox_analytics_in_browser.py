"""In Chromium: a UK customer's portal with a sort code and an account number and British dates;
a credit controller's calendar (amounts, owners), outbox (when each message leaves, a letter's
postal address, the preview) and the effectiveness of the steps, in English and in French."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from relance.models import (
    Company,
    Contact,
    Customer,
    Execution,
    Invoice,
    Membership,
    OutboxMessage,
    Payment,
    Plan,
)
from relance.services.dunning import calendar, run
from relance.services.dunning.plans import load_plans
from relance.services.ledger import allocation, balances
from relance.services.organisation import hours
from relance.services.portal import links

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"
STANDARD = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"


def _invoice(customer: Customer, ext: str, total: str, days_late: int) -> Invoice:
    due = hours.company_today(customer.company) - timedelta(days=days_late)
    return Invoice.objects.create(
        company=customer.company,
        customer=customer,
        external_id=ext,
        number=f"INV-{ext}",
        issue_date=due - timedelta(days=30),
        due_date=due,
        currency=customer.currency,
        total=Decimal(total),
    )


def _ledger() -> tuple[Company, Customer]:
    claire = get_user_model().objects.create(
        username="claire",
        first_name="Claire",
        last_name="Fabre",
        email="claire@atelier.test",
        password=make_password(PASSWORD),
    )
    company = Company.objects.create(
        code="atelier",
        name="Atelier Lumière SAS",
        country="FR",
        currency="EUR",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        sort_code="401276",
        account_number="41234567",
    )
    Membership.objects.create(company=company, user=claire, role=Membership.Role.CREDIT_CONTROLLER)
    load_plans(STANDARD.read_text(encoding="utf-8"))
    plan = Plan.objects.get(code="standard", company=company)
    customers = []
    for ext, name, country, late in [
        ("C1", "Fabre Logistique EURL", "FR", 60),
        ("C2", "Thames Joinery Ltd", "GB", 15),
        ("C3", "Boulangerie Dupont", "FR", 30),
    ]:
        customer = Customer.objects.create(
            company=company,
            external_id=ext,
            name=name,
            currency="GBP" if country == "GB" else "EUR",
            country=country,
            language="en" if country == "GB" else "fr",
            time_zone="Europe/London" if country == "GB" else "Europe/Paris",
            address_line1="12 rue des Lilas" if country == "FR" else "4 Mill Lane",
            postal_code="69003" if country == "FR" else "OX1 2AB",
            city="Lyon" if country == "FR" else "Oxford",
            plan=plan,
            owner=claire if ext != "C3" else None,
        )
        Contact.objects.create(
            company=company,
            customer=customer,
            external_id=f"K{ext}",
            name="Accounts",
            email=f"accounts@{ext.lower()}.test",
            roles=["billing", "legal"],
        )
        _invoice(customer, f"{ext}1", "1250.00", late)
        _invoice(customer, f"{ext}2", "380.40", late - 40)
        customers.append(customer)
    balances.refresh([c.pk for c in customers])
    today = hours.company_today(company)
    Execution.objects.create(
        key="past-1",
        company=company,
        customer=customers[0],
        plan_code="standard",
        step_name="Payment reminder",
        reference_invoice=Invoice.objects.get(external_id="C11"),
        reference_external_id="C11",
        date=today - timedelta(days=45),
        status="executed",
        channel="email",
        mode="auto",
        customer_facing=True,
    )
    Payment.objects.create(
        company=company,
        customer=customers[0],
        external_id="P1",
        invoice=Invoice.objects.get(external_id="C11"),
        date=today - timedelta(days=40),
        currency="EUR",
        amount=Decimal("250.00"),
    )
    allocation.reallocate([customers[0].pk])
    run.run(today, company_id=company.pk, deliver=False)
    calendar.refresh(company, today)
    return company, customers[1]


def _log_in(page) -> None:
    page.goto("/login/")
    page.locator("input[name=username]").fill("claire")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


def test_the_portal_calendar_outbox_and_analytics(browser, live_server, tmp_path):
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    company, thames = _ledger()
    assert OutboxMessage.objects.filter(channel="letter").exists()

    portal = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1440, "height": 900}
    ).new_page()
    portal.goto(f"/p/{links.token(thames)}/")
    bank = portal.locator("dl.bank")
    expect(bank).to_contain_text("Sort code")
    expect(bank).to_contain_text("40-12-76")
    expect(bank).to_contain_text("41234567")
    expect(bank).not_to_contain_text("FR76")
    due = hours.company_today(company) - timedelta(days=15)
    expect(portal.locator("body")).to_contain_text(f"{due.day} {due:%B} {due.year}")
    portal.screenshot(path=str(shots / "portal-gb-en.png"), full_page=True)

    for language, locale in (("en", "en-GB"), ("fr", "fr-FR")):
        page = browser.new_context(
            base_url=live_server.url, locale=locale, viewport={"width": 1440, "height": 900}
        ).new_page()
        _log_in(page)
        page.goto("/calendar/")
        expect(page.locator("ul.upcoming").first).to_contain_text("Claire Fabre")
        expect(page.locator("select[name=owner]")).to_be_visible()
        page.screenshot(path=str(shots / f"calendar-{language}.png"), full_page=True)

        page.goto("/outbox/?tab=queued")
        letter = page.locator("tr", has_text="12 rue des Lilas").first
        expect(letter).to_contain_text("69003 Lyon")
        expect(letter.locator("td.when")).not_to_be_empty()
        page.screenshot(path=str(shots / f"outbox-{language}.png"), full_page=True)
        letter.locator("td.message-cell a").click()
        expect(page.locator("pre.message")).to_contain_text("INV-")
        page.screenshot(path=str(shots / f"outbox-message-{language}.png"), full_page=True)

        page.goto("/analytics/")
        table = page.locator("table.effect-table")
        expect(table).to_contain_text("Payment reminder")
        expect(table).to_contain_text("Standard")
        label = table.locator("td.label").first
        first, last = label.locator("strong").bounding_box(), label.locator(".badge").bounding_box()
        assert first is not None
        assert last is not None
        assert abs(first["y"] - last["y"]) < 8  # the step's name and its currency on one line
        table.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"analytics-{language}.png"), full_page=True)
        page.context.close()
    portal.context.close()
