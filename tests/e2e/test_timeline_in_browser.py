"""A customer's timeline in Chromium reads as sentences, in English and in French, with the raw
data behind a "Details" toggle for the company's admin."""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from relance.models import Company, Invoice, Membership, Payment
from relance.services.dialogue import pauses
from relance.services.organisation import hours

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"


@pytest.fixture
def customer(new_customer, new_invoice):
    claire = get_user_model().objects.create(
        username="claire",
        email="claire@ar.test",
        first_name="Claire",
        last_name="Moreau",
        password=make_password(PASSWORD),
    )
    company = Company.objects.create(
        code="atelier", name="Atelier Lumière SAS", country="FR", currency="EUR"
    )
    Membership.objects.create(company=company, user=claire, role=Membership.Role.ADMIN)
    dupont = new_customer(company, "C1", "Boulangerie Dupont")
    new_invoice(dupont, "I1", "1250.00", days_late=12)
    new_invoice(dupont, "I2", "10953.97", days_late=-5)
    today = hours.company_today(company)
    i1, i2 = Invoice.objects.get(external_id="I1"), Invoice.objects.get(external_id="I2")
    Payment.objects.create(
        company=company,
        customer=dupont,
        external_id="P1",
        date=today,
        currency="EUR",
        amount=Decimal("250.0000"),
    )
    pauses.add_promise(dupont, [i2], date(2026, 12, 18), today, source="web", actor=claire)
    pauses.open_dispute(i1, today, reason="<script>alert(1)</script> wrong price", actor=claire)
    pauses.hold(dupont, today + timedelta(days=7), source="web", actor=claire)
    pauses.add_note(dupont, "Jeanne will call back on Friday", source="web", actor=claire)
    return dupont


def test_the_timeline_reads_as_sentences_in_both_languages(page, customer, tmp_path):
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.goto("/")
    page.get_by_label("Username").fill("claire")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/customers/{customer.pk}/")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Claire Moreau recorded a promise to pay F-I2 by 18 December")
    expect(timeline).to_contain_text("Claire Moreau opened a dispute on F-I1")
    expect(timeline).to_contain_text("<script>alert(1)</script> wrong price")  # shown as text
    expect(timeline).to_contain_text("Claire Moreau put the customer on hold until")
    expect(timeline).to_contain_text("Payment P1 of €250.00 received")
    expect(timeline).not_to_contain_text("{'")
    expect(timeline).not_to_contain_text(".0000")
    timeline.get_by_role("link", name="F-I2").first.click()
    expect(page.get_by_role("heading", name="Invoice F-I2")).to_be_visible()
    page.go_back()
    details = timeline.locator("details").first
    details.get_by_text("Details").click()
    expect(details).to_contain_text("source")
    page.screenshot(path=str(shots / "timeline-en.png"), full_page=True)

    page.get_by_label("Language").select_option("fr")
    expect(timeline).to_contain_text("18 décembre 2026")
    expect(timeline).to_contain_text("250,00\u00a0€")
    page.screenshot(path=str(shots / "timeline-fr.png"), full_page=True)
