"""A small world for the staff app's tests: two companies, a user per role, four customers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.test import Client

from relance.models import Company, Contact, Customer, Membership

Role = Membership.Role
PASSWORD = "s3cret-pass!"


@dataclass
class World:
    alpha: Company
    beta: Company
    users: dict[str, Any]
    customers: dict[str, Customer]

    def client(self, user: str, language: str = "en") -> Client:
        """A browser logged in as that user, asking for pages in that language."""
        client = Client(headers={"accept-language": language})
        client.force_login(self.users[user])
        return client


def _company(code: str, name: str) -> Company:
    return Company.objects.create(code=code, name=name, country="FR", currency="EUR")


@pytest.fixture(scope="module")
def hashed() -> str:
    return make_password(PASSWORD)  # once: hashing is slow on purpose


@pytest.fixture
def world(db, hashed, new_customer, new_invoice) -> World:
    names = ("admin", "controller", "reader", "rep", "other_rep", "outsider", "beta_admin", "root")
    users = {
        name: get_user_model().objects.create(
            username=name, email=f"{name}@ar.test", password=hashed, is_superuser=name == "root"
        )
        for name in names
    }
    alpha, beta = _company("alpha", "Alpha SAS"), _company("beta", "Beta Ltd")
    for name, role in [
        ("admin", Role.ADMIN),
        ("controller", Role.CREDIT_CONTROLLER),
        ("reader", Role.READ_ONLY),
        ("rep", Role.SALES_REP),
        ("other_rep", Role.SALES_REP),
    ]:
        Membership.objects.create(company=alpha, user=users[name], role=role)
    Membership.objects.create(company=beta, user=users["beta_admin"], role=Role.ADMIN)
    customers = {
        "dupont": new_customer(alpha, "A1", "Boulangerie Dupont", users["rep"]),
        "martin": new_customer(alpha, "A2", "Garage Martin", users["other_rep"]),
        "nobody": new_customer(alpha, "A3", "Pharmacie Sans Rep"),
        "smith": new_customer(beta, "B1", "Smith & Sons"),
    }
    new_invoice(customers["dupont"], "I1", "1250.00", days_late=10)
    new_invoice(customers["dupont"], "I2", "300.00", days_late=-20)  # not due yet
    Contact.objects.create(
        company=alpha,
        customer=customers["dupont"],
        external_id="K1",
        name="Jeanne Dupont",
        email="jeanne@dupont.test",
        roles=["billing"],
    )
    return World(alpha, beta, users, customers)
