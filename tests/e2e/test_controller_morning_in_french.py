"""A credit controller's morning, in French, in Chromium.

Claire Moreau keeps the receivables of Atelier Lumière SAS, a small French company whose ledger has
a few customers with overdue invoices; the daily cycle has run, so there are calls to make, tasks
and planned steps. She logs in (her browser asks for French), reads the dashboard, goes through
the Actions inbox (filtered to the calls; a call card names the contact and gives a number to
click), closes a call with the customer's promise (a date and an amount), opens a customer page
(what is owed, overdue, the late fees, the badges, the open tasks, the next contact and its reason),
lifts a hold and puts another, records a dispute with its category, reads the timeline, then the
calendar and the outbox. Every page is pictured, in French and once more in English, and none of
the French pages shows one of the app's English labels.

The admin's top navigation, at 1440 pixels in French, holds on one line.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from relance.models import (
    ActionItem,
    Company,
    Contact,
    Customer,
    Dispute,
    Membership,
    Plan,
    Promise,
)
from relance.services.dunning import calendar
from relance.services.dunning import plans as service
from relance.services.dunning.run import run as run_cycle
from tests import clock
from tests.web.test_french_pages import english_labels, leaks

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"


@pytest.fixture
def ledger(new_customer, new_invoice) -> Company:
    company = Company.objects.create(
        code="atelier",
        name="Atelier Lumière SAS",
        country="FR",
        currency="EUR",
        sender_email="compta@atelier-lumiere.test",
    )
    claire = get_user_model().objects.create(
        username="claire",
        email="claire@atelier-lumiere.test",
        first_name="Claire",
        last_name="Moreau",
        password=make_password(PASSWORD),
    )
    Membership.objects.create(company=company, user=claire, role=Membership.Role.CREDIT_CONTROLLER)
    service.seed_library()
    service.copy_library(company)
    standard = Plan.objects.get(company=company, code="standard")
    people = [
        (
            "C1",
            "Boulangerie Dupont",
            "Jeanne Dupont",
            "+33612345678",
            [("2026-0412", "1250.00", 50)],
        ),
        (
            "C2",
            "Fabre Logistique EURL",
            "Marc Fabre",
            "+33478901234",
            [("2026-0388", "4830.50", 47), ("2026-0501", "920.00", 16)],
        ),
        ("C3", "Garage Martin", "Luc Martin", "+33145678901", [("2026-0433", "2100.00", 62)]),
        (
            "C4",
            "Librairie Rousseau",
            "Anne Rousseau",
            "+33561234567",
            [("2026-0455", "640.00", 31), ("2026-0470", "380.00", -3)],
        ),
        ("C5", "Pharmacie Leroy", "Paul Leroy", "+33387654321", [("2026-0490", "1875.40", 17)]),
    ]
    for ext, name, contact, phone, invoices in people:
        customer = new_customer(company, ext, name)
        customer.plan = standard
        customer.owner = claire
        customer.language = "fr"
        customer.save()
        Contact.objects.create(
            company=company,
            customer=customer,
            external_id=f"K{ext}",
            name=contact,
            email=f"{contact.split()[0].lower()}@{ext.lower()}.test",
            phone=phone,
            roles=["billing"],
        )
        for number, total, late in invoices:
            new_invoice(customer, number, total, days_late=late)
    run_cycle(clock.today(company), deliver=False)
    calendar.refresh(company, clock.today(company))  # as the daily tick does
    return company


def browse(browser, live_server, locale):
    context = browser.new_context(
        base_url=live_server.url, locale=locale, viewport={"width": 1440, "height": 900}
    )
    return context, context.new_page()


def log_in(page, username, french=True):
    page.goto("/login/")
    page.get_by_label("Identifiant" if french else "Username").fill(username)
    page.get_by_label("Mot de passe" if french else "Password").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter" if french else "Log in").click()


class Pictures:
    """Screenshots of every page looked at, and the French ones read for English labels."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.labels = english_labels()
        self.paths: list[tuple[str, str]] = []
        self.english: dict[str, list[str]] = {}

    def take(self, page, name: str, *, language: str = "fr") -> None:
        page.screenshot(path=str(self.folder / f"{name}-{language}.png"), full_page=True)
        if language == "fr":
            self.paths.append((name, page.url))
            if found := sorted(leaks(page.content(), self.labels)):
                self.english[name] = found

    def again_in_english(self, page) -> None:
        """The same pages, as an English reader sees them."""
        for name, url in self.paths:
            page.goto(url)
            expect(page.locator("html")).to_have_attribute("lang", "en")
            self.take(page, name, language="en")


def test_a_credit_controllers_morning(browser, live_server, ledger, tmp_path):
    shots = Pictures(Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path)) / "controller-morning")
    today = clock.today(ledger)
    context, page = browse(browser, live_server, "fr-FR")
    log_in(page, "claire")

    # the dashboard: what is owed, in euros written the French way
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("main")).to_contain_text("\u202f€")
    shots.take(page, "01-dashboard")

    # the Actions inbox, the calls only: each card names the contact and gives a number to click
    page.get_by_role("link", name="Actions", exact=True).click()
    expect(page.get_by_role("heading", name="Actions")).to_be_visible()
    shots.take(page, "02-actions")
    page.locator("select[name=kind]").select_option("call")
    page.locator("#inbox-filters").get_by_role("button", name="Filtrer").click()
    cards = page.locator("article.action")
    expect(cards).to_have_count(2)
    dupont = cards.filter(has_text="Boulangerie Dupont")
    expect(dupont).to_contain_text("Jeanne Dupont")
    expect(dupont.locator('a[href="tel:+33612345678"]')).to_be_visible()
    expect(dupont).to_contain_text("50 jours de retard")
    expect(dupont).to_contain_text("1\u202f250,00\u202f€")
    shots.take(page, "03-actions-calls")

    # Jeanne Dupont promises to pay 1 250,00 € within ten days
    pay_by = today + timedelta(days=10)
    dupont.locator("select[name$=outcome]").select_option("promised")
    dupont.locator("input[name$=pay_by]").fill(pay_by.isoformat())
    dupont.locator("input[name$=amount]").fill("1250,00")
    dupont.locator("input[name$=note]").fill("Virement annoncé par Jeanne")
    dupont.get_by_role("button", name="Fait", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Boulangerie Dupont")
    expect(cards).to_have_count(1)
    promise = Promise.objects.get(customer__external_id="C1")
    assert promise.pay_by == pay_by
    assert promise.amount == Decimal("1250.00")
    assert ActionItem.objects.get(customer__external_id="C1").status == ActionItem.Status.DONE
    shots.take(page, "04-actions-after-the-call")

    # Fabre Logistique's page: what is owed and overdue, the late fees, the call still open
    page.goto("/customers/")
    shots.take(page, "05-customers")
    page.get_by_role("link", name="Fabre Logistique EURL").first.click()
    expect(page.get_by_role("heading", name="Fabre Logistique EURL")).to_be_visible()
    glance = page.locator("#glance")
    expect(glance).to_contain_text("Dû")
    expect(glance).to_contain_text("5\u202f750,50\u202f€")
    expect(glance).to_contain_text("Pénalités de retard")
    expect(glance).to_contain_text("Mise en demeure (courrier)")
    expect(glance).not_to_contain_text("(letter)")
    expect(glance).to_contain_text("Tâches ouvertes")
    expect(glance).to_contain_text("Appel du responsable du compte")
    expect(glance).to_contain_text("Prochain contact")
    shots.take(page, "06-customer")

    # a hold while the customer checks its payment run, then lifted early
    fabre = Customer.objects.get(external_id="C2")
    hold_until = today + timedelta(days=7)
    page.get_by_label(re.compile("Suspendre les relances jusqu.au")).fill(hold_until.isoformat())
    page.get_by_role("button", name="Suspendre les relances", exact=True).click()
    states = page.locator("#states")
    expect(states).to_contain_text("En pause jusqu")
    assert Customer.objects.get(pk=fabre.pk).hold_until == hold_until
    shots.take(page, "07-customer-on-hold")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Lever la pause").click()
    expect(page.locator(".messages")).to_be_visible()
    expect(states).not_to_contain_text("En pause jusqu")
    assert Customer.objects.get(pk=fabre.pk).hold_until is None

    # the small invoice was never delivered: a dispute with its category
    record = page.locator("form[action$='/dispute/']")
    record.locator("select[name$=invoice]").select_option(label="F-2026-0501")
    record.locator("select[name$=category]").select_option("not_received")
    record.locator("[name$=reason]").fill("Livraison jamais reçue selon Marc Fabre")
    page.get_by_role("button", name="Ouvrir le litige").click()
    expect(page.locator(".messages")).to_contain_text("F-2026-0501")
    dispute = Dispute.objects.get(invoice__number="F-2026-0501")
    assert dispute.category == "not_received"
    shots.take(page, "08-customer-disputed")

    # the timeline: sentences in French, invoice numbers, no raw data
    timeline = page.locator(".timeline").first
    expect(timeline).to_contain_text("F-2026-0501")
    expect(timeline).to_contain_text("Claire Moreau")
    for raw in ("customer.held", "dispute.opened", "source:", "invoices: [", "T00:", "+00:00"):
        expect(timeline).not_to_contain_text(raw)
    shots.take(page, "09-customer-timeline")

    # the calendar and the outbox
    page.get_by_role("link", name="Calendrier", exact=True).click()
    expect(page.locator("main")).to_contain_text("Librairie Rousseau")
    shots.take(page, "10-calendar")
    page.get_by_role("link", name="File d\u2019envoi", exact=True).click()
    page.get_by_role("link", name=re.compile("En attente")).click()
    expect(page.locator("main")).to_contain_text("Garage Martin")
    shots.take(page, "11-outbox")

    assert shots.english == {}, f"English labels on French pages: {shots.english}"
    context.close()

    context, page = browse(browser, live_server, "en-GB")
    log_in(page, "claire", french=False)
    shots.again_in_english(page)
    context.close()


def test_the_admins_menu_holds_on_one_line_in_french(browser, live_server, ledger, tmp_path):
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    admin = get_user_model().objects.create(
        username="nadia",
        first_name="Nadia",
        last_name="Bertrand-Lefèvre",
        password=make_password(PASSWORD),
    )
    Membership.objects.create(company=ledger, user=admin, role=Membership.Role.ADMIN)
    Company.objects.filter(pk=ledger.pk).update(automatic_sending=False)  # its menu shows too
    context, page = browse(browser, live_server, "fr-FR")
    log_in(page, "nadia")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    topbar = page.locator("header.topbar")
    page.screenshot(path=str(shots / "admin-nav-1440-fr.png"))
    line = page.locator("header.topbar .brand").bounding_box()["height"]
    shown = page.locator("header.topbar nav > a, header.topbar nav summary, header.topbar .who")
    expect(shown).to_have_count(11)  # nine menus, "Administration" and the name
    for item in shown.all():
        assert item.bounding_box()["y"] < line, f"{item.inner_text()} is on a second line"
    assert topbar.bounding_box()["height"] < 2 * line + 8, "the top bar wraps onto two lines"

    # the secondary pages, one click away under "Administration"
    menu = page.locator("header.topbar details.menu")
    menu.get_by_text("Administration").click()
    for name in ("Équipe", "Intégrations", "Société", "Mise en service"):
        link = menu.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["x"] + box["width"] <= 1440, f"{name} is cut off on the right"
    page.screenshot(path=str(shots / "admin-nav-1440-menu-fr.png"))
    account = page.locator("header.topbar details.account")
    account.get_by_text("Nadia Bertrand-Lefèvre").click()
    expect(menu.get_by_role("link", name="Équipe")).to_be_hidden()  # one menu open at a time
    expect(account.get_by_role("button", name="Se déconnecter")).to_be_visible()
    page.screenshot(path=str(shots / "admin-nav-1440-account-fr.png"))
    menu.get_by_text("Administration").click()
    menu.get_by_role("link", name="Intégrations").click()
    expect(page).to_have_url(re.compile("/integrations/$"))
    expect(page.locator("header.topbar summary.current")).to_have_text("Administration")
    context.close()
