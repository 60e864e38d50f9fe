"""Delivering the outbox exactly once: planned → claimed → sent | failed (retried) → dead, or
cancelled when every invoice it chases was paid or disputed before it left.

Claiming is a compare-and-set: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` hands each worker
different rows; elsewhere each row is claimed by an UPDATE that only succeeds if the row is still
in the state the worker saw. A claim is a lease: a worker that dies holding it lets another retry
after RELANCE_CLAIM_LEASE_SECONDS, so a crash never loses a message. The channel receives the
outbox key as the message's stable identity, so a retry after such a crash is recognisable.

Channels are transport only: each message goes to its channel as a `Delivery` of plain values
(services.dunning.delivery), and what the channel answers (`Sent` or DeliveryError) is recorded
here.
"""

from __future__ import annotations

import logging
import os
import socket
import time
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

from relance.domain.delivery import Channel, DeliveryError, Sent
from relance.domain.errors import Refusal
from relance.models import Dispute, OutboxMessage
from relance.services.dunning import delivery as deliveries
from relance.services.dunning import messages as composing
from relance.services.dunning import print_runs
from relance.services.ledger.snapshots import amounts_due
from relance.services.organisation import hours, journal

log = logging.getLogger(__name__)
Status = OutboxMessage.Status
LOST = "lost"  # the claim passed to another worker before this one could record its outcome


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@cache
def channel_for(name: str) -> Channel:
    channel: Channel = import_string(settings.RELANCE_CHANNELS[name])()
    return channel


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8… minutes between tries, at most six hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def _ready(now: datetime) -> Q:
    lease = timedelta(seconds=settings.RELANCE_CLAIM_LEASE_SECONDS)
    return Q(status__in=[Status.PLANNED, Status.FAILED], next_attempt_at__lte=now) | Q(
        status=Status.CLAIMED, claimed_at__lt=now - lease
    )


def claim(
    worker: str, limit: int = 100, now: datetime | None = None, keys: list[str] | None = None
) -> list[OutboxMessage]:
    """Take up to `limit` messages ready for delivery (only those of `keys` when given); no other
    worker can hold the same ones."""
    now = now or timezone.now()
    claimed: list[int] = []
    ready_now = _ready(now) & (Q(key__in=keys) if keys is not None else Q())
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(ready_now)
                .order_by("pk")
                .values_list("pk", flat=True)[:limit]
            )
            OutboxMessage.objects.filter(pk__in=ids).update(
                status=Status.CLAIMED, claimed_by=worker, claimed_at=now
            )
            claimed = ids
    else:
        # One UPDATE whose WHERE re-checks readiness: atomic, so two workers never both win a row.
        ready = OutboxMessage.objects.filter(ready_now).order_by("pk").values("pk")[:limit]
        OutboxMessage.objects.filter(ready_now, pk__in=ready).update(
            status=Status.CLAIMED, claimed_by=worker, claimed_at=now
        )
        claimed = list(
            OutboxMessage.objects.filter(
                claimed_by=worker, claimed_at=now, status=Status.CLAIMED
            ).values_list("pk", flat=True)
        )
    return list(
        OutboxMessage.objects.filter(pk__in=claimed, claimed_by=worker, claimed_at=now)
        .select_related("company", "customer__company", "customer__owner")
        .order_by("pk")
    )


def still_owed(messages: list[OutboxMessage], as_of: date) -> set[int]:
    """The messages (pks) chasing at least one invoice still unpaid and undisputed on `as_of`;
    two queries for the whole batch."""
    customers = sorted({m.customer_id for m in messages if m.customer_id})
    due = {row[0] for row in amounts_due(customers, as_of)}
    disputed = set(
        Dispute.objects.filter(invoice_id__in=due, opened_on__lte=as_of)
        .filter(Q(resolved_on__isnull=True) | Q(resolved_on__gt=as_of))
        .values_list("invoice_id", flat=True)
    )
    chased = due - disputed
    return {m.pk for m in messages if not m.invoice_ids or chased & set(m.invoice_ids)}


class _Lease:
    """The claim a worker holds on a set of messages, renewed by compare-and-set: renewed once
    per batch, and again whenever a quarter of the lease has gone, so a slow worker notices that
    another took a message over before it sends it as well."""

    def __init__(self, worker: str, messages: list[OutboxMessage]) -> None:
        self.worker = worker
        self.claimed_at = messages[0].claimed_at if messages else None
        self.ids = [m.pk for m in messages]
        self.held: set[int] = set()
        self.quarter = settings.RELANCE_CLAIM_LEASE_SECONDS / 4
        self.renewed_at = 0.0
        self.renew()

    def _ours(self) -> Any:
        return OutboxMessage.objects.filter(
            pk__in=self.ids,
            status=Status.CLAIMED,
            claimed_by=self.worker,
            claimed_at=self.claimed_at,
        )

    def renew(self) -> None:
        renewed = timezone.now()
        self._ours().update(claimed_at=renewed)
        self.claimed_at = renewed
        self.held = set(self._ours().values_list("pk", flat=True))
        self.renewed_at = time.monotonic()

    def holds(self, message: OutboxMessage) -> bool:
        if time.monotonic() - self.renewed_at > self.quarter:
            self.renew()
        return message.pk in self.held

    def record_sent(
        self, message: OutboxMessage, status: str, at: datetime | None, provider_id: str
    ) -> None:
        """`record` of a message its channel took (`status`: sent, or printing for a letter),
        once per message: plain SQL, as building the ORM's UPDATE cost more than running it."""
        ops, quote = connection.ops, connection.ops.quote_name
        table = quote(OutboxMessage._meta.db_table)
        status_, attempts = quote("status"), quote("attempts")
        sql = (
            f"UPDATE {table} SET {status_} = %s, {attempts} = {attempts} + 1, "
            f"{quote('sent_at')} = %s, {quote('last_error')} = '', {quote('subject')} = %s, "
            f"{quote('body')} = %s, {quote('provider_id')} = %s "
            f"WHERE {quote('id')} = %s AND {status_} = %s AND {quote('claimed_by')} = %s "
            f"AND {quote('claimed_at')} = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                [
                    status,
                    ops.adapt_datetimefield_value(at),
                    message.subject,
                    message.body,
                    provider_id[:200],
                    message.pk,
                    Status.CLAIMED,
                    self.worker,
                    ops.adapt_datetimefield_value(self.claimed_at),
                ],
            )

    def record(self, messages: list[OutboxMessage], **changes: Any) -> None:
        """Write one outcome for these messages, only where this worker still holds them."""
        if messages:
            OutboxMessage.objects.filter(
                pk__in=[m.pk for m in messages],
                status=Status.CLAIMED,
                claimed_by=self.worker,
                claimed_at=self.claimed_at,
            ).update(**changes)


def _deliver_batch(
    messages: list[OutboxMessage],
    worker: str,
    as_of: date,
    now: datetime,
    channels: Callable[[str], Channel],
) -> dict[str, str]:
    """Deliver messages this worker claimed together; returns each key's new status.

    Each message's outcome is committed as soon as its channel answers: a worker killed right
    after a send leaves at most that one message to be sent again, never a whole batch. The lease
    is renewed once per batch (and again after a quarter of it), not before every message.
    """
    lease = _Lease(worker, messages)
    held = [m for m in messages if m.pk in lease.held]
    owed = still_owed(held, as_of)
    lease.record(
        [m for m in held if m.pk not in owed],
        status=Status.CANCELLED,
        last_error="paid or disputed",
    )
    for message in _over_the_cap([m for m in held if m.pk in owed], now):
        owed.discard(message.pk)
        company = message.company
        lease.record(
            [message],
            status=Status.PLANNED,
            last_error=f"daily cap of {company.daily_cap} messages reached",
            next_attempt_at=hours.after(
                company, _zone(message), hours.company_day_start(company, now, 1)
            ),
        )
    composed = composing.compose([m for m in held if m.pk in owed], as_of)
    for message in held:
        if message.pk not in owed or not lease.holds(message):
            continue  # cancelled above, or too slow: another worker holds it now
        text = composed[message.pk]
        if text.problem:  # retrying cannot help: dead at once, for a person to look at
            log.warning("cannot compose %s: %s", message.key, text.problem)
            lease.record([message], status=Status.DEAD, last_error=text.problem)
            continue
        message.subject, message.body = text.subject, text.body
        try:
            status, provider_id = _hand_over(message, text, channels)
        except Exception as error:  # any channel failure is recorded and retried, never lost
            attempts = message.attempts + 1
            dead = getattr(error, "permanent", False) or (
                attempts >= settings.RELANCE_MAX_DELIVERY_ATTEMPTS
            )
            status = Status.DEAD if dead else Status.FAILED
            log.warning("delivery of %s failed (%s): %s", message.key, status, error)
            retry_only = getattr(error, "retry_only", None)
            lease.record(
                [message],
                status=status,
                attempts=attempts,
                last_error=str(error)[:2000],
                next_attempt_at=hours.after(
                    message.company, _zone(message), now + backoff(attempts)
                ),
                **({"to": retry_only, "cc": []} if retry_only else {}),
            )
        else:
            lease.record_sent(message, status, now if status == Status.SENT else None, provider_id)
    outcome = dict(
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages])
        .exclude(status=Status.CLAIMED)
        .values_list("pk", "status")
    )
    journal.tell("reminder.sent", (m for m in messages if outcome.get(m.pk) == Status.SENT))
    return {m.key: outcome.get(m.pk, LOST) for m in messages}


def _hand_over(
    message: OutboxMessage, text: composing.Composed, channels: Callable[[str], Channel]
) -> tuple[str, str]:
    """Give the message to its channel and keep what the channel reports beyond transport: the
    contacts that bounced, a letter to file in its print run. Returns the message's new status
    (sent, or printing for a letter until its run is posted) and the provider's id."""
    delivery = deliveries.compose(message, text)
    try:
        sent: Sent = channels(message.channel).send(delivery)
    except DeliveryError as error:
        deliveries.bounce(message, error.bounced)
        raise
    deliveries.bounce(message, sent.bounced)
    if sent.printing and delivery.letter is not None:
        print_runs.file_letter(message.company_id, message.pk, delivery.letter)
        return Status.PRINTING, sent.provider_id
    return Status.SENT, sent.provider_id


def _zone(message: OutboxMessage) -> str:
    """The recipient's time zone: the customer's, or the company's for a message to staff."""
    return message.customer.time_zone if message.customer else message.company.time_zone


def _over_the_cap(messages: list[OutboxMessage], now: datetime) -> list[OutboxMessage]:
    """The messages beyond their company's daily cap (the company's own day), in claim order."""
    over: list[OutboxMessage] = []
    room: dict[int, int] = {}
    for message in messages:
        company = message.company
        if company.daily_cap is None:
            continue
        if company.pk not in room:
            sent = OutboxMessage.objects.filter(
                company=company,
                status=Status.SENT,
                sent_at__gte=hours.company_day_start(company, now),
            ).count()
            room[company.pk] = company.daily_cap - sent
        if room[company.pk] <= 0:
            over.append(message)
        room[company.pk] -= 1
    return over


def deliver(
    message: OutboxMessage,
    worker: str,
    as_of: date,
    now: datetime | None = None,
    channels: Callable[[str], Channel] = channel_for,
) -> str:
    """Deliver one claimed message; returns its new status (LOST if another worker holds it)."""
    return _deliver_batch([message], worker, as_of, now or timezone.now(), channels)[message.key]


@dataclass
class DeliveryReport:
    statuses: dict[str, str] = field(default_factory=dict)  # key -> status

    def count(self, status: str) -> int:
        return sum(1 for s in self.statuses.values() if s == status)


def deliver_due(
    as_of: date | None = None,
    worker: str | None = None,
    batch: int = 500,
    now: datetime | None = None,
) -> DeliveryReport:
    """Claim and deliver everything ready, batch by batch, until nothing is left. Whether an
    invoice is still owed is judged on `as_of`, by default each company's own today."""
    worker = worker or worker_name()
    report = DeliveryReport()
    while messages := claim(worker, batch, now):
        at = now or timezone.now()
        for day, group in _company_days(messages, as_of, at):
            report.statuses.update(_deliver_batch(group, worker, day, at, channel_for))
    return report


def _company_days(
    messages: list[OutboxMessage], as_of: date | None, now: datetime
) -> list[tuple[date, list[OutboxMessage]]]:
    """The messages grouped by the day they are judged on: `as_of` when given, else their
    company's date (a payment recorded on the company's today, just after midnight in Paris,
    is still tomorrow on the server's UTC clock)."""
    if as_of is not None:
        return [(as_of, messages)]
    days: dict[date, list[OutboxMessage]] = {}
    for message in messages:
        days.setdefault(hours.company_today(message.company, now), []).append(message)
    return list(days.items())


def deliver_now(keys: list[str], now: datetime | None = None) -> DeliveryReport:
    """Deliver these messages at once if they are ready (a code a person on a page waits for):
    the same claim and compare-and-set as every delivery, so nothing leaves twice."""
    now = now or timezone.now()
    report = DeliveryReport()
    messages = claim(worker_name(), len(keys), now, keys=keys)
    for day, group in _company_days(messages, None, now):
        report.statuses.update(_deliver_batch(group, worker_name(), day, now, channel_for))
    return report


class NotNow(Refusal, ValueError):
    """The message is not in a state that allows this (message says which)."""


RETRYABLE = (Status.FAILED, Status.DEAD, Status.CANCELLED)
CANCELLABLE = (Status.PLANNED, Status.FAILED)


def retry(message: OutboxMessage, *, actor: Any = None, now: datetime | None = None) -> None:
    """Queue a failed, dead or cancelled message again, for delivery at once, with its tries
    counted afresh. Compare-and-set on its status: a message sent or in flight meanwhile is left
    alone (NotNow), so a retry can never send a message twice."""
    now = now or timezone.now()
    _change(
        message,
        RETRYABLE,
        "message.retried",
        actor,
        status=Status.PLANNED,
        attempts=0,
        next_attempt_at=now,
        last_error="",
        claimed_by="",
        claimed_at=None,
    )


def cancel(message: OutboxMessage, *, actor: Any = None) -> None:
    """Keep a queued or failed message from ever leaving (compare-and-set, as `retry`)."""
    who = getattr(actor, "email", "") or getattr(actor, "username", "") or "staff"
    _change(
        message,
        CANCELLABLE,
        "message.cancelled",
        actor,
        status=Status.CANCELLED,
        last_error=f"cancelled by {who}",
    )


def _change(
    message: OutboxMessage, allowed: tuple[str, ...], kind: str, actor: Any, **changes: Any
) -> None:
    with transaction.atomic():
        done = OutboxMessage.objects.filter(pk=message.pk, status__in=allowed).update(**changes)
        if not done:
            current = OutboxMessage.objects.filter(pk=message.pk).values_list("status", flat=True)
            raise NotNow(f"the message is {current.first() or 'gone'}")
        journal.record(
            kind,
            message,
            actor=actor,
            source="web",
            data={"key": message.key, "channel": message.channel, "previous": message.status},
        )
