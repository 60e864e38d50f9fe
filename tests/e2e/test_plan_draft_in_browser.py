"""A plan draft published, in French: a credit controller changes two steps of the live plan in a
draft (one becomes an SMS, with no subject and its length counted on a customer found by search),
sees what publishing would change beside the live plan, and publishes it; the daily cycle runs
the new version from then on.

Strings the editor gained with its drafts are matched in English or French, so the journey holds
before and after their translations are compiled."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from relance.models import Company, Contact, Customer, Event, Membership, Plan
from relance.services.dunning import plans as service

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"
STANDARD = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"


def _either(english: str, french: str) -> re.Pattern[str]:
    return re.compile(f"{re.escape(english)}|{re.escape(french)}")


@pytest.fixture
def company(new_customer, new_invoice) -> Company:
    claire = get_user_model().objects.create(
        username="claire",
        email="claire@ar.test",
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
    )
    Membership.objects.create(company=company, user=claire, role=Membership.Role.ADMIN)
    service.load_plans(STANDARD.read_text(encoding="utf-8"), company=company)
    plan = Plan.objects.get(company=company, code="standard")
    for number in range(1, 31):  # more customers than the preview lists at once
        other = new_customer(company, f"A{number:02d}", f"Atelier Client {number:02d}")
        new_invoice(other, f"IA{number:02d}", "300.00", days_late=20)
    dupont = new_customer(company, "C1", "Boulangerie Dupont")
    dupont.plan = plan
    dupont.language = "fr"
    dupont.save()
    Contact.objects.create(
        company=company,
        customer=dupont,
        external_id="K1",
        name="Jeanne Dupont",
        email="jeanne@dupont.test",
        phone="+33612345678",
        roles=["billing"],
    )
    new_invoice(dupont, "I1", "1250.00", days_late=12)
    return company


@pytest.fixture
def french(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1440, "height": 900}
    )
    page = context.new_page()
    yield page
    context.close()


def test_a_plan_draft_published(french, company, tmp_path):
    page = french
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    plan = Plan.objects.get(company=company, code="standard")
    live = plan.definition

    page.goto("/login/")
    page.get_by_label("Identifiant").fill("claire")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Plans", exact=True).click()
    page.get_by_role("link", name="Standard B2B").click()
    expect(page.get_by_role("heading", name="Standard B2B")).to_be_visible()
    expect(page.locator(".draft")).to_have_count(0)

    # the second step, 20 days after the due date instead of 15: into the draft
    page.locator(".rung-link", has_text="Payment reminder").click()
    panel = page.locator("#step-form")
    panel.get_by_label("Jours", exact=True).fill("20")
    save = _either("Save the step in the draft", "Enregistrer l\u2019étape dans le brouillon")
    page.get_by_role("button", name=save).click()
    expect(page.get_by_role("status")).to_contain_text(
        _either("Kept in the draft", "Gardé dans le brouillon")
    )
    draft = page.locator(".draft")
    expect(draft).to_be_visible()
    expect(draft).to_contain_text("Payment reminder")
    expect(draft.locator("del")).to_contain_text("15")
    expect(draft.locator("ins")).to_contain_text("20")
    assert Plan.objects.get(pk=plan.pk).definition == live  # nothing live yet

    # the third step becomes an SMS: no subject, its length counted on a customer found by search
    page.locator(".rung-link", has_text="Firm reminder").click()
    panel.get_by_label("Canal", exact=True).select_option("sms")
    expect(page.locator("#field-subject")).to_be_hidden()
    panel.get_by_label("Modèle", exact=True).select_option("")
    panel.locator("textarea[name=body]").fill(
        "Bonjour {{ customer.name }}, la facture {{ reference.number }} reste due : "
        "{{ totals }}. Réglez-la ici : https://pay.atelier.test/portail/abcdefghijklmnopqrstuvwxyz"
    )
    page.locator("#preview-search").fill("Dupont")
    expect(page.locator("#preview-customer option")).to_have_count(1)
    expect(page.locator("#preview-customer")).to_contain_text("Boulangerie Dupont")
    expect(page.locator("#preview")).to_contain_text("Bonjour Boulangerie Dupont")
    expect(page.locator("#preview .sms-count")).to_contain_text("SMS")
    # the amount's narrow no-break space travels as a plain space: GSM-7, nothing to name
    expect(page.locator("#preview .sms-wide")).to_have_count(0)
    page.screenshot(path=str(shots / "plan-draft-sms-fr.png"), full_page=True)
    page.locator("aside.panel").evaluate("panel => { panel.scrollTop = panel.scrollHeight; }")
    page.screenshot(path=str(shots / "plan-draft-sms-preview-fr.png"))
    page.get_by_role("button", name=save).click()
    expect(page.locator(".draft")).to_contain_text("Firm reminder")
    expect(page.locator("#field-subject")).to_be_hidden()
    page.screenshot(path=str(shots / "plan-draft-fr.png"), full_page=True)

    # the live plan, beside the draft, is still the one that runs
    page.get_by_role("link", name=_either("Show the live plan", "Voir le plan en vigueur")).click()
    expect(page.locator(".ladder")).to_contain_text("15 jours après l\u2019échéance")
    page.screenshot(path=str(shots / "plan-live-beside-draft-fr.png"), full_page=True)
    page.get_by_role("link", name=_either("Show the draft", "Voir le brouillon")).click()

    page.get_by_role("button", name=_either("Publish the draft", "Publier le brouillon")).click()
    expect(page.get_by_role("status")).to_contain_text(_either("Published", "Publié"))
    expect(page.locator(".draft")).to_have_count(0)
    expect(page.locator(".ladder")).to_contain_text("20 jours après l\u2019échéance")
    expect(page.locator(".history")).to_contain_text("Claire Moreau")
    page.screenshot(path=str(shots / "plan-published-fr.png"), full_page=True)

    steps = Plan.objects.get(pk=plan.pk).definition["steps"]
    assert steps[1]["trigger"]["days"] == 20
    assert steps[2]["channel"] == "sms"
    assert steps[2]["subject"] == ""
    event = Event.objects.get(kind="plan.published")
    assert event.actor.username == "claire"
    assert sorted(event.data["changed"]) == ["Firm reminder", "Payment reminder"]
    assert Customer.objects.get(external_id="C1").plan_id == plan.pk
