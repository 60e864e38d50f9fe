"""Every page, under its Content-Security-Policy, in Chromium: the staff app, the customer portal,
the API docs and the admin load and work without the browser refusing anything (the `page`
fixture fails a test on any violation or script error), and the confirmations and the selects
that submit themselves, once inline handlers, still work from the static script."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from relance.models import Company, Contact, Customer, Invoice, Membership
from relance.services.portal import links

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass-for-tests!"


@pytest.fixture
def dupont(new_customer, new_invoice) -> Customer:
    hashed = make_password(PASSWORD)
    claire = get_user_model().objects.create(
        username="claire", email="claire@ar.test", password=hashed, is_staff=True
    )
    claire.is_superuser = True
    claire.save()
    company = Company.objects.create(
        code="atelier",
        name="Atelier Lumière SAS",
        country="FR",
        currency="EUR",
        brand_colour="#8a2be2",
        payment_provider="link",
        payment_link_template="https://pay.example.test/checkout?ref={reference}",
    )
    Membership.objects.create(company=company, user=claire, role=Membership.Role.ADMIN)
    dupont = new_customer(company, "C1", "Boulangerie Dupont")
    Contact.objects.create(
        company=company,
        customer=dupont,
        external_id="K1",
        name="Jeanne Dupont",
        email="jeanne@dupont.test",
        roles=["billing"],
    )
    new_invoice(dupont, "I1", "1250.00", days_late=40)
    new_invoice(dupont, "I2", "300.00", days_late=-10)
    new_invoice(new_customer(company, "C2", "Garage Martin"), "I3", "800.00", days_late=95)
    return dupont


def log_in(page) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill("claire")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def new_plan(page) -> str:
    page.goto("/plans/new/")
    page.get_by_label("Name").fill("Quick plan")
    page.get_by_role("button", name="Create the plan").click()
    expect(page.get_by_role("heading", name="Quick plan")).to_be_visible()
    return page.url


def test_every_page_works_under_its_policy(page, dupont):
    log_in(page)
    plan = new_plan(page)
    expect(page.locator("#preview")).not_to_be_empty()  # drawn by htmx
    page.locator("#step-form input[name=subject]").fill("Invoice overdue")
    page.wait_for_load_state("networkidle")
    invoice = Invoice.objects.get(external_id="I1")
    for path in (
        "/dashboard/",
        f"/customers/{dupont.pk}/",
        f"/invoices/{invoice.pk}/",
        "/actions/",
        "/calendar/",
        "/outbox/",
        "/campaigns/",
        "/plans/",
        "/plans/rules/",
        plan,
        "/integrations/",
        "/team/",
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        expect(page.locator("main h1")).to_be_visible()

    page.goto("/customers/")
    page.locator("input[name=q]").fill("Garage")  # the list filters itself through htmx
    expect(page.locator("#rows")).not_to_contain_text("Boulangerie Dupont")
    expect(page.locator("#rows")).to_contain_text("Garage Martin")

    page.goto("/analytics/")
    page.wait_for_function("() => window.Chart && Chart.getChart('kpi-chart')")
    assert page.evaluate("() => Chart.getChart('kpi-chart').data.datasets[1].label") == "Best DSO"
    page.locator("select[name=by]").select_option(index=1)  # submits itself
    page.wait_for_url("**/analytics/?*by=*")

    page.goto("/campaigns/new/")
    page.get_by_label("Name").fill("New bank details")
    page.get_by_label("Owes", exact=True).select_option("yes")
    page.get_by_label("Body").fill("Dear {{ contact.name }}")
    expect(page.locator("#campaign-preview")).to_contain_text("Dear Jeanne Dupont")  # by htmx

    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("relance")
    page.locator(".opblock-summary").first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    expect(page.locator(".live-responses-table").first).to_be_visible()

    page.goto("/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto("/admin/relance/company/add/")
    page.locator("#clocklink0").click()  # the admin's own widgets, drawn by its scripts
    expect(page.locator("#clockbox0")).to_be_visible()


def test_the_portal_works_under_its_policy(page, dupont):
    page.route(
        "https://pay.example.test/**",
        lambda route: route.fulfill(content_type="text/html", body="<h1>Fake provider</h1>"),
    )
    token = links.token(dupont)
    for suffix in ("dispute/", "promise/", "payment-plan/"):
        page.goto(f"/p/{token}/{suffix}?lang=en")
        expect(page.locator("main h1")).to_be_visible()
    page.goto(f"/p/{token}/")
    brand = page.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()"
    )
    assert brand == "#8a2be2"  # the style block the nonce allows
    page.get_by_role("button", name="Pay").first.click()  # posts here, redirected there
    expect(page.get_by_role("heading", name="Fake provider")).to_be_visible()
    page.goto(f"/p/{token[:-4]}abcd/")
    expect(page.locator(".problem")).to_be_visible()


def test_confirmations_still_ask_first(page, dupont):
    log_in(page)
    new_plan(page)
    page.get_by_role("button", name="Add a step").click()
    deletes = page.get_by_role("button", name="Delete")
    expect(deletes).to_have_count(2)
    steps = 2
    deletes.first.click()  # Playwright dismisses the question: nothing happens
    page.wait_for_load_state("networkidle")
    expect(deletes).to_have_count(steps)
    asked: list[str] = []

    def accept(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    deletes.first.click()
    expect(deletes).to_have_count(steps - 1)
    assert asked == ["Delete this step?"]

    page.goto(f"/customers/{dupont.pk}/")
    page.get_by_role("button", name="Withdraw every link sent so far").click()  # a form's submit
    expect(page.locator(".messages")).to_contain_text("Every portal link sent so far is withdrawn")
    assert asked[-1] == "Withdraw every link sent to this customer?"
