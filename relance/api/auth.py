"""Bearer tokens (services.integrations.api_tokens): every request acts in its token's company
only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from relance.domain.errors import Forbidden, NotFound
from relance.models import ApiToken, Company, Customer
from relance.services.integrations import api_tokens


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = getattr(request, "api_token", None)  # the idempotency middleware looked it up
        return found if found is not None else api_tokens.authenticate(token)


def token_of(request: Any) -> ApiToken:
    token: ApiToken = request.auth
    return token


def source_of(request: Any) -> str:
    """How the event log names what this token did: `api:<prefix>`."""
    return f"api:{token_of(request).prefix}"


def company_of(request: Any) -> Company:
    return token_of(request).company


def customer_of(company: Company, external_id: str) -> Customer:
    """A customer of the token's company by external id: another company's is never found."""
    found = Customer.objects.filter(company=company, external_id=external_id).first()
    if found is None:
        raise NotFound(f"no customer '{external_id}' in company {company.code}")
    return found


def writing(request: Any) -> Company:
    """The token's company, once the token is known to be allowed to change things."""
    token = token_of(request)
    if token.scope != ApiToken.Scope.WRITE:
        raise Forbidden(f"token {token.prefix}… is read-only; create a read-and-write token")
    return token.company
