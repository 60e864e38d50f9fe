"""Finding ledger rows by the source system's external ids, across companies when unambiguous."""

from __future__ import annotations

from typing import TypeVar

from django.db import models

from relance.domain.errors import NotFound
from relance.models import Company, Customer, Invoice


class UnknownExternalId(NotFound, LookupError):
    """No row (or more than one, across companies) has this id of the source system."""


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
