"""The ESPs' tracking webhooks (/anymail/<esp>/tracking/) mark contacts bounced: believed only
with anymail's shared secret (HTTP basic auth) or the ESP's signature; without either
configured, or with a wrong secret, relance refuses (403) and nothing changes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.test import Client
from django.utils import timezone

from relance.models import Contact, Event, OutboxMessage

URL = "/anymail/postmark/tracking/"
BOUNCE = {
    "RecordType": "Bounce",
    "Type": "HardBounce",
    "MessageID": "pm-123",
    "Email": "jeanne@dupont.test",
    "BouncedAt": "2026-02-06T10:00:00Z",
    "Description": "The server was unable to deliver your message",
    "Details": "smtp;550 5.1.1 no such user",
}


@pytest.fixture
def sent(company, new_customer):
    dupont = new_customer(company, "C1", "Boulangerie Dupont")
    Contact.objects.create(
        company=company, customer=dupont, external_id="K1", email="jeanne@dupont.test"
    )
    OutboxMessage.objects.create(
        key="k1",
        company=company,
        customer=dupont,
        channel="email",
        to=["jeanne@dupont.test"],
        status="sent",
        provider_id="pm-123",
        created_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )
    return dupont


def _post(auth: str | None = None):
    headers = {}
    if auth is not None:
        headers["authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return Client().post(URL, json.dumps(BOUNCE), content_type="application/json", headers=headers)


def _bounced() -> bool:
    return Contact.objects.get(external_id="K1").bounced


def test_without_any_secret_configured_a_post_is_refused(sent, settings):
    settings.ANYMAIL = {}
    response = _post()
    assert response.status_code == 403
    assert not _bounced()
    assert not Event.objects.filter(kind="contact.bounced").exists()


def test_with_a_secret_an_unauthenticated_or_wrong_post_is_refused(sent, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "relance:s3cret-hook"}
    assert _post().status_code == 403
    assert _post("relance:wrong").status_code == 403
    assert not _bounced()


def test_with_the_secret_the_bounce_is_believed(sent, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "relance:s3cret-hook"}
    response = _post("relance:s3cret-hook")
    assert response.status_code == 200
    assert _bounced()
    assert Event.objects.filter(kind="contact.bounced", source="Postmark").exists()


def test_an_esp_that_signs_needs_its_signing_key(sent, settings):
    """Mailgun signs its posts: without a signing key (nor a secret) nothing is believed."""
    settings.ANYMAIL = {}
    response = Client().post("/anymail/mailgun/tracking/", "{}", content_type="application/json")
    assert response.status_code == 403


def test_head_still_answers_for_the_esps_url_check(settings):
    settings.ANYMAIL = {}
    assert Client().head(URL).status_code == 200


def test_a_signed_post_is_believed_without_the_secret(sent, settings):
    """Mailgun with its signing key: the signature alone authenticates the bounce."""
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": "mg-key"}
    OutboxMessage.objects.update(provider_id="<pm-123>")  # Mailgun's ids are bracketed
    timestamp, token = "1770372000", "a" * 50
    signature = hmac.new(b"mg-key", f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    payload = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": "failed",
            "severity": "permanent",
            "timestamp": 1770372000.0,
            "recipient": "jeanne@dupont.test",
            "message": {"headers": {"message-id": "pm-123"}},
            "delivery-status": {"code": 550, "description": "no such user"},
        },
    }
    url = "/anymail/mailgun/tracking/"
    forged = {**payload, "signature": {**payload["signature"], "signature": "0" * 64}}
    assert Client().post(url, forged, content_type="application/json").status_code == 403
    assert not _bounced()
    assert Client().post(url, payload, content_type="application/json").status_code == 200
    assert _bounced()
