"""Company settings as the staff app saves them: who may, what is checked, the logo read for
what it really is, and the journal naming the fields changed but never a secret's value."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date, time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from PIL import Image

from relance.documents import render_letter
from relance.domain import legal_mentions
from relance.models import Alias, Company, Event, Membership
from relance.services.dunning import branding_preview, delivery, letters, plans
from relance.services.organisation import mailboxes
from relance.services.organisation import settings as company_settings
from relance.services.organisation.companies import legal_identity

Role = Membership.Role


def _png(width: int = 40, height: int = 20, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 60)).save(out, kind)
    return out.getvalue()


@pytest.fixture
def people(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    company = Company.objects.create(code="atelier", name="Atelier", country="FR", currency="EUR")
    users = {}
    for role in Role:
        user = get_user_model().objects.create(username=role.value, email=f"{role.value}@a.test")
        Membership.objects.create(company=company, user=user, role=role)
        users[role.value] = user
    users["root"] = get_user_model().objects.create(username="root", is_superuser=True)
    users["nobody"] = get_user_model().objects.create(username="nobody")
    return company, users


def test_an_admin_saves_a_section_and_the_journal_names_the_fields(people):
    company, users = people
    changed = company_settings.save(
        company,
        "profile",
        {"legal_form": "SAS", "share_capital": Decimal("10000"), "registration_city": "Lyon"},
        actor=users["admin"],
    )
    assert sorted(changed) == ["legal_form", "registration_city", "share_capital"]
    company.refresh_from_db()
    assert company.legal_form == "SAS"
    assert company.share_capital == Decimal("10000.00")
    event = Event.objects.get(kind="company.settings_changed")
    assert event.actor == users["admin"]
    assert event.company == company
    assert event.data == {"section": "profile", "fields": changed}
    # Saving the same values again changes nothing and records nothing.
    assert (
        company_settings.save(company, "profile", {"legal_form": "SAS"}, actor=users["admin"]) == []
    )
    assert Event.objects.filter(kind="company.settings_changed").count() == 1


@pytest.mark.parametrize("role", ["credit_controller", "read_only", "sales_rep", "nobody"])
def test_only_admins_change_settings(people, role):
    company, users = people
    with pytest.raises(company_settings.SettingsRefused):
        company_settings.save(company, "profile", {"name": "Hacked"}, actor=users[role])
    company.refresh_from_db()
    assert company.name == "Atelier"
    assert not Event.objects.filter(kind="company.settings_changed").exists()


def test_a_superuser_is_every_companys_admin(people):
    company, users = people
    assert company_settings.save(company, "sending", {"daily_cap": 500}, actor=users["root"])


def test_fields_of_another_section_are_refused(people):
    company, users = people
    with pytest.raises(ValidationError):
        company_settings.save(
            company, "branding", {"payment_webhook_secret": "x"}, actor=users["admin"]
        )


@pytest.mark.parametrize(
    ("section", "values", "field", "words"),
    [
        ("profile", {"iban": "FR76 3000 6000 0112 3456 7890 188"}, "iban", "not a valid IBAN"),
        ("profile", {"bic": "NOTABIC"}, "bic", "not a valid BIC"),
        ("profile", {"country": "XX"}, "country", "country code"),
        ("profile", {"currency": "EURO"}, "currency", ""),
        ("profile", {"time_zone": "Paris"}, "time_zone", "Europe/Paris"),
        ("branding", {"brand_colour": "red;}body{x"}, "brand_colour", "colour"),
        ("sending", {"send_from": time(18), "send_until": time(9)}, "send_until", "later"),
        ("portal", {"payment_provider": "link"}, "payment_link_template", "payment link"),
        (
            "portal",
            {"payment_link_template": "http://pay.test/{reference}"},
            "payment_link_template",
            "https://",
        ),
        (
            "portal",
            {"payment_link_template": "https://pay.test/{secret}"},
            "payment_link_template",
            "braces",
        ),
        ("portal", {"early_discount_percent": Decimal("2")}, "early_discount_days", "both"),
        ("portal", {"thanks_template": "nope"}, "thanks_template", "library"),
        ("disputes", {"credit_notice_percent": 150}, "credit_notice_percent", "between"),
    ],
)
def test_wrong_values_are_named_on_their_field(people, section, values, field, words):
    company, users = people
    with pytest.raises(ValidationError) as caught:
        company_settings.save(company, section, values, actor=users["admin"])
    assert field in caught.value.message_dict
    assert words in " ".join(caught.value.message_dict[field])
    assert not Event.objects.filter(kind="company.settings_changed").exists()


def test_iban_and_codes_are_normalised(people):
    company, users = people
    company_settings.save(
        company,
        "profile",
        {"iban": "fr76 3000 6000 0112 3456 7890 189", "bic": "bnpafrpp", "country": "fr"},
        actor=users["admin"],
    )
    company.refresh_from_db()
    assert (company.iban, company.bic, company.country) == (
        "FR7630006000011234567890189",
        "BNPAFRPP",
        "FR",
    )


def test_the_webhook_secret_is_kept_when_left_empty_and_never_journaled(people):
    company, users = people
    company_settings.save(
        company, "portal", {"payment_webhook_secret": "whsec_top_secret"}, actor=users["admin"]
    )
    company_settings.save(company, "portal", {"payment_webhook_secret": ""}, actor=users["admin"])
    company.refresh_from_db()
    assert company.payment_webhook_secret == "whsec_top_secret"
    assert "whsec_top_secret" not in str(list(Event.objects.values_list("data", flat=True)))
    company_settings.save(
        company, "portal", {}, actor=users["admin"], clear=("payment_webhook_secret",)
    )
    company.refresh_from_db()
    assert company.payment_webhook_secret == ""


def test_a_logo_is_checked_and_re_encoded(people):
    company, users = people
    upload = _png() + b"<script>alert(1)</script>"  # a trailing payload does not survive
    company_settings.save(company, "branding", {}, actor=users["admin"], logo=upload)
    company.refresh_from_db()
    stored = company.logo.read()
    assert stored.startswith(b"\x89PNG")
    assert b"<script>" not in stored
    assert company.logo.name.endswith(".png")
    old = company.logo.name
    company_settings.save(company, "branding", {}, actor=users["admin"], logo=_png(kind="JPEG"))
    company.refresh_from_db()
    assert company.logo.name.endswith(".jpg")
    assert company.logo.name != old
    company_settings.save(company, "branding", {}, actor=users["admin"], remove_logo=True)
    company.refresh_from_db()
    assert not company.logo


def test_a_huge_logo_is_scaled_down(people):
    company, users = people
    company_settings.save(company, "branding", {}, actor=users["admin"], logo=_png(3000, 600))
    company.refresh_from_db()
    with Image.open(company.logo) as image:
        assert max(image.size) == company_settings.LOGO_SIDE


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
        (b'<?xml version="1.0"?>\n<svg onload="alert(1)"/>', "SVG"),
        (b"MZ\x90\x00 not an image at all", "not a PNG or JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a PNG or JPEG"),  # a PNG header, no image
        (b"GIF89a" + b"\x00" * 50, "not a PNG or JPEG"),
        (b"\x89PNG" + b"\x00" * (1024 * 1024 + 1), "1 MB"),
    ],
)
def test_a_logo_that_is_not_a_png_or_jpeg_is_refused(people, upload, words):
    company, users = people
    with pytest.raises(ValidationError) as caught:
        company_settings.save(company, "branding", {}, actor=users["admin"], logo=upload)
    assert words in " ".join(caught.value.message_dict["logo"])
    company.refresh_from_db()
    assert not company.logo


def test_a_decompression_bomb_is_refused(people):
    _company, _users = people
    bomb = _png(6000, 6000)  # small file, 36 megapixels
    with pytest.raises(ValidationError):
        company_settings.read_logo(bomb)


def test_who_may_create_a_company_and_the_creator_becomes_its_admin(people):
    library_plans = plans.seed_library()
    assert library_plans
    _company, users = people
    assert company_settings.may_create(users["admin"])
    assert company_settings.may_create(users["root"])
    for role in ("credit_controller", "read_only", "sales_rep", "nobody"):
        assert not company_settings.may_create(users[role])
        with pytest.raises(company_settings.SettingsRefused):
            company_settings.create(
                {"code": "x", "name": "X", "country": "FR", "currency": "EUR"}, actor=users[role]
            )
    made = company_settings.create(
        {
            "code": "Lumiere-UK",
            "name": "Lumiere Ltd",
            "country": "gb",
            "currency": "gbp",
            "time_zone": "Europe/London",
        },
        actor=users["admin"],
    )
    assert (made.code, made.country, made.currency) == ("lumiere-uk", "GB", "GBP")
    assert Membership.objects.get(company=made, user=users["admin"]).role == Role.ADMIN
    # Its own copy of the library's plans, as the CLI makes it.
    assert set(made.plans.values_list("code", flat=True)) == set(library_plans)
    assert Event.objects.get(company=made, kind="company.created").actor == users["admin"]
    with pytest.raises(ValidationError) as caught:
        company_settings.create(
            {"code": "lumiere-uk", "name": "Again", "country": "GB", "currency": "GBP"},
            actor=users["admin"],
        )
    assert "code" in caught.value.message_dict


def test_legal_mentions_as_french_and_british_law_want_them():
    assert legal_mentions.identity(
        legal_form="SAS",
        share_capital="10 000 €",
        registry="Lyon",
        registration_number="12345678900012",
        country="FR",
        language="fr",
    ) == ("SAS au capital de 10 000 €", "RCS Lyon 123 456 789")
    assert legal_mentions.identity(
        legal_form="Ltd",
        share_capital="",
        registry="England and Wales",
        registration_number="01234567",
        country="GB",
        language="en",
    ) == ("Ltd", "Registered in England and Wales, company no. 01234567")
    assert legal_mentions.identity(
        legal_form="",
        share_capital="",
        registry="",
        registration_number="42",
        country="BE",
        language="en",
    ) == ("Company no. 42",)
    assert (
        legal_mentions.identity(
            legal_form="",
            share_capital="",
            registry="",
            registration_number="",
            country="FR",
            language="fr",
        )
        == ()
    )


def test_letters_and_emails_carry_the_legal_identity(people):
    company, _users = people
    company.legal_form, company.share_capital = "SAS", Decimal("10000")
    company.registration_city, company.registration_number = "Lyon", "123456789"
    company.vat_number = "FR12123456789"
    form, registered = legal_identity(company, "fr")
    assert form.replace("\u202f", " ").replace("\xa0", " ") == "SAS au capital de 10 000 €"
    assert registered == "RCS Lyon 123 456 789"
    assert letters.stationery(company, "fr").legal_identity == legal_identity(company, "fr")
    branding = delivery.branding(company, "en")
    assert branding.legal_identity[0].startswith("SAS with a share capital of €10,000")
    html = branding_preview.email_html(company, "fr", None, date(2026, 12, 7))
    assert "RCS Lyon 123 456 789" in html
    assert "N° TVA FR12123456789" in html


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_printed_letter_footer_carries_the_french_legal_mentions(people, tmp_path):
    company, _users = people
    company.legal_form, company.share_capital = "SAS", Decimal("10000")
    company.registration_city, company.registration_number = "Lyon", "123 456 789"
    company.vat_number = "FR12123456789"
    today = date(2026, 12, 7)
    text = branding_preview._composed(company, "fr", branding_preview.LETTER_TEMPLATE, today)
    customer, _debtor = branding_preview._customer(company, "fr", today)
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(render_letter(letters.build_letter(customer, text)))
    printed = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    printed = printed.replace("\u202f", " ").replace("\xa0", " ")
    assert "SAS au capital de 10 000 € · RCS Lyon 123 456 789 · N° TVA FR12123456789" in printed


def test_shared_mailboxes_take_the_companys_people_only(people):
    company, users = people
    alias = mailboxes.add(
        company, "AR@Atelier.test", "Credit control", [users["admin"].pk], actor=users["admin"]
    )
    assert alias.email == "ar@atelier.test"
    assert list(alias.members.all()) == [users["admin"]]
    with pytest.raises(ValidationError) as caught:
        mailboxes.add(company, "ar@atelier.test", "", [], actor=users["admin"])
    assert "already" in " ".join(caught.value.message_dict["email"])
    with pytest.raises(ValidationError) as caught:
        mailboxes.change(alias, "x", [users["nobody"].pk], actor=users["admin"])
    assert "members" in caught.value.message_dict
    with pytest.raises(company_settings.SettingsRefused):
        mailboxes.remove(alias, actor=users["credit_controller"])
    mailboxes.change(
        alias, "AR", [users["admin"].pk, users["credit_controller"].pk], actor=users["admin"]
    )
    assert alias.members.count() == 2
    mailboxes.remove(alias, actor=users["admin"])
    assert not Alias.objects.exists()
    kinds = list(Event.objects.filter(company=company).values_list("kind", flat=True))
    assert kinds == ["alias.added", "alias.changed", "alias.removed"]


def test_uk_bank_details_are_stored_as_digits_and_shown_with_dashes(people):
    company, users = people
    changed = company_settings.save(
        company,
        "profile",
        {"sort_code": "40-12-76", "account_number": "4123 4567"},
        actor=users["admin"],
    )
    assert sorted(changed) == ["account_number", "sort_code"]
    company.refresh_from_db()
    assert (company.sort_code, company.account_number) == ("401276", "41234567")
    assert company.sort_code_shown == "40-12-76"
    assert company.uk_bank_details


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"sort_code": "40-12-7", "account_number": "41234567"}, "sort_code", "6 digits"),
        ({"sort_code": "40-12-7A", "account_number": "41234567"}, "sort_code", "6 digits"),
        ({"sort_code": "401276", "account_number": "4123456"}, "account_number", "8 digits"),
        ({"sort_code": "401276", "account_number": "4123456X"}, "account_number", "8 digits"),
        ({"sort_code": "401276"}, "account_number", "both"),
        ({"account_number": "41234567"}, "sort_code", "both"),
    ],
)
def test_wrong_uk_bank_details_are_refused_on_their_field(people, values, field, words):
    company, users = people
    with pytest.raises(ValidationError) as refused:
        company_settings.save(company, "profile", values, actor=users["admin"])
    assert field in refused.value.message_dict
    assert words in " ".join(refused.value.message_dict[field])
    company.refresh_from_db()
    assert company.sort_code == ""
    assert company.account_number == ""
