"""One-time codes that re-issue a customer's portal link: emailed through the outbox, only to an
address the ledger already has for that customer; stored as a keyed hash; good for CODE_MINUTES
and CODE_TRIES tries, used once.

Asking gives the same answer, after the same work, whether the address is known or not: the
request only counts the asking (`ask`); the code is made, queued in the outbox and emailed by
the job `ask` returns, which the portal runs once its answer has gone (so neither the answer
nor its timing says whether the address is one of the customer's).

Limits (counted in the cache, like the portal's other limits, for known and unknown addresses
alike): CODES_PER_HOUR per address and connection asking, and a ceiling of
ADDRESS_CODES_PER_HOUR per address whoever asks. Someone else asking for the customer's address
uses up their own connection's allowance, not the customer's; reaching the ceiling takes many
connections, and even then any code already sent still works: every live code is accepted, not
only the latest, so codes asked by someone else do not spoil the one the customer is typing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relance.models import Contact, Customer, OutboxMessage, PortalCode
from relance.services.dunning import outbox
from relance.services.organisation import journal
from relance.services.portal.links import token

CODE_MINUTES = 15
CODE_TRIES = 5
CODES_PER_HOUR = 3  # per address and connection (IP address) asking
ADDRESS_CODES_PER_HOUR = 10  # per address, whoever asks
HOUR = 3600


def _digest(code: str, customer_pk: int) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{customer_pk}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CodeSent:
    """Whether a code left; the page says the same either way (no address is confirmed)."""

    sent: bool
    too_many: bool = False


def _counted(key: str) -> int:
    """One more in this hour's count under `key`; the new count."""
    cache.add(key, 0, HOUR)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, HOUR)
        return 1


def _normal(email: str) -> str:
    return email.strip().lower()


def ask(customer_pk: int, email: str, requester: str) -> Callable[[], CodeSent] | None:
    """Count a request for a code for `email` from `requester` (the connection's address): None
    when over a limit; otherwise the job that sends the code (if the address is known), to run
    once the answer has gone. The same work for any address, known or not."""
    address = hashlib.sha256(_normal(email).encode()).hexdigest()[:32]
    if _counted(f"portal-code:{customer_pk}:{address}:{requester}") > CODES_PER_HOUR:
        return None  # this connection asked enough: the address's ceiling is left untouched
    if _counted(f"portal-code:{customer_pk}:{address}") > ADDRESS_CODES_PER_HOUR:
        return None
    return lambda: send_code(customer_pk, email)


def send_code(customer_pk: int, email: str, now: datetime | None = None) -> CodeSent:
    """Email a one-time code to `email` if it is one of the customer's contacts: queued in the
    outbox, then delivered. The caller has counted the request (`ask`)."""
    now = now or timezone.now()
    customer = Customer.objects.select_related("company").get(pk=customer_pk)
    address = _normal(email)
    known = {
        e.lower()
        for e in Contact.objects.filter(customer=customer, bounced=False)
        .exclude(email="")
        .values_list("email", flat=True)
    }
    if address not in known:
        return CodeSent(False)
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        row = PortalCode.objects.create(
            customer=customer, email=address, digest=_digest(code, customer.pk), created_at=now
        )
        with translation.override(customer.language or "en"):
            subject = _("%(company)s: your code") % {"company": customer.company.name}
            body = _(
                "Your code to open your %(company)s customer account: %(code)s\n\n"
                "It works for %(minutes)s minutes. If you did not ask for it, ignore this message."
            ) % {"company": customer.company.name, "code": code, "minutes": CODE_MINUTES}
        key = f"portal-code:{customer.pk}:{row.pk}"
        OutboxMessage.objects.create(
            key=key,
            company=customer.company,
            customer=customer,
            channel="email",
            to=[address],
            subject=subject,
            body=body,
            created_at=now,
            next_attempt_at=now,
        )
    outbox.deliver_now([key], now)
    return CodeSent(True)


def check_code(customer_pk: int, code: str, now: datetime | None = None) -> str | None:
    """A fresh link token when `code` is one of the customer's unused codes, still valid and not
    tried too often; None otherwise. A wrong try counts against every live code (it was a guess
    at each of them); once one works, the others are retired with it."""
    now = now or timezone.now()
    with transaction.atomic():
        live = list(
            PortalCode.objects.select_for_update()
            .filter(
                customer_id=customer_pk,
                used_at=None,
                created_at__gt=now - timedelta(minutes=CODE_MINUTES),
                attempts__lt=CODE_TRIES,
            )
            .order_by("-created_at", "-pk")
        )
        digest = _digest(code.strip(), customer_pk)
        found = next((c for c in live if hmac.compare_digest(c.digest, digest)), None)
        if found is None:
            if live:
                PortalCode.objects.filter(pk__in=[c.pk for c in live]).update(
                    attempts=F("attempts") + 1
                )
            return None
        PortalCode.objects.filter(pk__in=[c.pk for c in live]).update(used_at=now)
        customer = Customer.objects.get(pk=customer_pk)
        journal.record(
            "portal.link_reissued",
            customer,
            source="portal",
            data={"email": found.email},
        )
    return token(customer)
