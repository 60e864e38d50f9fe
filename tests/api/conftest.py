"""Two companies, each with its tokens, and a client that speaks JSON with a bearer token."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from relance.models import Company, Membership
from relance.services.integrations import api_tokens


@dataclass
class Answer:
    status: int
    body: Any
    headers: Any


@dataclass
class Api:
    alpha: Company
    beta: Company
    tokens: dict[str, str] = field(default_factory=dict)
    client: Client = field(default_factory=Client)

    def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        token: str = "alpha",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        extra = {"Authorization": f"Bearer {self.tokens[token]}"} if token else {}
        extra.update(headers or {})
        response = getattr(self.client, method.lower())(
            f"/api/v1{path}",
            data=json.dumps(payload) if payload is not None else None,
            content_type="application/json",
            headers=extra,
        )
        body = json.loads(response.content) if response.content else None
        return Answer(response.status_code, body, response.headers)

    def get(self, path: str, **kw: Any) -> Answer:
        return self.call("GET", path, **kw)

    def post(self, path: str, payload: Any = None, **kw: Any) -> Answer:
        return self.call("POST", path, payload if payload is not None else {}, **kw)

    def put(self, path: str, payload: Any, **kw: Any) -> Answer:
        return self.call("PUT", path, payload, **kw)


@pytest.fixture
def api(db) -> Api:
    alpha = Company.objects.create(
        code="alpha", name="Alpha SAS", country="FR", currency="EUR", time_zone="Europe/Paris"
    )
    beta = Company.objects.create(code="beta", name="Beta Ltd", country="GB", currency="GBP")
    admin = get_user_model().objects.create(username="admin", email="admin@alpha.test")
    Membership.objects.create(company=alpha, user=admin, role=Membership.Role.ADMIN)
    found = Api(alpha, beta)
    for name, company, scope in [
        ("alpha", alpha, "write"),
        ("alpha_read", alpha, "read"),
        ("beta", beta, "write"),
    ]:
        _, raw = api_tokens.create(company, name, scope, actor=admin if company == alpha else None)
        found.tokens[name] = raw
    return found
