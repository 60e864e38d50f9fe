"""A credit controller and a sales rep use the staff app's customer pages in Chromium."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from relance.models import Company, Customer, Membership

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"


@pytest.fixture
def ledger(new_customer, new_invoice) -> dict[str, Customer]:
    hashed = make_password(PASSWORD)
    users = {
        name: get_user_model().objects.create(
            username=name, email=f"{name}@ar.test", first_name=name.title(), password=hashed
        )
        for name in ("claire", "hugo")
    }
    company = Company.objects.create(
        code="atelier", name="Atelier Lumière SAS", country="FR", currency="EUR"
    )
    Membership.objects.create(
        company=company, user=users["claire"], role=Membership.Role.CREDIT_CONTROLLER
    )
    Membership.objects.create(company=company, user=users["hugo"], role=Membership.Role.SALES_REP)
    customers = {
        "C1": new_customer(company, "C1", "Boulangerie Dupont", users["hugo"]),
        "C2": new_customer(company, "C2", "Garage Martin"),
        "C3": new_customer(company, "C3", "Pharmacie Centrale"),
    }
    new_invoice(customers["C1"], "I1", "1250.00", days_late=12)
    return customers


def log_in(page, username: str) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    landing = "My customers" if username == "hugo" else "Dashboard"  # a rep starts there
    expect(page.get_by_role("heading", name=landing)).to_be_visible()
    page.get_by_role("link", name="Customers", exact=True).click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()


def test_a_controller_searches_opens_a_customer_and_reads_it_in_french(page, ledger, tmp_path):
    log_in(page, "claire")
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_label("Search").fill("garage")  # htmx replaces the rows as one types
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Garage Martin")
    assert "q=garage" in page.url  # the search is in the address, to share or come back to
    page.get_by_label("Search").fill("")
    expect(rows).to_have_count(3)
    row = rows.filter(has_text="Boulangerie Dupont")
    expect(row).to_contain_text("€1,250.00")
    page.screenshot(path=str(tmp_path / "customers.png"), full_page=True)

    row.get_by_role("link", name="Boulangerie Dupont").click()
    expect(page.get_by_role("heading", name="Boulangerie Dupont")).to_be_visible()
    invoice = page.locator("table.grid tbody tr", has_text="F-I1")
    expect(invoice).to_contain_text("€1,250.00")
    expect(invoice.locator("td").nth(3)).to_have_text("12")  # days late
    expect(page.locator(".timeline")).to_contain_text("Invoice F-I1 issued for €1,250.00")
    page.screenshot(path=str(tmp_path / "customer.png"), full_page=True)

    page.get_by_role("button", name="Pause dunning").click()  # a week, the date proposed
    expect(page.get_by_role("status")).to_contain_text("Dunning paused until")
    expect(page.locator(".heading .badge")).to_contain_text("On hold until")
    expect(page.locator(".timeline li").first).to_contain_text("put the customer on hold until")

    page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("heading", name="Factures ouvertes")).to_be_visible()
    expect(invoice).to_contain_text("1\u202f250,00\u00a0€")
    page.screenshot(path=str(tmp_path / "client.png"), full_page=True)


def test_a_sales_rep_sees_only_their_customers(page, ledger):
    log_in(page, "hugo")
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Boulangerie Dupont")
    response = page.goto(f"/customers/{ledger['C2'].pk}/")
    assert response is not None
    assert response.status == 404
    page.goto(f"/customers/{ledger['C1'].pk}/")  # their own customer: read, not changed
    expect(page.get_by_role("heading", name="Boulangerie Dupont")).to_be_visible()
    expect(page.get_by_role("heading", name="Record")).to_have_count(0)
    expect(page.get_by_role("button", name="Send now")).to_have_count(0)


def test_a_controller_completes_a_call_that_got_a_promise(page, ledger, tmp_path):
    from relance.models import ActionItem, Execution, Promise
    from relance.services.organisation import hours

    customer = ledger["C1"]
    execution = Execution.objects.create(
        key="call-1",
        company=customer.company,
        customer=customer,
        plan_code="standard",
        step_name="Account owner call",
        reference_external_id="I1",
        date=hours.company_today(customer.company),
        status=Execution.Status.EXECUTED,
        channel="call",
        mode="manual",
        customer_facing=True,
        invoices=["I1"],
        totals={"EUR": "1250.00"},
    )
    item = ActionItem.objects.create(
        company=customer.company,
        customer=customer,
        execution=execution,
        kind=ActionItem.Kind.CALL,
        title="Account owner call",
        body="Ask when F-I1 will be paid.",
        due_date=execution.date,
        priority=22,
        priority_parts={"days_late": 12, "amount": 10},
    )
    item.assignees.add(get_user_model().objects.get(username="claire"))

    log_in(page, "claire")
    page.get_by_role("link", name="Actions").click()
    card = page.locator("article.action", has_text="Boulangerie Dupont")
    expect(card).to_contain_text("Priority 22 = 12 for lateness + 10 for the amount")
    card.get_by_text("Script and details").click()
    expect(card).to_contain_text("Ask when F-I1 will be paid.")
    card.get_by_label("Outcome").select_option("promised")
    card.get_by_role("button", name="Done").click()
    expect(page.get_by_role("status")).to_contain_text("Done: Account owner call")
    expect(page.locator("article.action")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "actions.png"), full_page=True)
    assert Promise.objects.get().invoices.get().external_id == "I1"

    page.get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="Boulangerie Dupont").click()
    expect(page.locator(".timeline")).to_contain_text("recorded a promise to pay F-I1 by")
