"""The journal: the one way anything relance does is written down (an `Event`), in the spirit
of pretix's `log_action`.

Timelines, analytics and the team's invitations read these rows, so where an event belongs is
decided here once, from what it is about (its subject), not by each service: a company's
affair (a plan loaded, a token, a member) is the company's; anything of a customer's (a promise,
a payment plan, a message, an action item, a payment) is also on that customer's timeline; an
invoice, and what is about one invoice only (a dispute, a discount), is also on the invoice's.

Some kinds are also what outside systems subscribe to (`TOPICS`): the journal hands them to the
webhooks (services/integrations/webhooks.py, registered at start-up by relance.apps), in the
caller's transaction, so a rolled-back change tells nobody. The journal sits in the lowest area,
below the integrations whose services record events too: inverting the call this way lets every
area record without depending on the webhooks, and the webhooks build nothing when nobody
subscribed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from relance.models import Company, Customer, DiscountProposal, Dispute, Event, Invoice
from relance.services.sql import Inserter

# Event kinds outside systems hear of, and the webhook topic each is told under.
TOPICS = {
    "dispute.opened": "dispute.opened",
    "dispute.resolved": "dispute.resolved",
    "promise.created": "promise.created",
    "promise.broken": "promise.broken",
    "payment.received": "payment.received",
}

# What is about one invoice and so also on its timeline (a payment, allocated as the ledger
# says, is only on the customer's).
_ABOUT_AN_INVOICE = (Dispute, DiscountProposal)


class Listener(Protocol):
    """Who tells outside systems (the webhooks): told of topics, asked whether anyone listens."""

    def tell(self, topic: str, subjects: list[Any]) -> int: ...

    def subscribed(self, company_id: int, topic: str) -> bool: ...


_listeners: list[Listener] = []


def tell_with(listener: Listener) -> None:
    """Have `listener` told of the events of `TOPICS` and of `tell` (once per listener)."""
    if listener not in _listeners:
        _listeners.append(listener)


def listened(company_id: int, topic: str) -> bool:
    """Whether anyone outside listens to the topic: bulk paths skip building what nobody hears."""
    return any(listener.subscribed(company_id, topic) for listener in _listeners)


def tell(topic: str, subjects: Iterable[Any]) -> None:
    """News for outside systems that the journal does not record one by one (payments an import
    brings, reminders sent, action items created: their own tables are their record)."""
    found = list(subjects)
    if found:
        for listener in _listeners:
            listener.tell(topic, found)


def entry(
    kind: str,
    subject: Any,
    *,
    actor: Any = None,
    source: str,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    """The event, not yet written: what `record_many` takes."""
    fields: dict[str, Any] = {}
    if isinstance(subject, Company):
        fields["company"] = subject
    elif isinstance(subject, Customer):
        fields.update(company_id=subject.company_id, customer=subject)
    elif isinstance(subject, Invoice):
        fields.update(company_id=subject.company_id, customer_id=subject.customer_id)
        fields["invoice"] = subject
    else:
        fields.update(
            company_id=subject.company_id, customer_id=getattr(subject, "customer_id", None)
        )
        if isinstance(subject, _ABOUT_AN_INVOICE):
            fields["invoice_id"] = subject.invoice_id
    if at is not None:
        fields["at"] = at
    return Event(
        actor=actor if getattr(actor, "pk", None) else None,  # the anonymous user is nobody
        source=source,
        kind=kind,
        data={} if data is None else data,
        **fields,
    )


def record(
    kind: str,
    subject: Any,
    *,
    actor: Any = None,
    source: str,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    """Write that `kind` happened to `subject` (a model instance: company, customer, invoice,
    dispute, promise, payment plan, token…), by `actor` (a user, or None for relance itself)
    through `source` (cli, web, api, portal, scheduler…)."""
    event = entry(kind, subject, actor=actor, source=source, data=data, at=at)
    event.save()
    _fan_out(kind, [subject])
    return event


def record_many(events: Iterable[Event]) -> list[Event]:
    """Write `entry`s in one statement (the scheduler's notices to sales reps, say). Kinds with
    a webhook topic go through `record` or `record_rows`, which know their subjects."""
    made = Event.objects.bulk_create(list(events))
    assert not any(e.kind in TOPICS for e in made), "record_many cannot tell the webhooks"
    return made


def row(
    kind: str,
    customer: Any,
    *,
    invoice_id: int | None = None,
    actor_id: int | None = None,
    source: str,
    data: dict[str, Any],
    at: datetime,
) -> dict[str, Any]:
    """An event about a customer (`pk`, `company_id`: a Customer or the cycle's `Debtor`) and
    possibly the invoice a step chased, as the column values `record_rows` inserts: what the
    dunning cycle composes in its worker processes, cheap to hand over."""
    found = {
        "company_id": customer.company_id,
        "customer_id": customer.pk,
        "invoice_id": invoice_id,
        "at": at,
        "source": source,
        "kind": kind,
        "data": data,
    }
    if actor_id is not None:
        found["actor_id"] = actor_id
    return found


def record_rows(rows: list[dict[str, Any]]) -> None:
    """Insert `row`s with one multi-row INSERT per chunk (the cycle writes thousands). A row's
    webhook subject is the one its data names after the kind: a broken promise's "promise"."""
    Inserter(Event).insert(rows)
    by_kind: dict[str, list[Any]] = {}
    for found in rows:
        if found["kind"] in TOPICS:
            subject = found["data"][found["kind"].split(".", 1)[0]]
            by_kind.setdefault(found["kind"], []).append(subject)
    for kind, subjects in by_kind.items():
        _fan_out(kind, subjects)


def _fan_out(kind: str, subjects: list[Any]) -> None:
    topic = TOPICS.get(kind)
    if topic is not None:
        tell(topic, subjects)
