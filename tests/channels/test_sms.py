"""The SMS channel: segment counting, the Twilio-style backend against a real local
HTTP server, and the channel end to end through the outbox with the file backend."""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from relance.channels.sms import FileSmsBackend, SmsChannel, TwilioSmsBackend
from relance.domain.delivery import Delivery, DeliveryError
from relance.messaging.sms import SmsLength, segments
from relance.models import Customer, OutboxMessage
from relance.services.dunning import outbox

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "s3cret-token"

# --------------------------------------------------------------------------------------------------
# Segments
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsLength("GSM-7", 0, 0)),
        ("a" * 160, SmsLength("GSM-7", 160, 1)),
        ("a" * 161, SmsLength("GSM-7", 161, 2)),
        ("a" * 306, SmsLength("GSM-7", 306, 2)),
        ("a" * 307, SmsLength("GSM-7", 307, 3)),
        ("€", SmsLength("GSM-7", 2, 1)),
        ("a" * 158 + "€", SmsLength("GSM-7", 160, 1)),
        ("a" * 159 + "€", SmsLength("GSM-7", 161, 2)),
        ("[]{}^~|\\", SmsLength("GSM-7", 16, 1)),
        ("Votre facture échue", SmsLength("GSM-7", 19, 1)),  # é is in the GSM basic table
        ("Złoty", SmsLength("UCS-2", 5, 1)),  # ł is not
        ("ł" * 70, SmsLength("UCS-2", 70, 1)),
        ("ł" * 71, SmsLength("UCS-2", 71, 2)),
        ("ł" * 134, SmsLength("UCS-2", 134, 2)),
        ("ł" * 135, SmsLength("UCS-2", 135, 3)),
        ("🙂", SmsLength("UCS-2", 2, 1)),  # outside the BMP: a surrogate pair
        ("Merci 🙂", SmsLength("UCS-2", 8, 1)),
        ("a" * 68 + "🙂", SmsLength("UCS-2", 70, 1)),
        ("a" * 69 + "🙂", SmsLength("UCS-2", 71, 2)),
    ],
)
def test_segments(text: str, expected: SmsLength) -> None:
    assert segments(text) == expected


def test_escapes_and_surrogate_pairs_are_never_split_between_parts() -> None:
    # 152 + 2 + 152 = 306 septets would fit 2 parts of 153, but the € cannot be cut in two.
    assert segments("a" * 152 + "€" + "a" * 152) == SmsLength("GSM-7", 306, 3)
    assert segments("a" * 66 + "🙂" + "a" * 66) == SmsLength("UCS-2", 134, 3)


def test_one_character_outside_gsm_makes_the_whole_text_ucs2() -> None:
    length = segments("€" + "a" * 69 + "ł")  # the € is one UTF-16 unit in UCS-2
    assert length == SmsLength("UCS-2", 71, 2)


def test_french_typography_travels_as_gsm_not_as_ucs2(sms_settings) -> None:
    """Found from outside (issue 22): Babel writes French amounts with narrow no-break spaces,
    a French SMS has guillemets and apostrophes; one such character sent the whole reminder as
    UCS-2, 70 per part. They travel as plain spaces, quotes and dashes, and count as such."""
    from babel.numbers import format_currency

    amount = format_currency(1250, "EUR", locale="fr_FR")  # '1\u202f250,00\xa0€'
    text = (
        f"Acme : la facture FR-1 de {amount} reste due ; l\u2019échéance \u00ab J+15 \u00bb est "
        "passée \u2013 merci\u2026"
    )
    assert segments(text) == SmsLength("GSM-7", len(text) + 3, 1)  # € = 2 septets; … = 3 dots
    SmsChannel().send(delivery("acme:fr:1", ["+33612345678"], text))
    [sent] = written(sms_settings)
    assert sent["body"] == (
        'Acme : la facture FR-1 de 1 250,00 € reste due ; l\'échéance " J+15 " est '
        "passée - merci..."
    )
    assert (sent["encoding"], sent["segments"]) == ("GSM-7", 1)


# --------------------------------------------------------------------------------------------------
# Twilio-style backend against a real local HTTP server
# --------------------------------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]


@dataclass
class FakeProvider:
    """What the fake provider answers next, and every request it received."""

    url: str
    status: int = 201
    answer: Any = field(default_factory=lambda: {"sid": "SM0001", "status": "queued"})
    delay: float = 0.0
    requests: list[Seen] = field(default_factory=list)


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    state = FakeProvider(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode("utf-8")
            state.requests.append(
                Seen(
                    "POST",
                    self.path,
                    dict(self.headers.items()),
                    urllib.parse.parse_qs(body, keep_blank_values=True),
                )
            )
            if state.delay:
                time.sleep(state.delay)
            raw = state.answer if isinstance(state.answer, bytes) else json.dumps(state.answer)
            payload = raw if isinstance(raw, bytes) else raw.encode()
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left, as the timeout test wants

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def twilio(url: str, **options: Any) -> TwilioSmsBackend:
    return TwilioSmsBackend(SID, TOKEN, **{"from_": "+33700000000", "base_url": url, **options})


def test_twilio_request_is_exactly_what_the_api_takes(provider: FakeProvider) -> None:
    sid = twilio(provider.url).send_text("+33612345678", "Votre facture F-1 : 120 €", "k:1")

    assert sid == "SM0001"
    [seen] = provider.requests
    assert seen.method == "POST"
    assert seen.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    expected_auth = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {expected_auth}"
    assert seen.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert seen.headers["I-Twilio-Idempotency-Token"] == "k:1"
    assert seen.form == {
        "To": ["+33612345678"],
        "From": ["+33700000000"],
        "Body": ["Votre facture F-1 : 120 €"],
    }


def test_twilio_messaging_service_replaces_from(provider: FakeProvider) -> None:
    twilio(provider.url, messaging_service_sid="MG42").send_text("+33612345678", "Hi", "k")
    assert provider.requests[0].form == {
        "To": ["+33612345678"],
        "MessagingServiceSid": ["MG42"],
        "Body": ["Hi"],
    }


def test_twilio_key_outside_ascii_goes_as_a_digest(provider: FakeProvider) -> None:
    twilio(provider.url).send_text("+33612345678", "Hi", "Café:F-1")
    token = provider.requests[0].headers["I-Twilio-Idempotency-Token"]
    assert token.startswith("sha256:")
    assert len(token) == len("sha256:") + 64


def test_twilio_4xx_is_permanent(provider: FakeProvider) -> None:
    provider.status = 400
    provider.answer = {"code": 21211, "message": "The 'To' number is not valid."}
    with pytest.raises(DeliveryError) as error:
        twilio(provider.url).send_text("+33612345678", "Hi", "k")
    assert error.value.permanent
    assert str(error.value) == "SMS provider answered HTTP 400: 21211 The 'To' number is not valid."


@pytest.mark.parametrize("status", [401, 403, 429, 500, 503])
def test_twilio_credentials_throttling_and_5xx_are_temporary(
    provider: FakeProvider, status: int
) -> None:
    provider.status = status
    provider.answer = b"<html>unavailable</html>"
    with pytest.raises(DeliveryError, match=f"HTTP {status}") as error:
        twilio(provider.url).send_text("+33612345678", "Hi", "k")
    assert not error.value.permanent


def test_twilio_answer_without_sid_is_temporary(provider: FakeProvider) -> None:
    provider.answer = {"status": "queued"}
    with pytest.raises(DeliveryError, match="without a message sid") as error:
        twilio(provider.url).send_text("+33612345678", "Hi", "k")
    assert not error.value.permanent


def test_twilio_timeout_is_temporary(provider: FakeProvider) -> None:
    provider.delay = 1.0
    with pytest.raises(DeliveryError, match="unreachable") as error:
        twilio(provider.url, timeout=0.2).send_text("+33612345678", "Hi", "k")
    assert not error.value.permanent


def test_twilio_connection_refused_is_temporary() -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeliveryError, match="unreachable") as error:
        twilio(f"http://127.0.0.1:{port}").send_text("+33612345678", "Hi", "k")
    assert not error.value.permanent


def test_twilio_needs_credentials_and_a_sender() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="ACCOUNT_SID"):
        TwilioSmsBackend("", TOKEN, from_="+33700000000")
    with pytest.raises(ImproperlyConfigured, match="RELANCE_SMS_FROM"):
        TwilioSmsBackend(SID, TOKEN)


# --------------------------------------------------------------------------------------------------
# The channel, end to end with the file backend
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def sms_settings(settings, tmp_path: Path) -> Path:
    settings.RELANCE_OUTBOX_DIR = tmp_path / "outbox"
    settings.RELANCE_SMS = {"backend": "file"}
    settings.RELANCE_CHANNELS = {
        **settings.RELANCE_CHANNELS,
        "sms": "relance.channels.sms.SmsChannel",
    }
    outbox.channel_for.cache_clear()
    yield tmp_path / "outbox" / "sms"
    outbox.channel_for.cache_clear()


@pytest.fixture
def customer(company) -> Customer:
    return Customer.objects.create(
        company=company,
        external_id="C1",
        name="Acme",
        currency="EUR",
        time_zone="Europe/Paris",
        country="FR",
    )


def sms(customer: Customer, key: str, to: list[str], body: str) -> OutboxMessage:
    return OutboxMessage.objects.create(
        key=key, company=customer.company, customer=customer, channel="sms", to=to, body=body
    )


def delivery(key: str, to: list[str], body: str) -> Delivery:
    return Delivery(key=key, outbox_id=1, channel="sms", to=tuple(to), body=body, customer="C1")


def written(folder: Path) -> list[dict[str, Any]]:
    files = sorted(folder.glob("*.json")) if folder.exists() else []
    return sorted((json.loads(p.read_text(encoding="utf-8")) for p in files), key=str)


def test_sms_is_the_default_channel_for_sms() -> None:
    from django.conf import settings

    assert settings.RELANCE_CHANNELS["sms"] == "relance.channels.sms.SmsChannel"


def test_channel_writes_one_file_per_number_and_a_retry_replaces_them(sms_settings):
    message = delivery("acme:standard:1", ["+33612345678", "+442079460000"], "Relance €")
    channel = SmsChannel()
    channel.send(message)
    channel.send(message)  # a retry after a crash

    assert written(sms_settings) == sorted(
        [
            {
                "key": "acme:standard:1:+33612345678",
                "to": "+33612345678",
                "body": "Relance €",
                "encoding": "GSM-7",
                "segments": 1,
            },
            {
                "key": "acme:standard:1:+442079460000",
                "to": "+442079460000",
                "body": "Relance €",
                "encoding": "GSM-7",
                "segments": 1,
            },
        ],
        key=str,
    )


@pytest.mark.parametrize(
    ("to", "body", "error"),
    [
        (["+33612345678", "0612345678"], "Hi", "invalid phone number: '0612345678' cannot be read"),
        (["+3361"], "Hi", "invalid phone number: '+3361' is not a valid phone number"),
        ([], "Hi", "SMS has no recipient"),
        (["+33612345678"], "  \n", "SMS has no text"),
        (["+33612345678"], "a" * 1531, "SMS too long: 11 segments (1531 GSM-7 characters)"),
        (["+33612345678"], "ł" * 671, "SMS too long: 11 segments (671 UCS-2 characters)"),
    ],
)
def test_channel_refuses_for_good_what_a_retry_cannot_fix(sms_settings, to, body, error):
    message = delivery("k", to, body)
    with pytest.raises(DeliveryError, match=re.escape(error)) as e:
        SmsChannel().send(message)
    assert e.value.permanent
    assert written(sms_settings) == []  # nothing left, not even to the valid number


def test_channel_accepts_ten_segments(sms_settings):
    SmsChannel().send(delivery("k", ["+33612345678"], "a" * 1530))
    assert [m["segments"] for m in written(sms_settings)] == [10]


class Provider:
    """A backend that refuses some numbers for good and fails temporarily on others."""

    def __init__(self, refused: Collection[str] = (), down: Collection[str] = ()) -> None:
        self.refused, self.down = refused, down
        self.sent: list[tuple[str, str]] = []

    def send_text(self, to: str, body: str, idempotency_key: str) -> str:
        if to in self.refused:
            raise DeliveryError("21610 unsubscribed", permanent=True)
        if to in self.down:
            raise DeliveryError("HTTP 503")
        self.sent.append((to, idempotency_key))
        return "SM1"


def test_a_number_refused_by_the_provider_does_not_stop_the_others():
    provider = Provider(refused={"+33612345678"})
    message = delivery("k", ["+33612345678", "+442079460000"], "Hi")
    with pytest.raises(DeliveryError) as error:
        SmsChannel(provider).send(message)
    assert error.value.permanent
    assert str(error.value) == (
        "SMS refused for +33612345678: 21610 unsubscribed (sent to +442079460000)"
    )
    assert provider.sent == [("+442079460000", "k:+442079460000")]


def test_a_temporary_failure_stops_the_message_for_a_retry():
    provider = Provider(down={"+33612345678"})
    message = delivery("k", ["+33612345678", "+442079460000"], "Hi")
    with pytest.raises(DeliveryError) as error:
        SmsChannel(provider).send(message)
    assert not error.value.permanent
    assert provider.sent == []


def test_file_backend_is_atomic_and_keyed_by_a_digest(tmp_path: Path) -> None:
    backend = FileSmsBackend(tmp_path)
    first = backend.send_text("+33612345678", "Hi", "a/b:c")
    again = backend.send_text("+33612345678", "Hi again", "a/b:c")
    assert first == again
    [path] = (tmp_path / "sms").iterdir()
    assert path.suffix == ".json"
    assert json.loads(path.read_text(encoding="utf-8"))["body"] == "Hi again"


def test_through_the_outbox(sms_settings, customer):
    """The outbox finds the channel from the settings: sent, and dead for an invalid number."""
    good = sms(customer, "good", ["+33612345678"], "Votre facture est échue.")
    bad = sms(customer, "bad", ["+33 12"], "Votre facture est échue.")

    report = outbox.deliver_due(worker="test")

    assert report.statuses == {"good": "sent", "bad": "dead"}
    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.status, good.attempts, good.body) == ("sent", 1, "Votre facture est échue.")
    assert bad.last_error.startswith("invalid phone number: '+33 12' is not a valid phone number")
    assert [m["key"] for m in written(sms_settings)] == ["good:+33612345678"]
