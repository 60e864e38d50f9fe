"""The customer page's header in Chromium: a controller sees what is owed, overdue and the late
fees, the hold and the promise, the open call and who holds it, then lifts the hold; pictured
in English and French."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from relance.models import ActionItem, Company, Customer, Membership, Promise
from tests import clock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"


def test_a_controller_reads_the_header_and_lifts_a_hold(page, new_customer, new_invoice, tmp_path):
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    claire = get_user_model().objects.create(
        username="claire",
        first_name="Claire",
        last_name="Martin",
        password=make_password(PASSWORD),
    )
    company = Company.objects.create(code="a", name="Atelier", country="FR", currency="EUR")
    Membership.objects.create(company=company, user=claire, role=Membership.Role.CREDIT_CONTROLLER)
    dupont = new_customer(company, "C1", "Boulangerie Dupont")
    new_invoice(dupont, "I1", "1250.00", days_late=40)
    new_invoice(dupont, "I2", "300.00", days_late=-10)
    today = clock.today()
    Customer.objects.filter(pk=dupont.pk).update(hold_until=today + timedelta(days=7))
    promise = Promise.objects.create(
        company=company,
        customer=dupont,
        promised_on=today,
        pay_by=today + timedelta(days=5),
        amount=Decimal("1250.00"),
        currency="EUR",
    )
    promise.invoices.set(dupont.invoices.filter(external_id="I1"))
    call = ActionItem.objects.create(
        company=company,
        customer=dupont,
        kind=ActionItem.Kind.CALL,
        title="Call Boulangerie Dupont's billing contact",
        due_date=today,
    )
    call.assignees.set([claire])

    page.goto("/login/")
    page.get_by_label("Username").fill("claire")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/customers/{dupont.pk}/")
    glance = page.locator("#glance")
    expect(glance).to_contain_text("€1,550.00")
    expect(glance).to_contain_text("€1,250.00")
    expect(glance).to_contain_text("Claire Martin")
    states = page.locator("#states")
    expect(states).to_contain_text("On hold until")
    expect(states).to_contain_text("Promised to pay by")
    page.screenshot(path=str(shots / "customer-glance-en.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Lift the hold").click()
    expect(page.locator(".messages")).to_contain_text("The hold is lifted")
    expect(states).not_to_contain_text("On hold until")
    page.get_by_role("link", name="F-I2").first.click()
    actions = page.locator("#invoice-actions")
    actions.get_by_label("What is wrong").select_option("not_received")
    actions.get_by_label("Reason").fill("Never delivered")
    actions.get_by_role("button", name="Open the dispute").click()
    expect(page.locator(".messages")).to_contain_text("Dispute opened on F-I2")
    expect(actions).to_contain_text("The invoice is disputed")
    page.screenshot(path=str(shots / "invoice-en.png"), full_page=True)
    page.get_by_label("Language", exact=True).select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.goto(f"/customers/{dupont.pk}/")
    page.screenshot(path=str(shots / "customer-glance-fr.png"), full_page=True)
