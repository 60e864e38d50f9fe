"""The API's one entry point: /api/v1/… operations, /api/openapi.json and /api/docs."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI

from relance.api import actions, campaigns, dialogue, errors, imports, kpis, ledger, plans, runs
from relance.api.auth import TokenAuth

#: The modules of the routes that were one module, relance.api.dunning, until split by resource.
_ONCE_DUNNING = {
    f"relance.api.{m}" for m in ("plans", "runs", "actions", "dialogue", "campaigns", "kpis")
}


class _Api(NinjaAPI):
    """Operation ids are what clients generate code from: those of the split dunning routes stay
    `relance_api_dunning_<view>`, as django-ninja derived them from the module they were in."""

    def get_openapi_operation_id(self, operation: Any) -> str:
        if operation.view_func.__module__ in _ONCE_DUNNING:
            return f"relance_api_dunning_{operation.view_func.__name__}"
        return super().get_openapi_operation_id(operation)


api = _Api(
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
api.add_router("/v1", plans.router)
api.add_router("/v1", runs.router)
api.add_router("/v1", actions.router)
api.add_router("/v1", dialogue.router)
api.add_router("/v1", campaigns.router)
api.add_router("/v1", kpis.router)
api.add_router("/v1", imports.router)

urls: tuple[list[URLResolver | URLPattern], str, str] = api.urls
