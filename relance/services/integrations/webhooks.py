"""Outgoing webhooks: a company's endpoints are told about reminders sent, action items created,
payments received, promises made and broken, disputes opened and resolved.

Each event becomes one delivery per subscribed endpoint, written in the transaction that made
the event happen (so a rolled-back import tells nobody) and posted after it by the tick. Events
reach here from the journal (services/organisation/journal.py), which calls `tell` for the kinds
it maps to topics: services never queue a delivery themselves. A
delivery is signed like Stripe's: `Relance-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" with the endpoint's secret>`, so a receiver checks both who sent it and when. Any
answer but 2xx is retried with backoff (1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h), then the
delivery is dead and shown as such in the staff app. Delivery is at least once: a receiver
deduplicates by the event's `id`, which is the same on every try.

Endpoints are guarded against SSRF (services/integrations/egress.py): an address that is not
public (unless the operator allows it with RELANCE_WEBHOOK_ALLOW) is refused when registered and
again at each delivery, which connects to the address it checked and follows no redirect. What
is stored of an answer is its status code and a generic reason ("answered 500", "timed out",
"could not connect", "address not allowed", "redirect not followed"), never its body. Each pass
delivers company by company, each within a time budget, so one company's dead endpoints cost the
others at most that budget."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relance.domain.errors import Refusal
from relance.models import (
    EVENT_TYPES,
    ActionItem,
    Company,
    Dispute,
    Execution,
    Invoice,
    OutboxMessage,
    Payment,
    Promise,
    WebhookDelivery,
    WebhookEndpoint,
)
from relance.services.integrations import egress, resources
from relance.services.organisation import journal

log = logging.getLogger(__name__)
BACKOFF = [timedelta(minutes=m) for m in (1, 5, 30, 120, 360, 720, 1440)]
MAX_ATTEMPTS = len(BACKOFF) + 1
CONNECT_TIMEOUT_SECONDS = 5
TIMEOUT_SECONDS = 10  # connecting and answering, in all
COMPANY_BUDGET_SECONDS = 30  # a company's share of a pass: no new post once it is spent
LEASE = timedelta(minutes=5)
TOLERANCE_SECONDS = 300
Status = WebhookDelivery.Status


class WebhookRefused(Refusal, ValueError):
    pass


# --- subscriptions ------------------------------------------------------------------------------


def _checked(url: str, events: Iterable[str]) -> tuple[str, list[str]]:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookRefused(f"'{url}' is not an http(s) URL")
    try:
        egress.check(url)
    except egress.AddressRefused as exc:
        raise WebhookRefused(
            _(
                "This address is on a private network: relance only sends webhooks to public "
                "addresses. An operator can allow it with RELANCE_WEBHOOK_ALLOW."
            )
        ) from exc
    chosen = [e for e in EVENT_TYPES if e in set(events)]
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise WebhookRefused(
            f"unknown events {', '.join(unknown)}; events: {', '.join(EVENT_TYPES)}"
        )
    if not chosen:
        raise WebhookRefused("choose at least one event")
    return url, chosen


@transaction.atomic
def subscribe(
    company: Company, url: str, events: Iterable[str], *, actor: Any = None, source: str = "web"
) -> WebhookEndpoint:
    url, chosen = _checked(url, events)
    endpoint = WebhookEndpoint.objects.create(
        company=company, url=url, events=chosen, secret=f"whsec_{secrets.token_hex(24)}"
    )
    journal.record(
        "webhook.subscribed",
        company,
        actor=actor,
        source=source,
        data={"url": url, "events": chosen},
    )
    return endpoint


@transaction.atomic
def unsubscribe(endpoint: WebhookEndpoint, *, actor: Any = None, source: str = "web") -> None:
    journal.record(
        "webhook.removed", endpoint, actor=actor, source=source, data={"url": endpoint.url}
    )
    endpoint.delete()


# --- events -------------------------------------------------------------------------------------


def _listening(company_id: int, event_type: str) -> list[WebhookEndpoint]:
    """The company's live endpoints subscribed to `event_type` (events are a JSON list, which
    a portable query cannot search: filtered here, among a company's few endpoints)."""
    found = WebhookEndpoint.objects.filter(company_id=company_id, active=True)
    return [e for e in found if event_type in e.events]


def subscribed(company_id: int, event_type: str) -> bool:
    """Whether anyone listens: lets bulk paths skip building events nobody receives."""
    return bool(_listening(company_id, event_type))


def emit(company_id: int, event_type: str, events: list[tuple[str, dict[str, Any]]]) -> int:
    """Queue `events` ((id, data) pairs) for the company's endpoints subscribed to the type, in
    the caller's transaction; an event already queued for an endpoint is not queued again."""
    if not events:
        return 0
    assert event_type in EVENT_TYPES, event_type
    endpoints = _listening(company_id, event_type)
    if not endpoints:
        return 0
    now = timezone.now()
    rows = [
        WebhookDelivery(
            endpoint=endpoint,
            event_id=event_id,
            event_type=event_type,
            payload=_envelope(event_id, event_type, now, data),
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint in endpoints
        for event_id, data in events
    ]
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _envelope(event_id: str, event_type: str, at: datetime, data: dict[str, Any]) -> Any:
    envelope = {"id": event_id, "type": event_type, "created": at.isoformat(), "data": data}
    return json.loads(json.dumps(envelope, cls=DjangoJSONEncoder))  # dates, decimals as text


def payments_received(company_id: int, payments: Iterable[Payment]) -> int:
    events = [(f"payment.received:{p.external_id}", resources.settlement(p)) for p in payments]
    return emit(company_id, "payment.received", events)


def promise_created(promise: Promise) -> int:
    return emit(
        promise.company_id,
        "promise.created",
        [(f"promise.created:{promise.pk}", resources.promise(promise))],
    )


def _nobody_listens() -> bool:
    return not WebhookEndpoint.objects.filter(active=True).exists()


def promises_broken(promise_ids: Iterable[int]) -> int:
    if _nobody_listens():
        return 0
    found = Promise.objects.filter(pk__in=list(promise_ids)).select_related("customer")
    by_company: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for p in found.prefetch_related("invoices"):
        by_company.setdefault(p.company_id, []).append(
            (f"promise.broken:{p.pk}", resources.promise(p))
        )
    return sum(emit(company, "promise.broken", events) for company, events in by_company.items())


def dispute_changed(dispute: Dispute, event_type: str) -> int:
    data = resources.dispute(dispute)
    return emit(dispute.company_id, event_type, [(f"{event_type}:{dispute.pk}", data)])


def actions_created(item_ids: Iterable[int]) -> int:
    if _nobody_listens():
        return 0
    found = (
        ActionItem.objects.filter(pk__in=list(item_ids))
        .select_related("customer")
        .prefetch_related("assignees")
    )
    by_company: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for item in found:
        event = (f"action.created:{item.pk}", resources.action(item))
        by_company.setdefault(item.company_id, []).append(event)
    return sum(emit(company, "action.created", events) for company, events in by_company.items())


def reminders_sent(messages: Iterable[OutboxMessage]) -> int:
    """Messages to customers that left (not staff notices): two queries for the lot."""
    sent = [m for m in messages if m.customer_id is not None]
    if not sent or _nobody_listens():
        return 0
    invoices = dict(
        Invoice.objects.filter(pk__in={i for m in sent for i in m.invoice_ids}).values_list(
            "pk", "external_id"
        )
    )
    steps = dict(
        Execution.objects.filter(pk__in={m.execution_id for m in sent}).values_list(
            "pk", "step_name"
        )
    )
    by_company: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for m in sent:
        data = {
            "key": m.key,
            "customer_id": m.customer.external_id if m.customer else None,
            "step": steps.get(m.execution_id) if m.execution_id else None,
            "channel": m.channel,
            "to": m.to,
            "subject": m.subject,
            "invoice_ids": [invoices[i] for i in m.invoice_ids if i in invoices],
        }
        by_company.setdefault(m.company_id, []).append((f"reminder.sent:{m.key}", data))
    return sum(emit(company, "reminder.sent", events) for company, events in by_company.items())


def tell(topic: str, subjects: list[Any]) -> int:
    """Queue what the journal (services/organisation/journal.py) is told under a topic: the
    subjects are the disputes, promises (or their ids, from the cycle), payments, outbox
    messages or action item ids the topic is about."""
    if topic == "payment.received":
        by_company: dict[int, list[Payment]] = {}
        for payment in subjects:
            by_company.setdefault(payment.company_id, []).append(payment)
        return sum(payments_received(company, found) for company, found in by_company.items())
    if topic == "promise.created":
        return sum(promise_created(promise) for promise in subjects)
    if topic == "promise.broken":
        return promises_broken(getattr(promise, "pk", promise) for promise in subjects)
    if topic in ("dispute.opened", "dispute.resolved"):
        return sum(dispute_changed(dispute, topic) for dispute in subjects)
    if topic == "reminder.sent":
        return reminders_sent(subjects)
    if topic == "action.created":
        return actions_created(subjects)
    raise ValueError(f"no webhook for {topic}")


# --- delivery -----------------------------------------------------------------------------------


def sign(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    """What a receiver does: the signature matches and is at most five minutes old."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        at = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - at) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, body, at), f"t={at},v1={parts.get('v1', '')}")


# What is stored of a failure: a status code and one of these, never what the endpoint answered
# (it could be another service's banner); refused and reset connections read the same.
TIMED_OUT = "timed out"
NO_CONNECTION = "could not connect"
NOT_ALLOWED = "address not allowed"
REDIRECTED = "redirect not followed"


def answered(code: int) -> str:
    return f"answered {code}"


def _claim(now: datetime, limit: int, company_id: int) -> list[WebhookDelivery]:
    """The company's deliveries due, each leased by a compare-and-set on its next attempt time,
    so two ticks never post the same one at once."""
    due = list(
        WebhookDelivery.objects.filter(
            status=Status.PENDING, next_attempt_at__lte=now, endpoint__company_id=company_id
        )
        .select_related("endpoint")
        .order_by("next_attempt_at", "pk")[:limit]
    )
    mine = []
    for d in due:
        leased = WebhookDelivery.objects.filter(
            pk=d.pk, status=Status.PENDING, next_attempt_at=d.next_attempt_at
        ).update(next_attempt_at=now + LEASE)
        if leased:
            mine.append(d)
    return mine


def _post(delivery: WebhookDelivery, now: datetime) -> tuple[int | None, str]:
    """Post one delivery: its status code and "" when taken, else the generic reason."""
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "relance-webhooks/1",
        "Relance-Event": delivery.event_type,
        "Relance-Delivery": str(delivery.pk),
        "Relance-Signature": sign(delivery.endpoint.secret, body, int(now.timestamp())),
    }
    try:
        target = egress.resolve(delivery.endpoint.url)  # DNS may have changed since registered
    except egress.AddressRefused:
        return None, NOT_ALLOWED
    except egress.HostNotFound:
        return None, NO_CONNECTION
    try:
        code = egress.post(
            target,
            body,
            headers,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            total_timeout=TIMEOUT_SECONDS,
        )
    except urllib3.exceptions.NewConnectionError:  # before the timeouts: it is one of them
        return None, NO_CONNECTION
    except (urllib3.exceptions.TimeoutError, TimeoutError):
        return None, TIMED_OUT
    except (urllib3.exceptions.HTTPError, OSError):  # reset, TLS refused, protocol error
        return None, NO_CONNECTION
    if 200 <= code < 300:
        return code, ""
    return code, REDIRECTED if 300 <= code < 400 else answered(code)


def _companies_due(now: datetime, company_id: int | None) -> list[int]:
    if company_id is not None:
        return [company_id]
    return list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("endpoint__company_id")
        .values_list("endpoint__company_id", flat=True)
        .distinct()
    )


def deliver_due(
    now: datetime | None = None,
    limit: int = 200,
    *,
    company_id: int | None = None,
    budget_seconds: float = COMPANY_BUDGET_SECONDS,
) -> dict[str, int]:
    """Post the deliveries whose time has come, company by company (only `company_id`'s when
    given), at most `limit` per company; count them by outcome. Once an endpoint fails, its
    other deliveries wait for the next pass, so a dead URL costs one timeout per pass; once a
    company's pass has taken `budget_seconds`, its remaining deliveries wait for the next pass
    too, so no company holds up the others for longer than that (and a short timeout)."""
    now = now or timezone.now()
    counts = {"delivered": 0, "retrying": 0, "dead": 0, "deferred": 0}
    for company in _companies_due(now, company_id):
        _deliver_company(company, now, limit, budget_seconds, counts)
    return counts


def _deliver_company(
    company_id: int, now: datetime, limit: int, budget_seconds: float, counts: dict[str, int]
) -> None:
    started = time.monotonic()
    posted = False
    failing: set[int] = set()
    for delivery in _claim(now, limit, company_id):
        if delivery.endpoint_id in failing:  # one timeout per endpoint per pass, not one each
            counts["deferred"] += 1  # tried again when its lease ends
            continue
        if posted and time.monotonic() - started >= budget_seconds:
            # Out of time: given back as it was, first in line for the next pass.
            WebhookDelivery.objects.filter(
                pk=delivery.pk, status=Status.PENDING, next_attempt_at=now + LEASE
            ).update(next_attempt_at=delivery.next_attempt_at)
            counts["deferred"] += 1
            continue
        code, error = _post(delivery, now)
        posted = True
        attempts = delivery.attempts + 1
        fields: dict[str, Any] = {
            "attempts": attempts,
            "last_status_code": code,
            "last_error": error,
        }
        if not error:
            fields.update(status=Status.DELIVERED, delivered_at=timezone.now())
            counts["delivered"] += 1
        elif attempts >= MAX_ATTEMPTS:
            fields.update(status=Status.DEAD)
            counts["dead"] += 1
        else:
            fields.update(next_attempt_at=now + BACKOFF[attempts - 1])
            counts["retrying"] += 1
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        if error:
            failing.add(delivery.endpoint_id)
            log.warning("webhook %s to %s failed: %s", delivery.pk, delivery.endpoint.url, error)


def retry(delivery: WebhookDelivery) -> None:
    """Make a failed or dead delivery due now, with a fresh count of tries: the next pass (the
    tick's, or the company's task the staff app queues) posts it."""
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=Status.DELIVERED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
