"""A sales rep's week, in French, in Chromium.

Hugo Lambert sells for Atelier Lumière SAS; the credit team chases his customers' unpaid invoices.
He logs in (his browser asks for French) and lands on "Mes clients", not the dashboard: each of his
customers with what it owes (amounts written the French way), its invoices and the next step with
its reason. He opens one of his customers; the menus of what he cannot use are absent, and a
staff page (the print runs) answers with a styled page in French, not a bare "403 Forbidden".
From the link of his weekly digest he pauses the dunning of a customer: the confirm page shows
the amount owed and dates in French, and leads back to his customers. Every page is pictured in
French, then once more in English.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from relance.models import Company, Customer, Event, Membership, Plan
from relance.services.dunning import calendar, outbox, sales_reps
from relance.services.dunning import plans as service
from relance.services.dunning.run import run as run_cycle
from tests import clock
from tests.e2e.test_controller_morning_in_french import Pictures, browse, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"


@pytest.fixture
def hugo(new_customer, new_invoice, settings, live_server):
    settings.RELANCE_BASE_URL = live_server.url
    hugo = get_user_model().objects.create(
        username="hugo",
        email="hugo@atelier-lumiere.test",
        first_name="Hugo",
        last_name="Lambert",
        password=make_password(PASSWORD),
    )
    other = get_user_model().objects.create(
        username="ines", email="ines@atelier-lumiere.test", first_name="Inès"
    )
    company = Company.objects.create(
        code="atelier",
        name="Atelier Lumière SAS",
        country="FR",
        currency="EUR",
        sender_email="compta@atelier-lumiere.test",
    )
    Membership.objects.create(company=company, user=hugo, role=Membership.Role.SALES_REP)
    Membership.objects.create(company=company, user=other, role=Membership.Role.SALES_REP)
    service.seed_library()
    service.copy_library(company)
    standard = Plan.objects.get(company=company, code="standard")
    ledger = [
        ("C1", "Boulangerie Dupont", hugo, [("2026-0412", "1250.00", 20)]),
        (
            "C2",
            "Fabre Logistique EURL",
            hugo,
            [("2026-0388", "4830.50", 47), ("2026-0501", "920.00", 5)],
        ),
        ("C3", "Garage Martin", hugo, [("2026-0433", "2100.00", -10)]),
        ("C4", "Pharmacie Leroy", other, [("2026-0490", "1875.40", 17)]),
    ]
    for ext, name, rep, invoices in ledger:
        customer = new_customer(company, ext, name, rep)
        customer.plan = standard
        customer.save()
        for number, total, late in invoices:
            new_invoice(customer, number, total, days_late=late)
    today = clock.today(company)
    run_cycle(today, deliver=False)
    calendar.refresh(company, today)
    return hugo


def test_a_sales_reps_week(browser, live_server, hugo, tmp_path):
    shots = Pictures(Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path)) / "sales-rep-week")
    company = Company.objects.get(code="atelier")
    today = clock.today(company)
    context, page = browse(browser, live_server, "fr-FR")
    log_in(page, "hugo")

    # he lands on his customers, not on the dashboard
    expect(page).to_have_url(f"{live_server.url}/my-customers/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    main = page.locator("main")
    expect(main).to_contain_text("Boulangerie Dupont")
    expect(main).to_contain_text("Fabre Logistique EURL")
    expect(main).not_to_contain_text("Pharmacie Leroy")  # Inès's customer
    fabre = page.locator("section.rep-customer", has_text="Fabre Logistique EURL")
    expect(fabre).to_contain_text("5\u202f750,50\u202f€")
    expect(fabre).to_contain_text("4\u202f830,50\u202f€")
    expect(fabre).to_contain_text(re.compile(r"\d{1,2}(er)? \w+ 20\d\d"))  # a French date
    expect(fabre).not_to_contain_text(re.compile(r"20\d\d-\d\d-\d\d"))  # no ISO date
    shots.take(page, "01-my-customers")

    # the summary: what his customers owe, what is overdue, the steps of the coming week
    summary = page.locator("#summary")
    expect(summary).to_contain_text("9\u202f100,50\u202f€")  # Inès's customer left out
    expect(summary).to_contain_text("7\u202f000,50\u202f€")  # Garage Martin is not due yet
    expect(summary.locator("div", has_text="Prochaines étapes").last).to_contain_text("1")

    # a search by name, then the customers with an overdue invoice
    filters = page.locator("#rep-filters")
    filters.locator("input[name=q]").fill("dupont")
    filters.get_by_role("button", name="Filtrer").click()
    expect(page.locator("section.rep-customer")).to_have_count(1)
    expect(page.locator("section.rep-customer")).to_contain_text("Boulangerie Dupont")
    shots.take(page, "01b-my-customers-search")
    filters.locator("input[name=q]").fill("")
    filters.locator("select[name=status]").select_option("overdue")
    filters.get_by_role("button", name="Filtrer").click()
    expect(page.locator("section.rep-customer")).to_have_count(2)
    expect(main).not_to_contain_text("Garage Martin")
    shots.take(page, "01c-my-customers-overdue")
    filters.get_by_role("link", name="Effacer").click()
    expect(page.locator("section.rep-customer")).to_have_count(3)

    # only the menus he can use
    nav = page.locator("header.topbar nav")
    expect(nav.get_by_role("link", name="Mes clients")).to_have_attribute("aria-current", "page")
    for absent in ("Analyse", "Plans", "Campagnes", "File d\u2019envoi", "Import"):
        expect(nav.get_by_role("link", name=absent, exact=True)).to_have_count(0)
    expect(page.locator("header.topbar details.menu", has_text="Administration")).to_have_count(0)

    # one of his customers
    fabre.get_by_role("link", name="Fabre Logistique EURL").click()
    expect(page.get_by_role("heading", name="Fabre Logistique EURL")).to_be_visible()
    expect(page.locator("#glance")).to_contain_text("5\u202f750,50\u202f€")
    shots.take(page, "02-customer")

    # a staff page: a styled refusal in French, and a way back
    response = page.goto("/print-runs/")
    assert response.status == 403
    expect(
        page.get_by_role("heading", name=re.compile("pas pour votre rôle|votre rôle"))
    ).to_be_visible()
    expect(page.locator("header.topbar")).to_be_visible()
    expect(main).not_to_contain_text("Forbidden")
    shots.take(page, "03-not-for-his-role")
    page.locator("main a.button").click()
    expect(page).to_have_url(f"{live_server.url}/my-customers/")

    # the weekly digest's link: pause Boulangerie Dupont's dunning for a week
    assert sales_reps.queue_digests(company, today) == 2  # Hugo and Inès
    outbox.deliver_due(now=timezone.now() + timedelta(days=4))
    [digest] = [m for m in mail.outbox if "hugo@atelier-lumiere.test" in m.to]
    links = re.findall(r"https?://\S+/rep/\S+/", digest.body)
    assert links, digest.body
    for link in links:
        page.goto(link)
        if (
            "Boulangerie Dupont" in page.locator("main").inner_text()
            and page.get_by_role(
                "heading", name=re.compile("Suspendre|Mettre en pause|pause", re.I)
            ).count()
        ):
            break
    else:
        pytest.fail("no link of the digest pauses Boulangerie Dupont")
    expect(main).to_contain_text("1\u202f250,00\u202f€")
    expect(main).not_to_contain_text(re.compile(r"20\d\d-\d\d-\d\d"))
    shots.take(page, "04-digest-link")
    page.get_by_role("button", name="Confirmer").click()
    until = today + timedelta(days=sales_reps.HOLD_DAYS)
    expect(page.locator("p.done")).to_contain_text("Boulangerie Dupont")
    assert Customer.objects.get(external_id="C1").hold_until == until
    assert Event.objects.get(kind="customer.held").actor == hugo
    shots.take(page, "05-digest-link-done")
    page.get_by_role("link", name=re.compile("retour à mes clients", re.I)).click()
    expect(page).to_have_url(f"{live_server.url}/my-customers/")

    assert shots.english == {}, f"English labels on French pages: {shots.english}"
    context.close()

    context, page = browse(browser, live_server, "en-GB")
    log_in(page, "hugo", french=False)
    shots.again_in_english(page)
    context.close()
