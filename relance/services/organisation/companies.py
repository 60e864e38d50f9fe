"""Companies: the legal entities whose ledgers relance holds."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from relance.domain import legal_mentions
from relance.domain.errors import NotFound
from relance.messaging import formatting
from relance.models import Company
from relance.services.dunning import plans
from relance.services.organisation import journal

DEFAULT_CODE = "default"


class UnknownCompany(NotFound, LookupError):
    pass


@transaction.atomic
def ensure_default_company() -> Company | None:
    """`relance init` promises a company `default` (FR, EUR) when there is none at all; like every
    new company, it starts with its own copy of the library's plans."""
    if Company.objects.exists():
        return None
    company = Company.objects.create(
        code=DEFAULT_CODE,
        name="Default company",
        country="FR",
        currency="EUR",
        time_zone="Europe/Paris",
    )
    plans.copy_library(company)
    return company


def get_company(code: str | None) -> Company:
    code = code or DEFAULT_CODE
    try:
        return Company.objects.get(code=code)
    except Company.DoesNotExist:
        known = ", ".join(Company.objects.values_list("code", flat=True)) or "none"
        raise UnknownCompany(f"unknown company '{code}' (companies: {known})") from None


@transaction.atomic
def upsert_company(
    code: str, *, source: str = "cli", actor: Any = None, **fields: Any
) -> tuple[Company, bool]:
    """Create the company (with its own copy of the library's plans) or update the fields given;
    raises ValidationError naming each field."""
    given = {k: v for k, v in fields.items() if v is not None}
    if "currency" in given:
        given["currency"] = given["currency"].upper()
    if "country" in given:
        given["country"] = given["country"].upper()
    if "iban" in given:
        given["iban"] = given["iban"].replace(" ", "").upper()
    company = Company.objects.filter(code=code).first()
    created = company is None
    if company is None:
        company = Company(code=code)
    for key, value in given.items():
        setattr(company, key, value)
    company.full_clean()
    company.save()
    if created:
        plans.copy_library(company, source=source)
    journal.record(
        "company.created" if created else "company.updated",
        company,
        actor=actor,
        source=source,
        data={k: str(v) for k, v in given.items()},
    )
    return company, created


def legal_identity(company: Company, language: str) -> tuple[str, ...]:
    """What the company's letters and emails print of its legal identity, in `language`:
    ("SAS au capital de 10 000 €", "RCS Lyon 123 456 789")."""
    capital = (
        formatting.capital(company.share_capital, company.currency, language)
        if company.share_capital is not None and company.currency
        else ""
    )
    return legal_mentions.identity(
        legal_form=company.legal_form,
        share_capital=capital,
        registry=company.registration_city,
        registration_number=company.registration_number,
        country=company.country,
        language=language,
    )


__all__ = [
    "UnknownCompany",
    "ValidationError",
    "ensure_default_company",
    "get_company",
    "legal_identity",
    "upsert_company",
]
