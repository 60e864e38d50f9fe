"""An admin sets the company up in Chromium: the legal mentions, then the branding, watching the
email and letter preview follow the colour and the logo before saving; in English and French."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from PIL import Image
from playwright.sync_api import expect

from relance.models import Company, Event, Membership

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed"),
]
PASSWORD = "s3cret-pass!"


def _log_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_an_admin_brands_the_company_and_sees_the_preview_change(
    page, live_server, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))  # to look at them
    claire = get_user_model().objects.create(
        username="claire", email="claire@atelier.test", password=make_password(PASSWORD)
    )
    company = Company.objects.create(
        code="atelier", name="Atelier Lumière", country="FR", currency="EUR", city="Lyon"
    )
    Membership.objects.create(company=company, user=claire, role=Membership.Role.ADMIN)
    _log_in(page, "claire")
    page.locator("header.topbar details.menu").get_by_text("Administration").click()
    page.get_by_role("link", name="Company", exact=True).click()
    expect(page.get_by_role("heading", name="Company settings")).to_be_visible()

    page.get_by_label("Legal form").fill("SAS")
    page.get_by_label("Share capital").fill("10000")
    page.get_by_label("Registration number").fill("123456789")
    page.get_by_label("Place of registration").fill("Lyon")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved.")
    page.screenshot(path=str(shots / "settings-profile-en.png"), full_page=True)

    page.get_by_role("link", name="Branding").click()
    email = page.locator("#preview-email")
    expect(email).to_be_visible(timeout=30_000)
    before = email.get_attribute("src")
    page.get_by_label("Brand colour").fill("#aa2244")
    expect(email).not_to_have_attribute("src", before or "", timeout=30_000)
    expect(page.locator("#preview-letter")).to_be_visible()
    with_colour = email.get_attribute("src")

    logo = tmp_path / "logo.png"
    picture = io.BytesIO()
    Image.new("RGB", (240, 80), (20, 140, 90)).save(picture, "PNG")
    logo.write_bytes(picture.getvalue())
    page.get_by_label("Logo", exact=True).set_input_files(str(logo))
    expect(email).not_to_have_attribute("src", with_colour or "", timeout=30_000)
    page.screenshot(path=str(shots / "settings-branding-en.png"), full_page=True)
    page.locator("#preview-letter").screenshot(path=str(shots / "preview-letter-en.png"))

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved.")
    company.refresh_from_db()
    assert company.brand_colour == "#aa2244"
    assert company.logo.name.endswith(".png")
    assert company.legal_form == "SAS"
    kinds = list(Event.objects.filter(company=company).values_list("data", flat=True))
    assert {"section": "branding", "fields": ["brand_colour", "logo"]} in kinds

    page.goto(f"/company/settings/?company={company.pk}&section=mailboxes")
    page.get_by_label("Address").fill("ar@atelier.test")
    page.get_by_label("claire@atelier.test").check()
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Shared mailbox ar@atelier.test added.")
    assert company.aliases.get().members.get() == claire
    for section in ("law", "portal", "disputes", "mailboxes"):
        page.goto(f"/company/settings/?company={company.pk}&section={section}")
        expect(page.locator(f"#section-{section}")).to_be_visible()
        page.screenshot(path=str(shots / f"settings-{section}-en.png"), full_page=True)
    page.goto(f"/company/settings/?company={company.pk}&section=branding")

    # The same page in French, through the language switch.
    page.get_by_label("Language", exact=True).select_option("fr")
    expect(page.locator("#preview-letter")).to_be_visible(timeout=30_000)
    page.screenshot(path=str(shots / "settings-branding-fr.png"), full_page=True)
    page.goto(f"/company/settings/?company={company.pk}&section=sending")
    page.screenshot(path=str(shots / "settings-sending-fr.png"), full_page=True)
    page.goto("/company/new/")
    page.screenshot(path=str(shots / "company-new-fr.png"), full_page=True)
