"""A credit controller logs in and lands on the dashboard, in Chromium."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from relance.models import Company, Membership

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"


def test_the_day_starts_on_the_dashboard(page, new_customer, new_invoice, tmp_path):
    claire = get_user_model().objects.create(username="claire", password=make_password(PASSWORD))
    company = Company.objects.create(code="a", name="Atelier", country="FR", currency="EUR")
    Membership.objects.create(company=company, user=claire, role=Membership.Role.ADMIN)
    new_invoice(new_customer(company, "C1", "Boulangerie Dupont"), "I1", "1250.00", days_late=40)
    new_invoice(new_customer(company, "C2", "Garage Martin"), "I2", "300.00", days_late=-5)
    page.goto("/login/")
    page.get_by_label("Username").fill("claire")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    figures = page.locator("section.receivables")
    expect(figures).to_contain_text("€1,550.00")
    expect(figures.locator("table.aging tr", has_text="31-60 days")).to_contain_text("€1,250.00")
    expect(figures.locator("table.aging tr", has_text="Not yet due")).to_contain_text("€300.00")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()


def test_the_analytics_page_draws_its_chart(page, new_customer, new_invoice, tmp_path):
    claire = get_user_model().objects.create(username="claire", password=make_password(PASSWORD))
    company = Company.objects.create(code="a", name="Atelier", country="FR", currency="EUR")
    Membership.objects.create(company=company, user=claire, role=Membership.Role.ADMIN)
    new_invoice(new_customer(company, "C1", "Boulangerie Dupont"), "I1", "1250.00", days_late=40)
    page.goto("/login/")
    page.get_by_label("Username").fill("claire")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics")).to_be_visible()
    expect(page.locator("table.kpis tbody tr")).to_have_count(12)
    expect(page.locator("table.kpis tbody tr").last).to_contain_text("€1,250.00")
    page.wait_for_function("() => window.Chart && Chart.getChart('kpi-chart')")  # deferred script
    drawn = page.evaluate("() => Chart.getChart('kpi-chart').data.datasets.length")
    assert drawn == 3
    page.screenshot(path=str(tmp_path / "analytics.png"), full_page=True)
