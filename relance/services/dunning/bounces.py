"""Addresses that cannot receive mail: their contacts are marked bounced, so the cycle falls back
to another contact with a suitable role, and the owner gets a task when none is left: an SMTP
server's refusal (reported by the email channel) or an ESP's tracking webhook."""

from __future__ import annotations

from typing import Any

from relance.models import Contact, Customer, OutboxMessage
from relance.services.organisation import journal


def mark_bounced(
    company_id: int, customer_id: int | None, addresses: list[str], detail: str, source: str
) -> list[str]:
    """Mark the contacts with these addresses (of one customer, or of the whole company when the
    customer is unknown, e.g. an ESP's webhook); returns the contacts' external ids."""
    contacts = Contact.objects.filter(
        customer__company_id=company_id, email__in=addresses, bounced=False
    )
    if customer_id is not None:
        contacts = contacts.filter(customer_id=customer_id)
    found = list(contacts.values_list("customer_id", "external_id"))
    contacts.update(bounced=True)
    for customer, external_id in found:
        journal.record(
            "contact.bounced",
            Customer(pk=customer, company_id=company_id),  # known by its keys: no query
            source=source,
            data={"contact": external_id, "addresses": addresses, "detail": detail[:500]},
        )
    return [external_id for _, external_id in found]


def on_tracking_event(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """An ESP reports a bounce or a rejection (anymail's tracking webhook): the contact is
    marked bounced, found through the message the ESP names."""
    if event.event_type not in ("bounced", "rejected") or not event.message_id:
        return
    message = OutboxMessage.objects.filter(provider_id=event.message_id).first()
    if message is None or not event.recipient:
        return
    detail = f"{esp_name}: {event.event_type} {event.reject_reason or ''} {event.description or ''}"
    mark_bounced(
        message.company_id, message.customer_id, [event.recipient], detail, source=esp_name
    )
