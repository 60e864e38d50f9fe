"""Delivering the outbox exactly once: planned → claimed → sent | failed (retried) → dead, or
cancelled when every invoice it chases was paid or disputed before it left.

Claiming is a compare-and-set: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` hands each worker
different rows; elsewhere each row is claimed by an UPDATE that only succeeds if the row is still
in the state the worker saw. A claim is a lease: a worker that dies holding it lets another retry
after RELANCE_CLAIM_LEASE_SECONDS, so a crash never loses a message. The channel receives the
outbox key as the message's stable identity, so a retry after such a crash is recognisable.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from relance.models import Dispute, OutboxMessage
from relance.services.snapshots import amounts_due

log = logging.getLogger(__name__)
Status = OutboxMessage.Status
LOST = "lost"  # the claim passed to another worker before this one could record its outcome


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@cache
def channel_for(name: str) -> Any:
    return import_string(settings.RELANCE_CHANNELS[name])()


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8… minutes between tries, at most six hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def _ready(now: datetime) -> Q:
    lease = timedelta(seconds=settings.RELANCE_CLAIM_LEASE_SECONDS)
    return Q(status__in=[Status.PLANNED, Status.FAILED], next_attempt_at__lte=now) | Q(
        status=Status.CLAIMED, claimed_at__lt=now - lease
    )


def claim(worker: str, limit: int = 100, now: datetime | None = None) -> list[OutboxMessage]:
    """Take up to `limit` messages ready for delivery; no other worker can hold the same ones."""
    now = now or timezone.now()
    claimed: list[int] = []
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(_ready(now))
                .order_by("pk")
                .values_list("pk", flat=True)[:limit]
            )
            OutboxMessage.objects.filter(pk__in=ids).update(
                status=Status.CLAIMED, claimed_by=worker, claimed_at=now
            )
            claimed = ids
    else:
        # One UPDATE whose WHERE re-checks readiness: atomic, so two workers never both win a row.
        ready = OutboxMessage.objects.filter(_ready(now)).order_by("pk").values("pk")[:limit]
        OutboxMessage.objects.filter(_ready(now), pk__in=ready).update(
            status=Status.CLAIMED, claimed_by=worker, claimed_at=now
        )
        claimed = list(
            OutboxMessage.objects.filter(
                claimed_by=worker, claimed_at=now, status=Status.CLAIMED
            ).values_list("pk", flat=True)
        )
    return list(
        OutboxMessage.objects.filter(pk__in=claimed, claimed_by=worker, claimed_at=now)
        .select_related("customer")
        .order_by("pk")
    )


def still_owed(messages: list[OutboxMessage], as_of: date) -> set[int]:
    """The messages (pks) chasing at least one invoice still unpaid and undisputed on `as_of`;
    two queries for the whole batch."""
    customers = sorted({m.customer_id for m in messages})
    due = {row[0] for row in amounts_due(customers, as_of)}
    disputed = set(
        Dispute.objects.filter(invoice_id__in=due, opened_on__lte=as_of)
        .filter(Q(resolved_on__isnull=True) | Q(resolved_on__gt=as_of))
        .values_list("invoice_id", flat=True)
    )
    chased = due - disputed
    return {m.pk for m in messages if not m.invoice_ids or chased & set(m.invoice_ids)}


def _finish(message: OutboxMessage, worker: str, **changes: Any) -> bool:
    """Record the outcome, only if this worker still holds the claim (compare-and-set)."""
    return bool(
        OutboxMessage.objects.filter(
            pk=message.pk, status=Status.CLAIMED, claimed_by=worker, claimed_at=message.claimed_at
        ).update(**changes)
    )


def deliver(
    message: OutboxMessage,
    worker: str,
    as_of: date,
    now: datetime | None = None,
    channels: Callable[[str], Any] = channel_for,
    owed: bool | None = None,
) -> str:
    """Deliver one claimed message; returns its new status. `owed` may be precomputed for a
    batch with `still_owed`."""
    now = now or timezone.now()
    if owed is None:
        owed = bool(still_owed([message], as_of))
    if not owed:
        _finish(message, worker, status=Status.CANCELLED, last_error="paid or disputed")
        return Status.CANCELLED
    # Renew the lease right before sending: if another worker took the message over (this one was
    # too slow), it is theirs now and is not sent from here as well.
    renewed = timezone.now()
    if not _finish(message, worker, claimed_at=renewed):
        return LOST
    message.claimed_at = renewed
    attempts = message.attempts + 1
    try:
        channels(message.channel).send(message)
    except Exception as exc:  # any channel failure is recorded and retried, never lost
        permanent = bool(getattr(exc, "permanent", False))
        dead = permanent or attempts >= settings.RELANCE_MAX_DELIVERY_ATTEMPTS
        status = Status.DEAD if dead else Status.FAILED
        log.warning("delivery of %s failed (%s): %s", message.key, status, exc)
        recorded = _finish(
            message,
            worker,
            status=status,
            attempts=attempts,
            last_error=str(exc)[:2000],
            next_attempt_at=now + backoff(attempts),
        )
        return status if recorded else LOST
    recorded = _finish(
        message, worker, status=Status.SENT, attempts=attempts, sent_at=now, last_error=""
    )
    return Status.SENT if recorded else LOST


@dataclass
class DeliveryReport:
    statuses: dict[str, str] = field(default_factory=dict)  # key -> status

    def count(self, status: str) -> int:
        return sum(1 for s in self.statuses.values() if s == status)


def deliver_due(
    as_of: date | None = None,
    worker: str | None = None,
    batch: int = 100,
    now: datetime | None = None,
) -> DeliveryReport:
    """Claim and deliver everything ready, batch by batch, until nothing is left."""
    worker = worker or worker_name()
    as_of = as_of or timezone.localdate()
    report = DeliveryReport()
    while messages := claim(worker, batch, now):
        owed = still_owed(messages, as_of)
        for message in messages:
            report.statuses[message.key] = deliver(
                message, worker, as_of, now, owed=message.pk in owed
            )
    return report
