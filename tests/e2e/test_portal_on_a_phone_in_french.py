"""The portal on a phone, in French: a French customer opens the link of their reminder on a
phone-sized screen (390 by 844 pixels, device scale 3, touch). Each invoice shows one state (a
payment plan supersedes a promise); a disputed amount is set apart from what to pay; the payment
reference is copied with its button; a promise to pay (a date and an amount) and a dispute with
its category are answered in French. No page is wider than the screen. A UK customer reads
English with a sort code and an account number, and en-GB dates. Every page is photographed in
French, and the same pages once in English."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from relance.messaging import formatting
from relance.models import Company, Contact, Dispute, Invoice, Promise
from relance.services.dialogue import pauses, payment_plans
from relance.services.portal import links
from tests import clock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0 Mobile Safari/537.36"
    ),
}


@pytest.fixture
def phone(browser, live_server):
    opened = []

    def open_phone(locale: str):
        context = browser.new_context(base_url=live_server.url, locale=locale, **PHONE)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context.new_page()

    yield open_phone
    for context in opened:
        context.close()


def _fits(page) -> None:
    """Nothing wider than the phone's screen: no sideways scrolling."""
    wide = page.evaluate("document.documentElement.scrollWidth")
    screen = page.evaluate("window.innerWidth")
    assert wide <= screen, f"{page.url}: {wide}px wide on a {screen}px screen"


def _shot(page, shots: Path, name: str) -> None:
    _fits(page)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


@pytest.fixture
def dupont(new_customer, new_invoice):
    company = Company.objects.create(
        code="atelier",
        name="Atelier Lumière SAS",
        country="FR",
        currency="EUR",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        sender_email="ar@atelier.test",
    )
    customer = new_customer(company, "C1", "Boulangerie Dupont")
    customer.language = "fr"
    customer.save()
    Contact.objects.create(
        company=company,
        customer=customer,
        external_id="K1",
        name="Jeanne Dupont",
        email="jeanne@dupont.test",
        roles=["billing"],
    )
    new_invoice(customer, "I1", "1250.00", days_late=40)  # to be disputed
    new_invoice(customer, "I2", "300.00", days_late=-10)  # to be promised
    planned = new_invoice(customer, "I3", "900.00", days_late=20)
    today = clock.today(company)
    # promised first, then put into an agreed payment plan: the plan is the one state shown
    pauses.add_promise(customer, [planned], today + timedelta(days=5), today, source="cli")
    plan = payment_plans.request(customer, ["I3"], 3, today + timedelta(days=7), source="cli")
    payment_plans.approve(plan)
    return customer


def test_a_french_customer_on_a_phone(phone, dupont, tmp_path):
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    today = clock.today(dupont.company)
    token = links.token(dupont)
    page = phone("fr-FR")
    page.goto(f"/p/{token}/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Boulangerie Dupont")).to_be_visible()
    totals = page.locator(".totals")
    expect(totals).to_contain_text("2\u202f450,00\u00a0€")
    planned = page.locator(".invoice", has_text="F-I3")
    expect(planned.locator(".tag")).to_have_count(1)
    expect(planned.locator(".tag")).to_have_text("Dans votre échéancier")
    expect(page.locator(".bank")).to_contain_text("FR7630006000011234567890189")
    _shot(page, shots, "portal-phone-statement-fr")

    # the payment reference, copied with its button
    reference = page.locator(".bank .reference").inner_text()
    copy = page.locator(".bank dd", has=page.locator(".reference")).get_by_role("button")
    expect(copy).to_have_text("Copier")
    copy.tap()
    expect(copy).to_have_text("Copié")
    assert page.evaluate("navigator.clipboard.readText()") == reference

    # a promise to pay: a date and an amount
    page.get_by_role("link", name="Promesse de paiement").click()
    _shot(page, shots, "portal-phone-promise-fr")
    page.get_by_label(re.compile("F-I2")).check()
    pay_by = today + timedelta(days=12)
    page.get_by_label("Réglé au plus tard le").fill(pay_by.isoformat())
    page.get_by_label("Montant (vide : la totalité)").fill("150")
    page.get_by_role("button", name="Promesse de paiement").click()
    done = page.locator(".done")
    expect(done).to_contain_text(formatting.day(pay_by, "fr"))
    expect(done).to_contain_text("150,00\u00a0€")
    expect(done).not_to_contain_text(pay_by.isoformat())
    _shot(page, shots, "portal-phone-promised-fr")
    promise = Promise.objects.get(invoices__external_id="I2")
    assert (promise.pay_by, promise.amount) == (pay_by, Decimal("150.00"))

    # a dispute, with its category
    page.get_by_role("link", name="← Votre compte").click()
    page.get_by_role("link", name="Contester une facture").click()
    _shot(page, shots, "portal-phone-dispute-fr")
    page.get_by_label(re.compile("F-I1")).check()
    page.get_by_label("Le montant est erroné").check()
    page.get_by_label("Dites-nous en plus").fill("La remise convenue en mars n'apparaît pas.")
    page.get_by_role("button", name="Envoyer ma contestation").click()
    expect(page.locator(".done")).to_contain_text("Merci")
    _shot(page, shots, "portal-phone-disputed-fr")
    dispute = Dispute.objects.get()
    assert (dispute.category, dispute.invoice.external_id) == ("wrong_amount", "I1")

    # back on the statement: one state per invoice, the disputed amount apart from what to pay
    page.get_by_role("link", name="← Votre compte").click()
    expect(totals).to_contain_text("1\u202f200,00\u00a0€")  # 300 + 900: the dispute set apart
    expect(totals.locator(".disputed")).to_contain_text("1\u202f250,00\u00a0€")
    for number, state in [
        ("F-I1", "Contestée : nous examinons votre demande"),
        ("F-I2", f"le {formatting.day(pay_by, 'fr')}"),
        ("F-I3", "Dans votre échéancier"),
    ]:
        tags = page.locator(".invoice", has_text=number).locator(".tag")
        expect(tags).to_have_count(1)
        expect(tags).to_contain_text(state)
    _shot(page, shots, "portal-phone-statement-after-fr")
    assert "Contestée" not in (page.locator(".invoice", has_text="F-I2").inner_text())

    # the same pages once in English
    page = phone("en-GB")
    for path, name in [
        (f"/p/{token}/?lang=en", "portal-phone-statement-en"),
        (f"/p/{token}/promise/", "portal-phone-promise-en"),
        (f"/p/{token}/dispute/", "portal-phone-dispute-en"),
    ]:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        _shot(page, shots, name)
    assert Invoice.objects.filter(customer=dupont).count() == 3


def test_a_uk_customer_reads_sort_code_and_en_gb_dates(phone, new_customer, new_invoice, tmp_path):
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    company = Company.objects.create(
        code="lumiere",
        name="Lumiere Studio Ltd",
        country="GB",
        currency="GBP",
        sort_code="200000",
        account_number="55779911",
        iban="GB33BUKB20201555555555",
        bic="BUKBGB22",
    )
    customer = new_customer(company, "C1", "Hartley & Sons")
    customer.country, customer.currency, customer.language = "GB", "GBP", "en"
    customer.time_zone = "Europe/London"
    customer.save()
    invoice = new_invoice(customer, "I1", "1250.00", days_late=40)
    Invoice.objects.filter(pk=invoice.pk).update(currency="GBP")
    page = phone("en-GB")
    page.goto(f"/p/{links.token(customer)}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    bank = page.locator(".bank")
    expect(bank).to_contain_text("Sort code")
    expect(bank).to_contain_text("20-00-00")
    expect(bank).to_contain_text("Account number")
    expect(bank).to_contain_text("55779911")
    expect(bank).not_to_contain_text("IBAN")
    due = invoice.due_date
    en_gb = f"{due.day} {due.strftime('%B')} {due.year}"  # 7 December 2026, not December 7
    expect(page.locator(".invoice").first).to_contain_text(en_gb)
    expect(page.locator(".totals")).to_contain_text("£1,250.00")
    _shot(page, shots, "portal-phone-uk-en")
    page.get_by_role("link", name="Promise to pay").click()
    expect(page.locator("main")).to_contain_text(re.compile(r"\d{1,2} [A-Z][a-z]+ \d{4}"))
    _shot(page, shots, "portal-phone-uk-promise-en")
