"""A credit controller sends a broadcast to a segment, in Chromium: build the segment, read the
preview, create, send, see it leave and send a second wave."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from relance.models import Company, Contact, Membership, OutboxMessage
from relance.services.dunning import outbox

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"


def test_a_broadcast_reaches_the_segment_once_per_wave(page, new_customer, new_invoice, tmp_path):
    claire = get_user_model().objects.create(username="claire", password=make_password(PASSWORD))
    company = Company.objects.create(code="a", name="Atelier", country="FR", currency="EUR")
    Membership.objects.create(company=company, user=claire, role=Membership.Role.CREDIT_CONTROLLER)
    dupont = new_customer(company, "C1", "Boulangerie Dupont")
    new_invoice(dupont, "I1", "1250.00", days_late=40)
    new_customer(company, "C2", "Garage Martin")  # owes nothing: not in the segment
    Contact.objects.create(
        company=company,
        customer=dupont,
        external_id="K1",
        name="Jeanne Dupont",
        email="jeanne@dupont.test",
        roles=["billing"],
    )
    page.goto("/login/")
    page.get_by_label("Username").fill("claire")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()

    page.get_by_label("Name").fill("New bank details")
    page.get_by_label("Owes", exact=True).select_option("overdue")
    page.get_by_label("Subject").fill("Our bank details change")
    page.get_by_label("Body").fill("Dear {{ contact.name }}, you owe {{ totals }}.")
    preview = page.locator("#campaign-preview")
    expect(preview).to_contain_text("1 customer in the segment")
    expect(preview).to_contain_text("Dear Jeanne Dupont, you owe €1,250.00.")
    expect(preview).not_to_contain_text("Garage Martin")
    page.screenshot(path=str(tmp_path / "campaign-new.png"), full_page=True)
    page.get_by_role("button", name="Create the campaign").click()

    expect(page.get_by_role("heading", name="New bank details")).to_be_visible()
    page.get_by_role("button", name="Send to the segment").click()
    expect(page.locator("#confirm-wave")).to_contain_text("This wave writes to 1 customer")
    assert not OutboxMessage.objects.exists()
    page.get_by_role("button", name="Confirm: send 1 message").click()
    expect(page.locator(".messages")).to_contain_text("Wave 1 is queued: 1 messages.")
    outbox.deliver_due(now=timezone.now() + timedelta(days=4))  # whatever the hour
    [email] = mail.outbox
    assert email.to == ["jeanne@dupont.test"]
    assert email.subject == "Our bank details change"
    page.reload()
    expect(page.locator("#wave-1")).to_contain_text("Sent 1")
    expect(page.locator("#wave-1")).to_contain_text("€1,250.00")
    page.screenshot(path=str(tmp_path / "campaign-sent.png"), full_page=True)

    # the incident: a second wave minutes later no longer writes again to the same people
    page.get_by_label("Everyone reached before").check()
    page.get_by_role("button", name="Send this wave").click()
    confirm = page.locator("#confirm-wave")
    expect(confirm).to_contain_text("This wave writes to 0 customers")
    expect(confirm).to_contain_text("1 customer was contacted too recently")
    expect(confirm).to_contain_text("Boulangerie Dupont")
    expect(page.get_by_text("Nobody to write to now")).to_be_visible()
    page.screenshot(path=str(tmp_path / "campaign-second-wave.png"), full_page=True)
    assert OutboxMessage.objects.count() == 1

    page.get_by_role("link", name="Boulangerie Dupont").first.click()
    expect(page.locator(".timeline")).to_contain_text("New bank details")
