"""A French customer with two invoices (one late), a payment and a contact; another customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache

from relance.models import Company, Contact, Customer, Payment
from relance.services.ledger import allocation
from relance.services.portal import links
from tests import clock


@dataclass
class Ledger:
    company: Company
    dupont: Customer
    martin: Customer

    def path(self, customer: Any = None, suffix: str = "") -> str:
        return f"/p/{links.token(customer or self.dupont)}/{suffix}"


@pytest.fixture
def ledger(db, new_customer, new_invoice) -> Ledger:
    cache.clear()  # the rate limits count per address in the cache
    company = Company.objects.create(
        code="atelier",
        name="Atelier Lumière SAS",
        country="FR",
        currency="EUR",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        email="compta@atelier.test",
    )
    dupont = new_customer(company, "C1", "Boulangerie Dupont")
    Customer.objects.filter(pk=dupont.pk).update(language="fr")
    dupont.refresh_from_db()
    new_invoice(dupont, "I1", "1250.00", days_late=40)
    new_invoice(dupont, "I2", "300.00", days_late=-10)
    Payment.objects.create(
        company=company,
        customer=dupont,
        external_id="P1",
        invoice=None,
        date=clock.today() - timedelta(days=5),
        currency="EUR",
        amount=Decimal("250.00"),
    )
    allocation.reallocate([dupont.pk])
    Contact.objects.create(
        company=company,
        customer=dupont,
        external_id="K1",
        name="Jeanne Dupont",
        email="jeanne@dupont.test",
        roles=["billing"],
    )
    martin = new_customer(company, "C2", "Garage Martin")
    new_invoice(martin, "M1", "999.00", days_late=5)
    return Ledger(company, dupont, martin)
