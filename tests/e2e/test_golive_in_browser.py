"""An admin takes a new company live in Chromium: the dashboard says sending is off, the go-live
page shows the first cycle by age and at step 1, the admin chooses step 1 and switches sending on
after confirming, and the switch is on the company's timeline; the page is looked at in English
and in French."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from relance.models import Company, Contact, Event, Membership, Plan
from relance.services.dunning import plans

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"
#: Where the screenshots go when a person wants to look at them (else the test's tmp_path).
SHOTS = os.environ.get("RELANCE_SCREENSHOTS", "")


def _ledger(new_customer, new_invoice) -> Company:
    company = Company.objects.create(
        code="atelier",
        name="Atelier Lumière",
        country="FR",
        currency="EUR",
        automatic_sending=False,
        first_run="step1",
    )
    plans.seed_library()
    plans.copy_library(company)
    standard = Plan.objects.get(company=company, code="standard")
    rows = [
        ("C1", "Boulangerie Dupont", "1250.00", 10, "compta@dupont.test"),
        ("C2", "Garage Martin", "830.40", 210, "factures@martin.test"),
        ("C3", "Pharmacie du Port", "96.00", 35, ""),
    ]
    for ext, name, total, late, email in rows:
        customer = new_customer(company, ext, name)
        customer.plan = standard
        customer.save(update_fields=["plan"])
        new_invoice(customer, f"I-{ext}", total, days_late=late)
        if email:
            Contact.objects.create(
                company=company,
                customer=customer,
                external_id=f"K-{ext}",
                name=name,
                email=email,
                roles=["billing"],
            )
    return company


def _shot(page, tmp_path: Path, name: str) -> None:
    folder = Path(SHOTS) if SHOTS else tmp_path
    page.screenshot(path=str(folder / name), full_page=True)


def test_an_admin_reviews_the_first_cycle_and_goes_live(
    page, browser, live_server, new_customer, new_invoice, tmp_path
):
    company = _ledger(new_customer, new_invoice)
    ada = get_user_model().objects.create(
        username="ada", email="ada@atelier.test", password=make_password(PASSWORD)
    )
    Membership.objects.create(company=company, user=ada, role=Membership.Role.ADMIN)
    page.goto("/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    banner = page.locator(".notice.golive-off")
    expect(banner).to_contain_text("Automatic sending is off for Atelier Lumière")
    banner.get_by_role("link", name="Review and go live").click()
    expect(page.get_by_role("heading", name="Go live", exact=True)).to_be_visible()
    expect(page.get_by_label("Start everyone at step 1 of their plan")).to_be_checked()
    expect(page.locator("#by-step")).to_contain_text("Rappel amical")
    expect(page.locator("#by-step")).not_to_contain_text("Mise en demeure")
    expect(page.locator("#unreachable")).to_contain_text("Pharmacie du Port")
    expect(page.locator("#notices")).to_contain_text("Garage Martin")
    expect(page.locator("#samples")).to_contain_text("I-C1")
    _shot(page, tmp_path, "golive-step1-en.png")

    page.get_by_label("By age: each customer at the step their oldest invoice warrants").check()
    page.get_by_role("button", name="Show the first cycle with this choice").click()
    expect(page.locator("#by-step")).to_contain_text("Mise en demeure")
    _shot(page, tmp_path, "golive-by-age-en.png")

    page.get_by_label("Ignore invoices due before a date").check()
    page.get_by_role("button", name="Show the first cycle with this choice").click()
    expect(page.locator("#policy-form")).to_contain_text("Give the date")

    page.get_by_label("Start everyone at step 1 of their plan").check()
    page.get_by_role("button", name="Show the first cycle with this choice").click()
    asked: list[str] = []

    def accept(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.get_by_role("button", name="Switch on automatic sending").click()
    expect(page.locator(".messages")).to_contain_text("Automatic sending is on for Atelier Lumière")
    assert asked
    assert "Switch on automatic sending?" in asked[0]
    expect(page.locator("#history")).to_contain_text("Automatic sending switched on")
    expect(page.locator("#history")).to_contain_text("Start everyone at step 1 of their plan")
    expect(page.get_by_role("link", name="Go live")).to_have_count(0)
    _shot(page, tmp_path, "golive-live-en.png")
    company.refresh_from_db()
    assert company.automatic_sending
    assert company.first_run == "step1"
    assert Event.objects.get(kind="company.live").actor == ada

    # The same page in French, for a French-speaking admin.
    Company.objects.filter(pk=company.pk).update(automatic_sending=False)
    french = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1440, "height": 900}
    )
    french.add_cookies(page.context.cookies())
    other = french.new_page()
    other.goto("/dashboard/")
    _shot(other, tmp_path, "golive-dashboard-fr.png")
    other.goto(f"/go-live/?company={company.pk}")
    _shot(other, tmp_path, "golive-step1-fr.png")
    french.close()


class _Later:
    """The background worker, run by the test when it chooses (services.dunning.golive_jobs)."""

    def start(self, company_id: int) -> None:
        pass


def test_a_large_companys_projection_is_computed_in_the_background_and_polled(
    page, live_server, new_customer, new_invoice, settings
):
    from relance.services.dunning import golive_jobs

    settings.RELANCE_GOLIVE_INLINE_CUSTOMERS = 0  # every company counts as large
    settings.RELANCE_GOLIVE_EXECUTOR = "tests.e2e.test_golive_in_browser._Later"
    company = _ledger(new_customer, new_invoice)
    ada = get_user_model().objects.create(
        username="ada", email="ada@atelier.test", password=make_password(PASSWORD)
    )
    Membership.objects.create(company=company, user=ada, role=Membership.Role.ADMIN)
    page.goto("/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/go-live/?company={company.pk}")
    expect(page.locator("#computing")).to_contain_text("Computing what the first cycle would do")
    expect(page.locator("#by-step")).to_have_count(0)
    golive_jobs.compute(company.pk)  # the worker finishes; the page's polling shows it
    expect(page.locator("#by-step")).to_contain_text("Rappel amical", timeout=10_000)
    expect(page.locator("#computing")).to_have_count(0)
    expect(page.locator("#notices")).to_contain_text("Garage Martin")
