"""A campaign with two waves, in French: Claire, credit controller, writes a letter to the customers
with an invoice overdue by more than 30 days. She reads the forecast (how many customers and
letters, who is left out by the minimum contact delay and why) before she confirms the first
wave; a second wave at once to those still in the segment writes to nobody, and the page says
why; she cancels the queued first wave, which gives the contact back, and the second wave then
leaves. The letters go to a print run she downloads and marks posted. Nobody gets two letters the
same day. Every page is photographed in French, and the same pages once in English."""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from relance.models import (
    Company,
    Contact,
    Customer,
    Execution,
    Membership,
    OutboxMessage,
    Plan,
    PrintBatch,
    Wave,
)
from relance.services.dunning import outbox
from relance.services.dunning import plans as plan_service
from tests import clock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"
STANDARD = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"
BODY = (
    "Madame, Monsieur,\n\nSauf erreur de notre part, {{ customer.name }} nous doit {{ totals }}.\n"
    "Merci de régulariser sous huit jours."
)


@pytest.fixture
def company(new_customer, new_invoice) -> Company:
    claire = get_user_model().objects.create(
        username="claire",
        email="claire@atelier.test",
        first_name="Claire",
        last_name="Moreau",
        password=make_password(PASSWORD),
    )
    company = Company.objects.create(
        code="atelier",
        name="Atelier Lumière SAS",
        country="FR",
        currency="EUR",
        sender_email="ar@atelier.test",
        address_line1="3 rue des Lilas",
        postal_code="75011",
        city="Paris",
    )
    Membership.objects.create(company=company, user=claire, role=Membership.Role.ADMIN)
    plan_service.load_plans(STANDARD.read_text(encoding="utf-8"), company=company)
    standard = Plan.objects.get(company=company, code="standard")
    for number, (ext, name, late) in enumerate(
        [
            ("C1", "Boulangerie Dupont", 45),
            ("C2", "Garage Martin", 60),
            ("C3", "Fabre Logistique EURL", 50),
            ("C4", "Imprimerie Durand", 40),  # written to by its plan three days ago
            ("C5", "Pharmacie Petit", 10),  # overdue, but not by more than 30 days
        ],
        start=1,
    ):
        customer = new_customer(company, ext, name)
        customer.language = "fr"
        customer.plan = standard
        customer.address_line1 = f"{number} avenue Victor Hugo"
        customer.postal_code = "69002"
        customer.city = "Lyon"
        customer.save()
        Contact.objects.create(
            company=company,
            customer=customer,
            external_id=f"K{number}",
            name=f"Service comptable {name}",
            email=f"compta{number}@client.test",
            roles=["billing"],
        )
        new_invoice(customer, f"I{number}", f"{number * 410}.50", days_late=late)
    durand = Customer.objects.get(company=company, external_id="C4")
    Execution.objects.create(
        key="plan:C4:reminder",
        company=company,
        customer=durand,
        plan=standard,
        plan_code="standard",
        step_name="Payment reminder",
        date=clock.today(company) - timedelta(days=3),
        status=Execution.Status.EXECUTED,
        channel="email",
        mode="auto",
        customer_facing=True,
    )
    return company


def _context(browser, live_server, locale: str):
    return browser.new_context(
        base_url=live_server.url, locale=locale, viewport={"width": 1440, "height": 900}
    )


def _log_in(page, username: str, password: str, english: bool = False) -> None:
    page.goto("/login/")
    page.get_by_label("Username" if english else "Identifiant").fill(username)
    page.get_by_label("Password" if english else "Mot de passe").fill(password)
    page.get_by_role("button", name="Log in" if english else "Se connecter").click()


def _one_letter_a_day() -> None:
    """No customer is written to twice the same day: messages that did leave (or are to leave),
    counted per customer and day."""
    kept = OutboxMessage.objects.exclude(status=OutboxMessage.Status.CANCELLED)
    days = Counter((m.customer_id, timezone.localdate(m.created_at)) for m in kept)
    assert days
    assert max(days.values()) == 1, days


def test_a_campaign_with_two_waves_respects_the_contact_delay(
    browser, live_server, company, tmp_path
):
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    context = _context(browser, live_server, "fr-FR")
    page = context.new_page()
    _log_in(page, "claire", PASSWORD)
    page.get_by_role("link", name="Campagnes", exact=True).click()
    page.screenshot(path=str(shots / "campaign-list-fr.png"), full_page=True)
    page.get_by_role("link", name="Nouvelle campagne").click()

    form = page.locator("#campaign-form")
    form.get_by_label("Nom", exact=True).fill("Relance courrier : plus de 30 jours")
    form.locator("select[name=owes]").select_option("overdue")
    form.locator("input[name=late_over]").fill("30")
    form.get_by_label("Canal", exact=True).select_option("letter")
    form.get_by_label("Objet", exact=True).fill("Factures échues")
    form.get_by_label("Corps", exact=True).fill(BODY)
    preview = page.locator("#campaign-preview")
    expect(preview).to_contain_text("4 clients dans le segment")
    expect(preview).not_to_contain_text("Pharmacie Petit")
    expect(preview).to_contain_text("Boulangerie Dupont nous doit 410,50\u00a0€")
    page.screenshot(path=str(shots / "campaign-new-fr.png"), full_page=True)
    page.get_by_role("button", name="Créer la campagne").click()

    heading = page.get_by_role("heading", name="Relance courrier : plus de 30 jours")
    expect(heading).to_be_visible()
    expect(page.locator(".criteria")).to_contain_text("30")
    in_segment = re.compile("4 clients dans le segment aujourd.hui")
    expect(page.locator("main")).to_contain_text(in_segment)
    page.screenshot(path=str(shots / "campaign-detail-fr.png"), full_page=True)

    # the letters as they will be printed, before anything is sent
    with page.expect_popup() as popup:
        page.locator("#printed-letters").click()
    letters = popup.value
    letters.wait_for_load_state()
    pdf = page.request.get(letters.url)
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "Boulangerie Dupont nous doit" in text
    letters.close()
    assert not OutboxMessage.objects.exists()

    # wave 1: the forecast first — three letters; Durand, written to three days ago, waits
    page.get_by_role("button", name=re.compile("Envoyer au segment")).click()
    confirm = page.locator("#confirm-wave")
    expect(confirm).to_contain_text("Cette vague écrit à 3 clients")
    expect(confirm).to_contain_text("Imprimerie Durand")
    durand_waits = clock.today(company) + timedelta(days=12)
    expect(confirm.locator(".waiting")).to_contain_text(str(durand_waits.day))
    page.screenshot(path=str(shots / "campaign-wave1-confirm-fr.png"), full_page=True)
    assert not OutboxMessage.objects.exists()
    page.get_by_role("button", name=re.compile("3 messages")).click()
    expect(page.locator(".messages")).to_contain_text("3")
    expect(page.locator("#wave-1")).to_contain_text("3")
    page.screenshot(path=str(shots / "campaign-wave1-queued-fr.png"), full_page=True)
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PLANNED).count() == 3

    # wave 2 at once, to those still in the segment: nobody, and the page says who waits and why
    page.get_by_label("Ceux déjà atteints qui sont encore dans le segment").check()
    page.get_by_role("button", name=re.compile("Envoyer cette vague")).click()
    confirm = page.locator("#confirm-wave")
    expect(confirm).to_contain_text("Cette vague écrit à 0 client")
    expect(confirm).to_contain_text("3 clients")
    for name in ("Boulangerie Dupont", "Garage Martin", "Fabre Logistique EURL"):
        expect(confirm.locator(".waiting")).to_contain_text(name)
    expect(confirm.locator("#confirm-send")).to_have_count(0)
    page.screenshot(path=str(shots / "campaign-wave2-waiting-fr.png"), full_page=True)
    assert OutboxMessage.objects.count() == 3
    _one_letter_a_day()

    # the queued first wave is cancelled whole: its letters will not leave
    page.goto(page.url.split("/send/")[0] + "/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#wave-1").get_by_role("button").click()
    expect(page.locator(".messages")).to_contain_text("3")
    expect(page.locator("#wave-1 .badge.warn")).to_be_visible()
    page.screenshot(path=str(shots / "campaign-wave1-cancelled-fr.png"), full_page=True)
    statuses = set(OutboxMessage.objects.values_list("status", flat=True))
    assert statuses == {OutboxMessage.Status.CANCELLED}

    # wave 2 again: the cancelled letters were no contact, so it now writes to those three
    page.get_by_label("Ceux déjà atteints qui sont encore dans le segment").check()
    page.get_by_role("button", name=re.compile("Envoyer cette vague")).click()
    expect(page.locator("#confirm-wave")).to_contain_text("Cette vague écrit à 3 clients")
    page.screenshot(path=str(shots / "campaign-wave2-confirm-fr.png"), full_page=True)
    page.get_by_role("button", name=re.compile("3 messages")).click()
    expect(page.locator("#wave-2")).to_be_visible()
    wave2 = Wave.objects.get(number=2)
    assert wave2.reached == 3
    _one_letter_a_day()

    # the letters leave: into a print run, downloaded and marked posted
    outbox.deliver_due(now=timezone.now() + timedelta(days=4))  # whatever the hour
    page.reload()
    page.screenshot(path=str(shots / "campaign-wave2-sent-fr.png"), full_page=True)
    page.goto("/print-runs/")
    row = page.locator("table.print-runs tbody tr").first
    expect(row).to_contain_text("3")
    page.screenshot(path=str(shots / "print-runs-campaign-fr.png"), full_page=True)
    with page.expect_download() as download:
        row.get_by_role("link", name="Télécharger (PDF)").click()
    printed = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert len(printed.pages) >= 3
    row.get_by_label("Référence (facultatif)").fill("La Poste 2026-12")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Marquer posté").click()
    expect(page.locator("table.print-runs tbody tr").first).to_contain_text("La Poste 2026-12")
    page.screenshot(path=str(shots / "print-runs-posted-fr.png"), full_page=True)
    assert PrintBatch.objects.get().status == PrintBatch.Status.POSTED
    posted = OutboxMessage.objects.filter(execution__wave=wave2)
    assert set(posted.values_list("status", flat=True)) == {"sent"}
    _one_letter_a_day()
    campaign_url = f"/campaigns/{wave2.campaign_id}/"
    page.goto("/campaigns/")
    expect(page.locator("main")).to_contain_text("Relance courrier : plus de 30 jours")
    expect(page.locator("main")).to_contain_text("Courrier")
    page.screenshot(path=str(shots / "campaign-list-after-fr.png"), full_page=True)
    context.close()

    # the same pages once in English
    context = _context(browser, live_server, "en-GB")
    page = context.new_page()
    _log_in(page, "claire", PASSWORD, english=True)
    page.get_by_label("Language", exact=True).select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    for path, name in [
        ("/campaigns/", "campaign-list-en"),
        ("/campaigns/new/", "campaign-new-en"),
        (campaign_url, "campaign-detail-en"),
        ("/print-runs/", "print-runs-en"),
    ]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    page.goto(campaign_url)
    page.get_by_label("Those reached before who are still in the segment").check()
    page.get_by_role("button", name=re.compile("Send this wave")).click()
    expect(page.locator("#confirm-wave")).to_contain_text("This wave writes to 0 customers")
    page.screenshot(path=str(shots / "campaign-wave3-waiting-en.png"), full_page=True)
    context.close()
