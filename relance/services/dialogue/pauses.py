"""What customers and staff say that pauses dunning: holds, disputes and promises to pay."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from relance.domain.errors import Refusal
from relance.models import Customer, Dispute, Event, Invoice, Promise
from relance.services.ledger import lookup
from relance.services.organisation import journal


class Refused(Refusal, ValueError):
    """The request makes no sense for the ledger as it is (message says why)."""


@transaction.atomic
def hold(customer: Customer, until: date, *, source: str = "cli", actor: Any = None) -> Customer:
    """No dunning step runs for this customer up to and including `until`."""
    previous = customer.hold_until
    customer.hold_until = until
    customer.save(update_fields=["hold_until"])
    journal.record(
        "customer.held",
        customer,
        actor=actor,
        source=source,
        data={"until": until.isoformat(), "previous": previous.isoformat() if previous else None},
    )
    return customer


@transaction.atomic
def release(customer: Customer, *, source: str = "web", actor: Any = None) -> Customer:
    """Lift a hold before its end: dunning resumes with the next cycle. Journaled as
    `customer.released` with the day it was to last until."""
    previous = customer.hold_until
    if previous is None:
        raise Refused("this customer is not on hold")
    customer.hold_until = None
    customer.save(update_fields=["hold_until"])
    journal.record(
        "customer.released",
        customer,
        actor=actor,
        source=source,
        data={"previous": previous.isoformat()},
    )
    return customer


@dataclass(frozen=True)
class Claim:
    """What a dispute the customer raises themselves carries beyond the staff's: what is wrong,
    their proof, when they raised it and the deadlines of the company's service level."""

    category: str
    proof: str
    opened_at: datetime
    acknowledge_by: datetime
    resolve_by: datetime

    def row(self, source: str) -> dict[str, Any]:
        return {
            "category": self.category,
            "proof": self.proof,
            "source": source,
            "opened_at": self.opened_at,
            "acknowledge_by": self.acknowledge_by,
            "resolve_by": self.resolve_by,
        }

    def noted(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "acknowledge_by": self.acknowledge_by.isoformat(),
            "resolve_by": self.resolve_by.isoformat(),
        }


def disputed(invoices: Iterable[Invoice]) -> Dispute | None:
    """The first open dispute on one of these invoices: an invoice has one at a time."""
    return (
        Dispute.objects.filter(invoice__in=list(invoices), resolved_on__isnull=True)
        .select_related("invoice")
        .first()
    )


@transaction.atomic
def open_dispute(
    invoice: Invoice,
    on: date,
    *,
    reason: str = "",
    source: str = "cli",
    actor: Any = None,
    claim: Claim | None = None,
    category: str = "",
) -> Dispute:
    """The invoice leaves dunning from `on` until the dispute is resolved: the one way a dispute
    is opened, by staff or (with their `claim`) by the customer on the portal, so the event and
    the "dispute.opened" webhook always follow."""
    if disputed([invoice]) is not None:
        raise Refused(
            f"invoice '{invoice.external_id}' already has an open dispute", field="invoice_id"
        )
    dispute = Dispute.objects.create(
        company=invoice.company,
        customer_id=invoice.customer_id,
        invoice=invoice,
        opened_on=on,
        reason=reason,
        **(claim.row(source) if claim else {"category": category}),
    )
    noted = claim.noted() if claim else ({"category": category} if category else {})
    journal.record(
        "dispute.opened",
        dispute,
        actor=actor,
        source=source,
        data={"on": on.isoformat(), "reason": reason, **noted},
    )
    return dispute


@transaction.atomic
def resolve_dispute(
    invoice: Invoice,
    on: date,
    *,
    resolution: str = "",
    source: str = "cli",
    actor: Any = None,
) -> Dispute:
    """Dunning of the invoice resumes from the day after `on`, if still unpaid."""
    dispute = Dispute.objects.filter(invoice=invoice, resolved_on__isnull=True).first()
    if dispute is None:
        raise Refused(f"invoice '{invoice.external_id}' has no open dispute", field="on")
    if on < dispute.opened_on:
        raise Refused(f"the dispute was opened on {dispute.opened_on}, after {on}", field="on")
    dispute.resolved_on = on
    dispute.resolution = resolution
    dispute.save(update_fields=["resolved_on", "resolution"])
    journal.record(
        "dispute.resolved",
        dispute,
        actor=actor,
        source=source,
        data={"on": on.isoformat(), "resolution": resolution},
    )
    return dispute


@transaction.atomic
def add_promise(
    customer: Customer,
    invoices: Sequence[Invoice],
    pay_by: date,
    on: date,
    *,
    source: str = "cli",
    actor: Any = None,
    amount: Decimal | None = None,
) -> Promise:
    """The invoices (the customer's) leave dunning until `pay_by`; unpaid the day after, the
    promise is broken. An amount, when given, is in the invoices' one currency."""
    if pay_by < on:
        raise Refused(f"the promised date {pay_by} is before the day of the promise {on}")
    if not invoices:
        raise Refused("name at least one invoice")
    others = sorted({i.external_id for i in invoices if i.customer_id != customer.pk})
    if others:
        raise lookup.NotTheirs(customer, others)
    invoices = list({i.pk: i for i in invoices}.values())
    if (dispute := disputed(invoices)) is not None:
        raise Refused(
            f"invoice '{dispute.invoice.number}' is disputed: a promise to pay it would "
            "contradict the dispute; resolve the dispute first"
        )
    currencies = {i.currency for i in invoices}
    if amount is not None and (amount <= 0 or len(currencies) != 1):
        raise Refused("a promised amount is positive, for invoices in one currency")
    promise = Promise.objects.create(
        company=customer.company,
        customer=customer,
        promised_on=on,
        pay_by=pay_by,
        amount=amount,
        currency=next(iter(currencies)) if amount is not None else "",
        created_by=actor,
    )
    promise.invoices.set(invoices)
    journal.record(
        "promise.created",
        promise,
        actor=actor,
        source=source,
        data={
            "on": on.isoformat(),
            "pay_by": pay_by.isoformat(),
            "invoices": sorted(i.external_id for i in invoices),
        },
    )
    return promise


def add_note(customer: Customer, text: str, *, source: str = "cli", actor: Any = None) -> Event:
    """A note on the customer's timeline: what a call said, what was agreed, what to watch."""
    text = text.strip()
    if not text:
        raise Refused("the note is empty")
    return journal.record("note.added", customer, actor=actor, source=source, data={"text": text})
