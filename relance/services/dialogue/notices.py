"""One library template sent to a customer outside any plan step (a dispute's receipt, thanks
for a payment): rendered now in the customer's language, to their billing contacts (else their
first reachable one), queued in the outbox under a key of the event's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from relance.domain import engine
from relance.messaging import library
from relance.models import Company, Contact, Customer, OutboxMessage
from relance.services.dunning import messages
from relance.services.ledger import late_fees, snapshots


def billing_contacts(customer: Customer) -> list[Contact]:
    reachable = Contact.objects.filter(customer=customer, bounced=False).exclude(email="")
    found = [c for c in reachable.order_by("pk") if {"billing", "primary"} & set(c.roles)]
    return found or list(reachable.order_by("pk")[:1])


def queue(
    customer: Customer,
    template: str,
    key: str,
    day: date,
    now: datetime,
    extra: dict[str, Any],
    invoices: Sequence[engine.Item] = (),
) -> str:
    """Queue the template for the customer; the key, or "" when there is no such template or
    nobody to write to. `extra` gives the event's merge fields (e.g. `paid`, `dispute`);
    `invoices` those the message lists, the first as its reference."""
    found = library.templates().get(template)
    contacts = billing_contacts(customer)
    if found is None or not contacts:
        return ""
    [debtor] = snapshots.debtors([customer.pk])
    values = messages.context(
        customer.company,
        debtor,
        invoices[0] if invoices else None,
        invoices,
        day,
        rates=late_fees.rate_table(),
        contact=contacts[0],
        extra=extra,
    )
    text = found.text(debtor.language)
    subject, body = messages.render_texts((text.subject, text.body), values)
    OutboxMessage.objects.create(
        key=key,
        company=customer.company,
        customer=customer,
        channel="email",
        to=[c.email for c in contacts],
        subject=subject,
        body=body,
        created_at=now,
        next_attempt_at=now,
    )
    return key


def to_staff(
    company: Company, key: str, to: list[str], subject: str, body: str, now: datetime
) -> OutboxMessage:
    """A message to people of the company (no customer), through the outbox like any other."""
    return OutboxMessage.objects.create(
        key=key,
        company=company,
        customer=None,
        channel="email",
        to=to,
        subject=subject,
        body=body.rstrip("\n") + "\n",
        created_at=now,
        next_attempt_at=now,
    )
