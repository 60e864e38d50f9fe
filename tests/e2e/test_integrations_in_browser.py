"""An admin connects the ERP in Chromium: creates an API token, copies it once, uses it, adds a
webhook and reads its delivery log; the API's docs page renders from our own files."""

from __future__ import annotations

import re

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from relance.models import Company, Membership
from relance.services.dialogue import pauses
from relance.services.integrations import webhooks
from relance.services.ledger import lookup
from tests import clock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"


def test_an_admin_connects_the_erp(
    page, live_server, receiver, new_customer, new_invoice, tmp_path, settings
):
    claire = get_user_model().objects.create(
        username="claire", email="claire@atelier.test", password=make_password(PASSWORD)
    )
    company = Company.objects.create(code="a", name="Atelier", country="FR", currency="EUR")
    Membership.objects.create(company=company, user=claire, role=Membership.Role.ADMIN)
    new_invoice(new_customer(company, "C1", "Boulangerie Dupont"), "I1", "1250.00", days_late=40)
    page.goto("/login/")
    page.get_by_label("Username").fill("claire")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("header.topbar details.menu").get_by_text("Administration").click()
    page.get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", name="Integrations")).to_be_visible()

    page.get_by_label("Name").fill("ERP nightly sync")
    page.get_by_label("Access").select_option("write")
    page.get_by_role("button", name="Create a token").click()
    shown = page.locator("#new-token code").inner_text()
    assert re.fullmatch(r"rl_[0-9a-f]{8}_[\w-]+", shown)
    answer = requests.get(
        f"{live_server.url}/api/v1/invoices/I1",
        headers={"Authorization": f"Bearer {shown}"},
        timeout=10,
    )
    assert answer.json()["amount_due"] == "1250.00"

    page.get_by_label("URL").fill("http://169.254.169.254/latest/meta-data/")
    page.get_by_role("button", name="Add the webhook").click()
    expect(page.locator("form", has_text="Add the webhook")).to_contain_text("private network")

    settings.RELANCE_WEBHOOK_ALLOW = "127.0.0.1"  # the operator lets the local receiver in
    page.get_by_label("URL").fill(receiver.url)
    for name in ("reminder.sent", "action.created", "payment.received", "promise.created"):
        page.get_by_label(name).uncheck()
    page.get_by_role("button", name="Add the webhook").click()
    expect(page.locator(".messages")).to_contain_text("Webhook added.")
    expect(page.locator("#new-token")).to_have_count(0)  # shown once only

    pauses.open_dispute(lookup.invoice("I1", company), clock.today())
    webhooks.deliver_due()
    page.reload()
    row = page.locator("tr", has_text="dispute.opened").last
    expect(row).to_contain_text("delivered")
    page.screenshot(path=str(tmp_path / "integrations.png"), full_page=True)
    assert [r["headers"]["Relance-Event"] for r in receiver.received] == ["dispute.opened"]

    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("relance")
