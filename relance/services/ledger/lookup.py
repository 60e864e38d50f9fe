"""Finding ledger rows by the source system's external ids, across companies when unambiguous."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.db import models

from relance.domain.errors import NotFound, Refusal
from relance.models import Company, Customer, Invoice


class UnknownExternalId(NotFound, LookupError):
    """No row (or more than one, across companies) has this id of the source system."""


class NotTheirs(Refusal, ValueError):
    """Ids naming no invoice of the customer: a refusal of what was asked about the customer
    (a promise), who is there, rather than a missing page."""

    def __init__(self, customer: Customer, external_ids: Iterable[str]) -> None:
        missing = ", ".join(sorted(set(external_ids)))
        super().__init__(f"customer '{customer.external_id}' has no invoice {missing}")


M = TypeVar("M", bound=models.Model)


def _one(model: type[M], label: str, external_id: str, company: Company | None) -> M:
    query = model._default_manager.filter(external_id=external_id).select_related("company")
    if company is not None:
        query = query.filter(company=company)
    found = list(query[:2])
    if not found:
        raise UnknownExternalId(f"unknown {label} '{external_id}'")
    if len(found) > 1:
        raise UnknownExternalId(
            f"{label} '{external_id}' exists in several companies; name one with --company"
        )
    return found[0]


def customer(external_id: str, company: Company | None = None) -> Customer:
    return _one(Customer, "customer", external_id, company)


def invoice(external_id: str, company: Company | None = None) -> Invoice:
    return _one(Invoice, "invoice", external_id, company)


def invoices_of(customer: Customer, external_ids: Iterable[str]) -> list[Invoice]:
    """The customer's invoices with these ids, each once and in the order named, or NotTheirs
    naming those they lack."""
    order = {external_id: n for n, external_id in enumerate(dict.fromkeys(external_ids))}
    found = list(Invoice.objects.filter(customer=customer, external_id__in=list(order)))
    missing = set(order) - {i.external_id for i in found}
    if missing:
        raise NotTheirs(customer, missing)
    return sorted(found, key=lambda i: order[i.external_id])
