"""Addresses that cannot receive mail: their contacts are marked bounced, so the cycle falls back
to another contact with a suitable role, and the owner gets a task when none is left."""

from __future__ import annotations

from relance.models import Contact, Customer
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
