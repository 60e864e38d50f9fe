"""schemathesis against our own OpenAPI document: generated requests, valid and not, to every
operation, with a live token on a small ledger. No answer may be a server error, and every
answer must be one the document declares, in the shape it declares."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from relance.services.integrations import api_tokens

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes database connections after each request, which would end the
    test's transaction; Django's own test client turns that off the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(api, new_customer, new_invoice):
    """A write token of alpha, whose ledger has a late invoice, and the token's secret."""
    customer = new_customer(api.alpha, "A1", "Dupont")
    new_invoice(customer, "I1", "1250.00", days_late=10)
    return api.tokens["alpha"]


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_error_anywhere(case, token):
    headers = {"Authorization": f"Bearer {token}"}
    case.call_and_validate(headers=headers, checks=CHECKS)


def test_the_token_fixture_is_live(token):
    assert api_tokens.authenticate(token) is not None
