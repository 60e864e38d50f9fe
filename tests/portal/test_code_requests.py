"""Asking for a code by email: the same answer, with the same work done inside the request, for
a known and an unknown address (the code is made and emailed once the answer has gone), and
limits that someone else asking from another connection cannot turn against the customer."""

from __future__ import annotations

import re
import time

from django.core import mail
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client, RequestFactory

from relance.models import OutboxMessage, PortalCode
from relance.portal import views
from relance.services.portal import codes, links

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def _expired(ledger, monkeypatch) -> str:
    then = time.time() - 31 * 86400
    with monkeypatch.context() as patch:
        patch.setattr("django.core.signing.time.time", lambda: then)
        return links.token(ledger.dupont)


def _ask(token: str, email: str, address: str = "198.51.100.7"):
    """The view as the server calls it: the answer, before the server sends and closes it."""
    request = RequestFactory().post(f"/p/{token}/new-link/", {"email": email}, REMOTE_ADDR=address)
    return views.new_link(request, token)


def _sent(response) -> None:
    """What the server does once the answer is sent: close it (the test keeps its database
    connection open, as Django's test client does)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def test_known_and_unknown_addresses_get_the_same_answer_and_nothing_is_sent_inside(
    ledger, monkeypatch
):
    old = _expired(ledger, monkeypatch)
    known = _ask(old, "jeanne@dupont.test")
    unknown = _ask(old, "mallory@evil.test")
    assert known.status_code == unknown.status_code == 200
    assert CSRF.sub("", known.content.decode()) == CSRF.sub("", unknown.content.decode())
    # inside the request: no email, no code, not even a queued message, for either
    assert not mail.outbox
    assert not PortalCode.objects.exists()
    assert not OutboxMessage.objects.exists()
    _sent(known)  # the server has sent the answer: now the code is made and emailed
    _sent(unknown)
    [email] = mail.outbox
    assert email.to == ["jeanne@dupont.test"]
    assert OutboxMessage.objects.get(key__startswith="portal-code:").status == "sent"


def test_someone_elses_requests_from_another_connection_do_not_lock_the_customer_out(
    ledger, monkeypatch
):
    old = _expired(ledger, monkeypatch)
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    asked = [
        attacker.post(f"/p/{old}/new-link/", {"email": "jeanne@dupont.test"}).status_code
        for _ in range(4)
    ]
    assert asked == [200, 200, 200, 429]  # the attacker's connection is limited
    customer = Client(REMOTE_ADDR="198.51.100.7")
    page = customer.post(f"/p/{old}/new-link/", {"email": "jeanne@dupont.test"})
    assert page.status_code == 200
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    # more codes asked meanwhile do not spoil the one the customer is typing
    Client(REMOTE_ADDR="203.0.113.10").post(f"/p/{old}/new-link/", {"email": "jeanne@dupont.test"})
    opened = customer.post(f"/p/{old}/new-link/", {"code": code})
    assert opened.status_code == 302


def test_an_address_has_a_ceiling_whoever_asks_and_it_says_nothing_of_the_address(
    ledger, monkeypatch
):
    old = _expired(ledger, monkeypatch)
    for email in ("jeanne@dupont.test", "mallory@evil.test"):
        statuses = [
            Client(REMOTE_ADDR=f"203.0.113.{n}")
            .post(f"/p/{old}/new-link/", {"email": email})
            .status_code
            for n in range(codes.ADDRESS_CODES_PER_HOUR + 1)
        ]
        assert statuses == [200] * codes.ADDRESS_CODES_PER_HOUR + [429], email
    assert len(mail.outbox) == codes.ADDRESS_CODES_PER_HOUR  # all to Jeanne


def test_behind_a_trusted_proxy_each_client_has_its_own_limits(ledger, monkeypatch, settings):
    """Outside review, F2: the portal's limits read REMOTE_ADDR only, so behind a reverse proxy
    every customer shared the proxy's one allowance and one client could lock everyone out."""
    settings.RELANCE_TRUSTED_PROXIES = 1
    old = _expired(ledger, monkeypatch)

    def through_proxy(client_address: str) -> Client:
        return Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=client_address)

    attacker = through_proxy("203.0.113.9")
    asked = [
        attacker.post(f"/p/{old}/new-link/", {"email": "jeanne@dupont.test"}).status_code
        for _ in range(4)
    ]
    assert asked == [200, 200, 200, 429]
    page = through_proxy("198.51.100.7").post(
        f"/p/{old}/new-link/", {"email": "jeanne@dupont.test"}
    )
    assert page.status_code == 200
    assert "six-digit code" in page.content.decode() or mail.outbox
