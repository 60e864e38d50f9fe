"""A sales rep acts from the link in their weekly digest, in Chromium, without logging in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from relance.models import Company, Customer, Event, Membership
from relance.services.dunning import outbox, sales_reps
from relance.services.organisation import hours

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_rep_places_a_hold_from_the_digest_link(
    page, live_server, new_customer, new_invoice, settings, tmp_path
):
    settings.RELANCE_BASE_URL = live_server.url
    paul = get_user_model().objects.create(
        username="paul", first_name="Paul", email="paul@sales.test"
    )
    company = Company.objects.create(code="a", name="Atelier", country="GB", currency="EUR")
    Membership.objects.create(company=company, user=paul, role=Membership.Role.SALES_REP)
    dupont = new_customer(company, "C1", "Boulangerie Dupont", paul)
    new_invoice(dupont, "I1", "1250.00", days_late=20)
    today = hours.company_today(company)  # the company's day, as the pages count it
    assert sales_reps.queue_digests(company, today) == 1
    outbox.deliver_due(now=timezone.now() + timedelta(days=4))
    [digest] = mail.outbox
    hold_link = re.search(r"Hold 7 days: (\S+)", digest.body).group(1)

    page.goto(hold_link)
    expect(page.get_by_role("heading", name="Pause dunning for 7 days")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Boulangerie Dupont")
    expect(page.locator("main")).to_contain_text("Owes €1,250.00.")
    assert Customer.objects.get(pk=dupont.pk).hold_until is None  # opening did nothing
    page.screenshot(path=str(tmp_path / "rep-link.png"), full_page=True)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("p.done")).to_contain_text("Dunning of Boulangerie Dupont is paused until")
    page.screenshot(path=str(tmp_path / "rep-link-done.png"), full_page=True)
    assert Customer.objects.get(pk=dupont.pk).hold_until == today + timedelta(days=7)
    assert Event.objects.get(kind="customer.held").actor == paul

    page.goto(hold_link[:-3] + "xx/")
    expect(page.locator("main")).to_contain_text("This link is not valid.")
