"""A realistic demo install: two companies, shipped plans, a generated ledger, an admin login.

It goes through the same import service as real files, so the demo also exercises the importer.
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model

from relance.demo.generator import demo_specs, write_csvs
from relance.models import Company, Customer, Membership, Plan
from relance.services.dunning.plans import SHIPPED, copy_library, load_rules, seed_library
from relance.services.ledger.imports import KINDS, ImportRejected, import_file
from relance.services.organisation.companies import upsert_company

RULES_FILE = "rules.yaml"
COMPANIES: dict[str, dict[str, Any]] = {
    "default": {
        "name": "Atelier Lumière SAS",
        "country": "FR",
        "currency": "EUR",
        "time_zone": "Europe/Paris",
        "iban": "FR7630006000011234567890189",
        "bic": "AGRIFRPP",
        "registration_number": "552 100 554",
        "registration_city": "Paris",
        "legal_form": "SAS",
        "share_capital": Decimal("50000"),
        "vat_number": "FR40552100554",
        "address_line1": "12 rue de la Paix",
        "postal_code": "75002",
        "city": "Paris",
        "email": "compta@atelier-lumiere.example",
        "phone": "+33142685300",
    },
    "uk": {
        "name": "Lumiere Studio Ltd",
        "country": "GB",
        "currency": "GBP",
        "time_zone": "Europe/London",
        "iban": "GB33BUKB20201555555555",
        "bic": "BUKBGB22",
        "sort_code": "202015",  # the IBAN's own: what its UK customers pay with
        "account_number": "55555555",
        "registration_number": "09876543",
        "registration_city": "England and Wales",
        "legal_form": "Ltd",
        "vat_number": "GB123456789",
        "address_line1": "1 King's Road",
        "postal_code": "SW3 4RP",
        "city": "London",
        "email": "accounts@lumiere-studio.example",
        "phone": "+442079460000",
    },
}


def load_shipped_plans() -> list[str]:
    """The shipped plans in the library, and a copy in each company that lacks one (a company
    keeps its own version of a plan it already has)."""
    seed_library()
    for company in Company.objects.all():
        copy_library(company, source="demo")
    return sorted(Plan.objects.filter(company__isnull=True).values_list("code", flat=True))


def load_demo(
    *,
    seed: int = 42,
    customers: int = 300,
    password: str = "relance-demo",
    today: date | None = None,
) -> dict[str, Any]:
    """Idempotent: running it again re-imports the same files and changes nothing."""
    today = today or date.today()
    summary: dict[str, Any] = {"companies": {}, "plans": load_shipped_plans()}
    load_rules((SHIPPED / RULES_FILE).read_text(encoding="utf-8"), source="demo")
    admin = _admin(password)
    with tempfile.TemporaryDirectory(prefix="relance-demo-") as tmp:
        for spec in demo_specs(today, seed=seed):
            spec = dataclasses.replace(spec, customers=customers)
            company, _ = upsert_company(spec.company, source="demo", **COMPANIES[spec.company])
            Membership.objects.get_or_create(
                company=company, user=admin, defaults={"role": Membership.Role.ADMIN}
            )
            files = write_csvs(spec, Path(tmp) / spec.company)
            counts = {}
            for kind in KINDS:
                result = import_file(kind, files[kind], company, source="demo", actor=admin)
                if not result.ok:
                    raise ImportRejected(f"demo {kind} did not import: {result.errors[:3]}")
                counts[kind] = result.created + result.updated + result.unchanged
            summary["companies"][spec.company] = counts
            _give_addresses(company, seed)
    summary["login"] = {"username": admin.get_username(), "password": password}
    rep = _sales_rep(password)
    if rep is not None:
        summary["sales_rep_login"] = {"username": rep.get_username(), "password": password}
    return summary


def _sales_rep(password: str) -> Any:
    """One demo sales rep who can log in (imported staff wait for an invitation), to show the
    sales rep's page and digest."""
    member = (
        Membership.objects.filter(role=Membership.Role.SALES_REP)
        .order_by("company__code", "user__pk")
        .select_related("user")
        .first()
    )
    if member is None:
        return None
    user = member.user
    user.is_active = True
    user.set_password(password)
    user.save()
    return user


def _admin(password: str) -> Any:
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username="admin", defaults={"email": "admin@relance.example"}
    )
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    return user


#: Streets and towns for the demo customers' postal addresses (the CSV contract has no address).
_PLACES = {
    "FR": (
        ["rue de la République", "avenue Victor Hugo", "boulevard Gambetta", "rue Nationale"],
        [("69002", "Lyon"), ("33000", "Bordeaux"), ("59000", "Lille"), ("44000", "Nantes")],
    ),
    "GB": (
        ["High Street", "Station Road", "Church Lane", "Victoria Road"],
        [("M1 1AE", "Manchester"), ("LS1 4DY", "Leeds"), ("BS1 5TR", "Bristol")],
    ),
}


def _give_addresses(company: Any, seed: int) -> None:
    """A plausible postal address for each demo customer that has none, so letters can go."""
    streets, towns = _PLACES.get(company.country, _PLACES["GB"])
    rng = random.Random(f"{seed}-{company.code}")
    for customer in Customer.objects.filter(company=company, address_line1="").order_by("pk"):
        postal_code, city = rng.choice(towns)
        customer.address_line1 = f"{rng.randint(1, 180)} {rng.choice(streets)}"
        customer.postal_code, customer.city = postal_code, city
        customer.save(update_fields=["address_line1", "postal_code", "city"])
