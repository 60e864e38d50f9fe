"""A credit controller builds a three-step plan in the editor, publishes the draft, gives the plan
to a customer, and after the daily cycle sees the email on the customer's timeline: in Chromium,
from the first click."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import mail
from playwright.sync_api import expect

from relance.models import Company, Contact, Membership, OutboxMessage
from relance.services.dunning import outbox
from relance.services.dunning.run import run as run_cycle
from relance.services.organisation import hours

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"
SHOTS = "/tmp/relance-shots"


@pytest.fixture
def company(new_customer, new_invoice) -> Company:
    claire = get_user_model().objects.create(
        username="claire", email="claire@ar.test", password=make_password(PASSWORD)
    )
    company = Company.objects.create(
        code="atelier",
        name="Atelier Lumière SAS",
        country="FR",
        currency="EUR",
        sender_email="ar@atelier.test",
    )
    Membership.objects.create(company=company, user=claire, role=Membership.Role.ADMIN)
    dupont = new_customer(company, "C1", "Boulangerie Dupont")
    dupont.owner = claire
    dupont.save()
    Contact.objects.create(
        company=company,
        customer=dupont,
        external_id="K1",
        name="Jeanne Dupont",
        email="jeanne@dupont.test",
        roles=["billing"],
    )
    new_invoice(dupont, "I1", "1250.00", days_late=12)
    return company


def _edit_step(page, **fields: str) -> None:
    panel = page.locator("#step-form")
    for label, value in fields.items():
        field = panel.get_by_label(label, exact=True)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def test_build_a_plan_give_it_and_see_its_email_after_the_cycle(page, company):
    page.goto("/login/")
    page.get_by_label("Username").fill("claire")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Plans", exact=True).click()
    page.get_by_role("link", name="New plan").click()
    page.get_by_label("Name").fill("Quick plan")
    page.get_by_role("button", name="Create the plan").click()
    expect(page.get_by_role("heading", name="Quick plan")).to_be_visible()

    # step 1: our own email, with a merge field put in from the picker
    _edit_step(
        page,
        Name="First reminder",
        Days="5",
        Template="",
        Subject="Invoice {{ reference.number }} is overdue",
        Text="Dear ",
    )
    page.locator("#step-form textarea[name=body]").press("End")
    page.get_by_text("Insert a merge field").click()
    page.locator("button[data-insert='{{ customer.name }}']").click()
    expect(page.locator("#preview")).to_contain_text("Dear Boulangerie Dupont")
    expect(page.locator("#preview")).to_contain_text("Invoice F-I1 is overdue")
    page.get_by_role("button", name="Save the step in the draft").click()
    expect(page.get_by_role("status")).to_contain_text("Kept in the draft")

    # step 2: a call by the account owner
    page.get_by_role("button", name="+ Add a step").click()
    _edit_step(page, Name="Call the customer", Channel="call", Template="", Subject="Call")
    page.locator("#step-form textarea[name=body]").fill("Ask when {{ totals }} will be paid.")
    page.get_by_text("Who does it (manual steps)").click()
    page.locator("#field-owners").get_by_label("The account owner").check()
    page.get_by_label("Manual: a person does it or approves it").check()
    page.get_by_role("button", name="Save the step in the draft").click()
    expect(page.get_by_role("status")).to_contain_text("Kept in the draft")

    # step 3: the library's formal notice, by letter
    page.get_by_role("button", name="+ Add a step").click()
    _edit_step(page, Name="Formal notice", Channel="letter", Template="formal_notice")
    page.get_by_role("button", name="Save the step in the draft").click()
    ladder = page.locator(".ladder .rung")
    expect(ladder).to_have_count(3)
    expect(ladder.nth(0)).to_contain_text("5 days after the due date")
    expect(ladder.nth(1)).to_contain_text("Call the customer")
    expect(ladder.nth(2)).to_contain_text("Letter")
    page.screenshot(path=f"{SHOTS}/plan-editor.png", full_page=True)
    expect(page.locator(".draft")).to_contain_text("Call the customer")
    page.get_by_role("button", name="Publish the draft").click()
    expect(page.get_by_role("status")).to_contain_text("Published")
    expect(page.locator(".draft")).to_have_count(0)

    # give it to the customer, run the day's cycle, deliver
    page.goto("/customers/")
    page.get_by_role("link", name="Boulangerie Dupont").click()
    page.get_by_label("Plan", exact=True).select_option("quick-plan")
    page.get_by_role("button", name="Change the plan").click()
    expect(page.get_by_role("status")).to_contain_text("The plan is now Quick plan")
    run_cycle(hours.company_today(company), source="test", deliver=False)
    message = OutboxMessage.objects.get()
    outbox.deliver_due(now=message.next_attempt_at)
    assert [m.subject for m in mail.outbox] == ["Invoice F-I1 is overdue"]
    assert mail.outbox[0].to == ["jeanne@dupont.test"]

    page.reload()
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Sent by email to jeanne@dupont.test")
    expect(timeline).to_contain_text("Invoice F-I1 is overdue")
    expect(timeline).to_contain_text("First reminder")
    page.screenshot(path=f"{SHOTS}/plan-given-and-sent.png", full_page=True)
