"""The company settings page: admins edit each section, every other role is refused, uploads are
checked for what they are, the preview draws unsaved values, and admins create companies."""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from relance.models import Alias, Company, Event, Membership

URL = "/company/settings/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _png(kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 30), (10, 120, 200)).save(out, kind)
    return out.getvalue()


def _post(client, company, section, data, files=None):
    payload = {"company": company.pk, "section": section}
    payload.update({f"{section}-{k}": v for k, v in data.items()})
    payload.update({f"{section}-{k}": v for k, v in (files or {}).items()})
    return client.post(URL, payload)


def _profile(company, **changes):
    data = {
        "name": company.name,
        "country": company.country,
        "currency": company.currency,
        "time_zone": company.time_zone,
    }
    data.update(changes)
    return data


def test_every_section_renders_for_an_admin_in_english_and_french(world):
    for language in ("en", "fr"):
        client = world.client("admin", language)
        for section in ("profile", "branding", "sending", "law", "portal", "disputes"):
            answer = client.get(URL, {"company": world.alpha.pk, "section": section})
            assert answer.status_code == 200, section
            assert b'name="csrfmiddlewaretoken"' in answer.content
    page = world.client("admin").get(URL).content.decode()
    assert "Company settings" in page
    assert 'href="/company/settings/"' in page  # in the menu


@pytest.mark.parametrize("role", ["controller", "reader", "rep", "outsider"])
def test_other_roles_are_refused_and_see_no_menu_entry(world, role):
    client = world.client(role)
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"company": world.alpha.pk}).status_code in (403, 404)
    answer = _post(client, world.alpha, "profile", _profile(world.alpha, name="Hacked"))
    assert answer.status_code in (403, 404)
    assert client.post(f"{URL}preview/", {"company": world.alpha.pk}).status_code in (403, 404)
    world.alpha.refresh_from_db()
    assert world.alpha.name == "Alpha SAS"
    assert 'href="/company/settings/"' not in client.get("/dashboard/").content.decode()


def test_an_admin_of_another_company_gets_404(world):
    client = world.client("beta_admin")
    assert client.get(URL, {"company": world.alpha.pk}).status_code == 404
    assert _post(client, world.alpha, "sending", {"daily_cap": 5}).status_code == 404


def test_an_admin_saves_the_profile_and_it_is_journaled(world):
    client = world.client("admin")
    answer = _post(
        client,
        world.alpha,
        "profile",
        _profile(
            world.alpha,
            legal_form="SAS",
            share_capital="10000",
            registration_number="123456789",
            registration_city="Lyon",
            iban="FR76 3000 6000 0112 3456 7890 189",
        ),
    )
    assert answer.status_code == 302
    world.alpha.refresh_from_db()
    assert world.alpha.iban == "FR7630006000011234567890189"
    event = Event.objects.get(kind="company.settings_changed")
    assert event.actor == world.users["admin"]
    assert "iban" in event.data["fields"]


def test_wrong_values_are_shown_on_their_field(world):
    client = world.client("admin")
    answer = _post(
        client, world.alpha, "profile", _profile(world.alpha, iban="FR00 1234", bic="nope")
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "is not a valid IBAN" in page
    assert "is not a valid BIC" in page
    answer = _post(
        client,
        world.alpha,
        "sending",
        {"send_days": ["1"], "send_from": "18:00", "send_until": "09:00"},
    )
    assert answer.status_code == 400
    assert "later time" in answer.content.decode()


def test_sending_days_and_hours(world):
    client = world.client("admin")
    answer = _post(
        client,
        world.alpha,
        "sending",
        {
            "send_days": ["1", "3", "5"],
            "send_from": "09:30",
            "send_until": "17:00",
            "sender_email": "ar@alpha.test",
            "daily_cap": "200",
        },
    )
    assert answer.status_code == 302
    world.alpha.refresh_from_db()
    assert world.alpha.send_days == "135"
    assert world.alpha.daily_cap == 200


def test_the_webhook_secret_is_never_shown_back(world):
    client = world.client("admin")
    data = {
        "portal_link_days": "30",
        "payment_provider": "link",
        "payment_link_template": "https://pay.test/{reference}?a={amount}",
        "payment_webhook_secret": "whsec_do_not_show",
        "thanks_template": "payment_thanks",
    }
    assert _post(client, world.alpha, "portal", data).status_code == 302
    page = client.get(URL, {"company": world.alpha.pk, "section": "portal"}).content.decode()
    assert "whsec_do_not_show" not in page
    assert "A payment confirmation secret is set" in page
    world.alpha.refresh_from_db()
    assert world.alpha.payment_webhook_secret == "whsec_do_not_show"


def test_a_real_logo_is_stored(world):
    client = world.client("admin")
    logo = SimpleUploadedFile("logo.png", _png(), content_type="image/png")
    answer = _post(client, world.alpha, "branding", {"brand_colour": "#aa2244"}, {"logo": logo})
    assert answer.status_code == 302
    world.alpha.refresh_from_db()
    assert world.alpha.brand_colour == "#aa2244"
    assert world.alpha.logo.name.startswith("logos/alpha-")


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "SVG logos are not accepted",
        ),
        (
            "logo.png",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "SVG logos are not accepted",
        ),
        ("logo.png", b"%PDF-1.4 this is no image", "not a PNG or JPEG"),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + b"x" * (2 * 1024 * 1024), "at most 1 MB"),
    ],
)
def test_upload_attacks_are_refused_on_the_logo_field(world, name, content, words):
    client = world.client("admin")
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    answer = _post(client, world.alpha, "branding", {"brand_colour": "#aa2244"}, {"logo": upload})
    assert answer.status_code == 400
    assert words in answer.content.decode()
    world.alpha.refresh_from_db()
    assert not world.alpha.logo
    assert world.alpha.brand_colour == ""  # nothing saved with a refused logo


def test_a_colour_that_is_not_a_colour_is_refused(world):
    client = world.client("admin")
    answer = _post(client, world.alpha, "branding", {"brand_colour": "red;}body{display:none"})
    assert answer.status_code == 400
    world.alpha.refresh_from_db()
    assert world.alpha.brand_colour == ""


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_the_preview_draws_unsaved_values(world):
    client = world.client("admin")
    answer = client.post(
        f"{URL}preview/",
        {
            "company": world.alpha.pk,
            "branding-brand_colour": "#aa2244",
            "branding-logo": SimpleUploadedFile("l.png", _png(), content_type="image/png"),
            "preview_language": "fr",
        },
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert page.count('src="data:image/png;base64,') == 2
    world.alpha.refresh_from_db()
    assert world.alpha.brand_colour == ""  # a preview saves nothing
    bad = client.post(
        f"{URL}preview/",
        {"company": world.alpha.pk, "branding-logo": SimpleUploadedFile("x.png", b"<svg/>")},
    )
    assert "SVG logos are not accepted" in bad.content.decode()


def test_an_admin_creates_a_company(world):
    client = world.client("admin")
    assert client.get("/company/new/").status_code == 200
    answer = client.post(
        "/company/new/",
        {
            "code": "alpha-uk",
            "name": "Alpha Ltd",
            "country": "GB",
            "currency": "GBP",
            "time_zone": "Europe/London",
        },
    )
    assert answer.status_code == 302
    made = Company.objects.get(code="alpha-uk")
    assert Membership.objects.get(company=made, user=world.users["admin"]).role == "admin"
    # Made in the staff app: not live, each customer to start at step 1; the menu leads there.
    assert (made.automatic_sending, made.first_run) == (False, "step1")
    page = client.get(answer["Location"]).content.decode()
    assert f'href="/go-live/?company={made.pk}"' in page
    refused = client.post(
        "/company/new/",
        {
            "code": "alpha-uk",
            "name": "Again",
            "country": "XX",
            "currency": "GBP",
            "time_zone": "Europe/London",
        },
    )
    assert refused.status_code == 400
    assert "exists already" in refused.content.decode()


@pytest.mark.parametrize("role", ["controller", "reader", "rep", "outsider"])
def test_only_admins_create_companies(world, role):
    client = world.client(role)
    assert client.get("/company/new/").status_code == 403
    answer = client.post(
        "/company/new/",
        {"code": "x", "name": "X", "country": "FR", "currency": "EUR", "time_zone": "Europe/Paris"},
    )
    assert answer.status_code == 403
    assert not Company.objects.filter(code="x").exists()


def test_the_page_lists_recent_changes_by_field_label(world):
    client = world.client("admin")
    _post(
        client,
        world.alpha,
        "sending",
        {"send_days": ["1", "2"], "send_from": "08:00", "send_until": "18:00", "daily_cap": "50"},
    )
    page = client.get(URL, {"company": world.alpha.pk}).content.decode()
    assert "Recent changes" in page
    assert "Days messages leave, Daily limit" in page
    # the history is a section of the page, once, never inside the tab's title (it was, unclosed)
    assert "<title>Company settings · relance</title>" in page
    assert page.count("Recent changes</h2>") == 1
    # a live company's first-run policy stays reachable: the menu shows Go live only until then
    assert f'href="/go-live/?company={world.alpha.pk}"' in page


def test_the_django_admin_is_for_superusers_only(world):
    admin = world.users["admin"]
    admin.is_staff = True  # even marked staff, a company admin uses the staff app's pages
    admin.save()
    assert world.client("admin").get("/admin/").status_code == 302
    assert world.client("root").get("/admin/").status_code == 200


def test_an_admin_manages_shared_mailboxes(world):
    client = world.client("admin")
    page = client.get(URL, {"company": world.alpha.pk, "section": "mailboxes"})
    assert page.status_code == 200
    assert "No shared mailbox yet." in page.content.decode()
    controller = world.users["controller"]
    answer = client.post(
        "/company/mailboxes/",
        {"company": world.alpha.pk, "email": "ar@alpha.test", "members": [controller.pk]},
    )
    assert answer.status_code == 302
    alias = Alias.objects.get(company=world.alpha)
    assert list(alias.members.all()) == [controller]
    outsider = world.users["beta_admin"]  # not one of alpha's people
    client.post(f"/company/mailboxes/{alias.pk}/", {f"a{alias.pk}-members": [outsider.pk]})
    assert list(alias.members.all()) == [controller]
    page = client.get(URL, {"company": world.alpha.pk, "section": "mailboxes"}).content.decode()
    assert "ar@alpha.test" in page
    assert "Shared mailbox ar@alpha.test added" in page  # in the recent changes
    for role in ("controller", "reader", "rep"):
        assert world.client(role).post(f"/company/mailboxes/{alias.pk}/remove/").status_code == 403
    assert (
        world.client("beta_admin").post(f"/company/mailboxes/{alias.pk}/remove/").status_code == 404
    )
    assert client.post(f"/company/mailboxes/{alias.pk}/remove/").status_code == 302
    assert not Alias.objects.exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_uk_bank_details_are_edited_on_the_profile(world, language):
    client = world.client("admin", language)
    page = client.get(URL, {"company": world.alpha.pk, "section": "profile"}).content.decode()
    assert 'name="profile-sort_code"' in page
    assert 'name="profile-account_number"' in page
    answer = _post(
        client,
        world.alpha,
        "profile",
        _profile(world.alpha, sort_code="40-12-76", account_number="4123 4567"),
    )
    assert answer.status_code == 302
    world.alpha.refresh_from_db()
    assert (world.alpha.sort_code, world.alpha.account_number) == ("401276", "41234567")
    page = client.get(URL, {"company": world.alpha.pk, "section": "profile"}).content.decode()
    assert 'value="40-12-76"' in page
    wrong = _post(
        client,
        world.alpha,
        "profile",
        _profile(world.alpha, sort_code="40-12-7", account_number="41234567"),
    )
    assert wrong.status_code == 400
    assert "40127" in wrong.content.decode()  # named on its field, as typed (digits)
    world.alpha.refresh_from_db()
    assert world.alpha.sort_code == "401276"
