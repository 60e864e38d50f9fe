"""Portal links: signed for one customer, expiring, revocable, re-issued by an emailed code;
rate-limited; never a step into another customer's data; CSRF on every form."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from django.test import Client

from relance.models import Event, OutboxMessage, PortalCode
from relance.services.portal import codes, links


def _expired(ledger, monkeypatch) -> str:
    """A link of Dupont's signed 31 days ago (the company's links work 30 days)."""
    then = time.time() - 31 * 86400
    with monkeypatch.context() as patch:
        patch.setattr("django.core.signing.time.time", lambda: then)
        return links.token(ledger.dupont)


def test_the_link_opens_the_customers_own_account(ledger):
    page = Client().get(ledger.path())
    assert page.status_code == 200
    text = page.content.decode()
    assert "Boulangerie Dupont" in text
    assert "Garage Martin" not in text
    assert page["Cache-Control"] == "private, no-store"
    assert page["Referrer-Policy"] == "same-origin"  # never sent to another site


def test_tampered_links_are_refused(ledger):
    token = links.token(ledger.dupont)
    forged = token.replace(f"{ledger.dupont.pk}.0", f"{ledger.martin.pk}.0", 1)
    for bad in (forged, token[:-3] + "abc", "nothing", token + "x"):
        page = Client().get(f"/p/{bad}/")
        assert page.status_code == 403
        assert "This link is not valid" in page.content.decode()
        assert "Send me a code" not in page.content.decode()


def test_an_expired_link_offers_a_code_and_shows_nothing(ledger, monkeypatch):
    page = Client().get(f"/p/{_expired(ledger, monkeypatch)}/")
    assert page.status_code == 403
    text = page.content.decode()
    assert "This link has expired: links work for 30 days." in text
    assert "Send me a code" in text
    assert "Boulangerie Dupont" not in text
    assert "1,250.00" not in text


def test_a_revoked_link_stops_at_once(ledger):
    path = ledger.path()
    links.revoke(ledger.dupont)
    page = Client().get(path)
    assert page.status_code == 403
    assert "This link was withdrawn." in page.content.decode()
    assert Client().get(ledger.path()).status_code == 200  # a new link works
    assert Event.objects.filter(kind="portal.revoked").count() == 1


def test_a_link_never_reaches_another_customers_invoice(ledger):
    client = Client()
    assert client.get(ledger.path(suffix="invoices/I1.pdf")).status_code == 200
    other = client.get(ledger.path(suffix="invoices/M1.pdf"))
    assert other.status_code == 404
    assert b"%PDF" not in other.content


def test_a_code_to_a_known_address_gives_a_fresh_link(ledger, monkeypatch):
    old = _expired(ledger, monkeypatch)
    client = Client()
    page = client.post(f"/p/{old}/new-link/", {"email": "Jeanne@Dupont.test "})
    assert "Check your email" in page.content.decode() or "Consultez" in page.content.decode()
    [email] = mail.outbox
    assert email.to == ["jeanne@dupont.test"]
    code = re.search(r"\b(\d{6})\b", email.body).group(1)
    assert OutboxMessage.objects.get(key__startswith="portal-code:").status == "sent"
    wrong = client.post(f"/p/{old}/new-link/", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 200
    opened = client.post(f"/p/{old}/new-link/", {"code": code})
    assert opened.status_code == 302
    assert client.get(opened.url).status_code == 200
    again = client.post(f"/p/{old}/new-link/", {"code": code})  # used once
    assert again.status_code == 200


def test_an_unknown_address_gets_the_same_answer_and_no_email(ledger, monkeypatch):
    old = _expired(ledger, monkeypatch)
    known = Client().post(f"/p/{old}/new-link/", {"email": "jeanne@dupont.test"})
    unknown = Client().post(f"/p/{old}/new-link/", {"email": "mallory@evil.test"})
    assert unknown.status_code == known.status_code == 200
    assert len(mail.outbox) == 1


def test_codes_are_limited_per_hour_and_tries_per_code(ledger):
    asked = [codes.ask(ledger.dupont.pk, "jeanne@dupont.test", "10.0.0.1") for _ in range(4)]
    assert asked[3] is None  # three an hour from one connection
    sent = [job() for job in asked[:3] if job is not None]
    assert [s.sent for s in sent] == [True, True, True]
    sent_codes = [re.search(r"\b(\d{6})\b", m.body).group(1) for m in mail.outbox]
    latest = sent_codes[-1]
    for _ in range(codes.CODE_TRIES):
        assert codes.check_code(ledger.dupont.pk, "999999" if latest != "999999" else "0") is None
    assert codes.check_code(ledger.dupont.pk, latest) is None  # too many wrong tries
    assert PortalCode.objects.filter(digest__contains=latest).count() == 0  # stored hashed


def test_guessing_links_is_rate_limited(ledger):
    client = Client()
    statuses = [client.get(f"/p/guess{n}/").status_code for n in range(65)]
    assert statuses[:60] == [403] * 60
    assert statuses[-1] == 429


def test_code_guessing_is_rate_limited(ledger, monkeypatch):
    old = _expired(ledger, monkeypatch)
    client = Client()
    statuses = [
        client.post(f"/p/{old}/new-link/", {"code": "123456"}).status_code for _ in range(12)
    ]
    assert statuses[-1] == 429


@pytest.mark.parametrize("data", [{"email": "jeanne@dupont.test"}, {"code": "123456"}])
def test_every_portal_form_needs_its_csrf_token(ledger, monkeypatch, data):
    old = _expired(ledger, monkeypatch)
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"/p/{old}/new-link/", data).status_code == 403
    assert not mail.outbox
