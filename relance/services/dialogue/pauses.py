"""What customers and staff say that pauses dunning: holds, disputes and promises to pay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from relance.domain.errors import Refusal
from relance.models import Company, Customer, Dispute, Event, Invoice, Promise
from relance.services.ledger import lookup
from relance.services.organisation import journal


class Refused(Refusal, ValueError):
    """The request makes no sense for the ledger as it is (message says why)."""


@transaction.atomic
def hold(
    customer_id: str,
    until: date,
    *,
    company: Company | None = None,
    source: str = "cli",
    actor: Any = None,
) -> Customer:
    """No dunning step runs for this customer up to and including `until`."""
    customer = lookup.customer(customer_id, company)
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
def open_dispute(
    invoice_id: str,
    on: date,
    *,
    reason: str = "",
    company: Company | None = None,
    source: str = "cli",
    actor: Any = None,
) -> Dispute:
    """The invoice leaves dunning from `on` until the dispute is resolved."""
    invoice = lookup.invoice(invoice_id, company)
    if Dispute.objects.filter(invoice=invoice, resolved_on__isnull=True).exists():
        raise Refused(f"invoice '{invoice_id}' already has an open dispute", field="invoice_id")
    dispute = Dispute.objects.create(
        company=invoice.company,
        customer_id=invoice.customer_id,
        invoice=invoice,
        opened_on=on,
        reason=reason,
    )
    journal.record(
        "dispute.opened",
        dispute,
        actor=actor,
        source=source,
        data={"on": on.isoformat(), "reason": reason},
    )
    return dispute


@transaction.atomic
def resolve_dispute(
    invoice_id: str,
    on: date,
    *,
    resolution: str = "",
    company: Company | None = None,
    source: str = "cli",
    actor: Any = None,
) -> Dispute:
    """Dunning of the invoice resumes from the day after `on`, if still unpaid."""
    invoice = lookup.invoice(invoice_id, company)
    dispute = Dispute.objects.filter(invoice=invoice, resolved_on__isnull=True).first()
    if dispute is None:
        raise Refused(f"invoice '{invoice_id}' has no open dispute", field="on")
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
    customer_id: str,
    invoice_ids: Sequence[str],
    pay_by: date,
    on: date,
    *,
    company: Company | None = None,
    source: str = "cli",
    actor: Any = None,
    amount: Decimal | None = None,
) -> Promise:
    """The invoices leave dunning until `pay_by`; unpaid the day after, the promise is broken.
    An amount, when given, is in the invoices' one currency."""
    customer = lookup.customer(customer_id, company)
    if pay_by < on:
        raise Refused(f"the promised date {pay_by} is before the day of the promise {on}")
    if not invoice_ids:
        raise Refused("name at least one invoice")
    invoices = list(Invoice.objects.filter(customer=customer, external_id__in=invoice_ids))
    missing = sorted(set(invoice_ids) - {i.external_id for i in invoices})
    if missing:
        raise Refused(f"customer '{customer_id}' has no invoice {', '.join(missing)}")
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
