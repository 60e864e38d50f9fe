"""The SMS channel: phone numbers checked in E.164 (domain.phones), the length of a text checked
in segments (messaging.sms), and a small backend interface with two backends: files, and a
Twilio-style REST API.

The channel sends one SMS per recipient under the idempotency key "<outbox key>:<number>", so a
retry after a crash or a timeout is recognisable by the provider (and replaces the same file).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPException
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from relance.domain import phones
from relance.domain.delivery import Delivery, DeliveryError, Sent
from relance.messaging.sms import plain, segments

# --------------------------------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------------------------------


class SmsBackend(Protocol):
    def send_text(self, to: str, body: str, idempotency_key: str) -> str:
        """Send `body` to the E.164 number `to`; return the provider's message id, or raise
        DeliveryError. Called again with the same key after a crash or a temporary error."""


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class FileSmsBackend:
    """Writes <RELANCE_OUTBOX_DIR>/sms/<sha256 of the key>.json atomically: a retry replaces the
    file. Outbox keys hold any character a customer's external id does, hence the digest."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory

    def send_text(self, to: str, body: str, idempotency_key: str) -> str:
        folder = Path(self.directory or settings.RELANCE_OUTBOX_DIR) / "sms"
        folder.mkdir(parents=True, exist_ok=True)
        name = _digest(idempotency_key)
        target = folder / f"{name}.json"
        length = segments(body)
        payload = {
            "key": idempotency_key,
            "to": to,
            "body": body,
            "encoding": length.encoding,
            "segments": length.segments,
        }
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, target)
        return f"file:{name}"


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect of a POST as a GET without the message: an API answering
    3xx is misconfigured, and that must show as an error."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class TwilioSmsBackend:
    """POST {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json, as Twilio and compatible
    providers (or a test server) take it, with the standard library only.

    Failures the provider will refuse again (4xx but 401, 403 and 429) are permanent; throttling,
    refused credentials (a configuration to fix, not a bad message), server errors and network
    errors are temporary. A timeout is temporary too although the message may have left: the
    retry carries the same idempotency token, which providers that support one use to recognise
    it; one that ignores it (Twilio documents none for sending) may then deliver it twice.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_: str = "",
        messaging_service_sid: str = "",
        base_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
    ) -> None:
        if not account_sid or not auth_token:
            raise ImproperlyConfigured(
                "SMS backend 'twilio' needs RELANCE_TWILIO_ACCOUNT_SID and "
                "RELANCE_TWILIO_AUTH_TOKEN"
            )
        if not from_ and not messaging_service_sid:
            raise ImproperlyConfigured(
                "SMS backend 'twilio' needs RELANCE_SMS_FROM or "
                "RELANCE_TWILIO_MESSAGING_SERVICE_SID"
            )
        self.url = (
            f"{base_url.rstrip('/')}/2010-04-01/Accounts/"
            f"{urllib.parse.quote(account_sid, safe='')}/Messages.json"
        )
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode("ascii")
        self._authorization = f"Basic {credentials}"
        self.sender = (
            {"MessagingServiceSid": messaging_service_sid}
            if messaging_service_sid
            else {"From": from_}
        )
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_RefuseRedirects)

    @staticmethod
    def _token(key: str) -> str:
        """Header values must be plain ASCII: a key with other characters goes as its digest."""
        if key.isascii() and key.isprintable():
            return key
        return f"sha256:{_digest(key)}"

    def send_text(self, to: str, body: str, idempotency_key: str) -> str:
        form = urllib.parse.urlencode({"To": to, **self.sender, "Body": body}).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=form,
            method="POST",
            headers={
                "Authorization": self._authorization,
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
                "I-Twilio-Idempotency-Token": self._token(idempotency_key),
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                answer = response.read()
        except urllib.error.HTTPError as error:
            raise self._refused(error) from None
        except (OSError, HTTPException) as error:  # URLError, refused, reset, timeout
            reason = getattr(error, "reason", error)
            raise DeliveryError(f"SMS provider unreachable: {reason}") from None
        try:
            sid = json.loads(answer)["sid"]
        except (ValueError, KeyError, TypeError):
            # Accepted but unreadable: retrying under the same token is the safe side.
            raise DeliveryError(
                f"SMS provider answer without a message sid: {answer[:200]!r}"
            ) from None
        return str(sid)

    @staticmethod
    def _refused(error: urllib.error.HTTPError) -> DeliveryError:
        try:
            detail = json.loads(error.read())
            why = f"{detail.get('code', '')} {detail.get('message', '')}".strip()
        except (ValueError, AttributeError, OSError):
            why = ""
        text = f"SMS provider answered HTTP {error.code}" + (f": {why}" if why else "")
        temporary = error.code in (401, 403, 429) or error.code >= 500
        return DeliveryError(text[:500], permanent=not temporary)


def backend_from_settings() -> SmsBackend:
    """The backend settings.RELANCE_SMS names ("file" or "twilio")."""
    config: dict[str, Any] = getattr(settings, "RELANCE_SMS", {}) or {}
    name = config.get("backend") or "file"
    if name == "file":
        return FileSmsBackend()
    if name == "twilio":
        return TwilioSmsBackend(
            account_sid=config.get("account_sid", ""),
            auth_token=config.get("auth_token", ""),
            from_=config.get("from", ""),
            messaging_service_sid=config.get("messaging_service_sid", ""),
            base_url=config.get("base_url") or "https://api.twilio.com",
        )
    raise ImproperlyConfigured(f"unknown SMS backend {name!r}: use 'file' or 'twilio'")


# --------------------------------------------------------------------------------------------------
# The channel
# --------------------------------------------------------------------------------------------------

MAX_SEGMENTS = 10  # a reminder by SMS is a few lines; longer is a mistake in the template


class SmsChannel:
    """Sends the text to each number the delivery is addressed to, through the configured backend.

    Everything a retry cannot fix (no number, an invalid one, no text, a text over MAX_SEGMENTS)
    is refused before anything is sent. A number the provider refuses does not stop the others;
    a temporary failure stops the message, whose retry re-sends under the same keys.
    """

    def __init__(self, backend: SmsBackend | None = None) -> None:
        self.backend = backend or backend_from_settings()

    def send(self, delivery: Delivery) -> Sent:
        numbers = self._numbers(delivery)
        body = plain(delivery.body or "")
        if not body.strip():
            raise DeliveryError("SMS has no text", permanent=True)
        length = segments(body)
        if length.segments > MAX_SEGMENTS:
            raise DeliveryError(
                f"SMS too long: {length.segments} segments ({length.characters} {length.encoding}"
                f" characters), at most {MAX_SEGMENTS}",
                permanent=True,
            )
        sent: list[str] = []
        refused: list[str] = []
        for number in numbers:
            try:
                self.backend.send_text(number, body, f"{delivery.key}:{number}")
            except DeliveryError as error:
                if not error.permanent:
                    raise
                refused.append(f"{number}: {error}")
            else:
                sent.append(number)
        if refused:
            also = f" (sent to {', '.join(sent)})" if sent else ""
            raise DeliveryError(f"SMS refused for {'; '.join(refused)}{also}", permanent=True)
        return Sent()

    @staticmethod
    def _numbers(delivery: Delivery) -> list[str]:
        if not delivery.to:
            raise DeliveryError("SMS has no recipient", permanent=True)
        numbers: list[str] = []
        for raw in delivery.to:
            try:
                number = phones.normalize(str(raw), None)
            except ValueError as error:
                raise DeliveryError(f"invalid phone number: {error}", permanent=True) from None
            if number not in numbers:
                numbers.append(number)
        return numbers
