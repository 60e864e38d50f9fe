"""The API's one entry point: /api/v1/… operations, /api/openapi.json and /api/docs."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI

from relance.api import dunning, errors, ledger
from relance.api.auth import TokenAuth

api = NinjaAPI(
    title="relance",
    version="1",
    description=(
        "Accounts-receivable collections: the ledger, dunning plans, runs, the actions inbox, "
        "promises, disputes, campaigns and KPIs of one company.\n\n"
        "Authenticate with `Authorization: Bearer rl_…`, a token created by a company admin "
        "on the Integrations page. Read-only tokens may only GET. Every POST accepts an "
        "`Idempotency-Key` header: a retry with the same key and body gets the first answer "
        "again (with `Idempotent-Replayed: true`); the same key with another body is a 409. "
        'Errors always look like `{"error": {"type", "message", "details": [{"row", "field", '
        '"message"}]}}`. Lists are paged by `cursor` (give back `next_cursor`) and `limit`.'
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)
api.add_router("/v1", ledger.router)
api.add_router("/v1", dunning.router)

urls: tuple[list[URLResolver | URLPattern], str, str] = api.urls
