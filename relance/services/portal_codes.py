"""One-time codes that re-issue a customer's portal link: emailed through the outbox, only to an
address the ledger already has for that customer; stored as a keyed hash; good for CODE_MINUTES
and CODE_TRIES tries, used once; at most CODES_PER_HOUR codes an hour per customer."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relance.models import Contact, Customer, Event, OutboxMessage, PortalCode
from relance.services import outbox
from relance.services.portal_links import token

CODE_MINUTES = 15
CODE_TRIES = 5
CODES_PER_HOUR = 3


def _digest(code: str, customer_pk: int) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{customer_pk}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CodeSent:
    """Whether a code left; the page says the same either way (no address is confirmed)."""

    sent: bool
    too_many: bool = False


def send_code(customer_pk: int, email: str, now: datetime | None = None) -> CodeSent:
    """Email a one-time code to `email` if it is one of the customer's contacts; at most
    CODES_PER_HOUR codes an hour per customer."""
    now = now or timezone.now()
    customer = Customer.objects.select_related("company").get(pk=customer_pk)
    recent = PortalCode.objects.filter(customer=customer, created_at__gt=now - timedelta(hours=1))
    if recent.count() >= CODES_PER_HOUR:
        return CodeSent(False, too_many=True)
    address = email.strip().lower()
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
    """A fresh link token when `code` is the customer's latest unused code, still valid and not
    tried too often; None otherwise (every wrong try counts)."""
    now = now or timezone.now()
    with transaction.atomic():
        latest = (
            PortalCode.objects.select_for_update()
            .filter(
                customer_id=customer_pk,
                used_at=None,
                created_at__gt=now - timedelta(minutes=CODE_MINUTES),
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if latest is None or latest.attempts >= CODE_TRIES:
            return None
        if not hmac.compare_digest(latest.digest, _digest(code.strip(), customer_pk)):
            PortalCode.objects.filter(pk=latest.pk).update(attempts=F("attempts") + 1)
            return None
        PortalCode.objects.filter(pk=latest.pk).update(used_at=now)
        customer = Customer.objects.get(pk=customer_pk)
        Event.objects.create(
            company_id=customer.company_id,
            customer=customer,
            source="portal",
            kind="portal.link_reissued",
            data={"email": latest.email},
        )
    return token(customer)
