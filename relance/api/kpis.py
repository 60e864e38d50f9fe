"""The KPIs over HTTP: DSO, best DSO, ADD, CEI and the aging, as `relance kpi` computes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from relance.api.auth import company_of
from relance.api.errors import ERRORS
from relance.api.schemas import Day, Out
from relance.domain.errors import Invalid
from relance.services.analytics import kpi

router = Router()


class KpiOut(Out):
    model_config = {"populate_by_name": True}

    start: dt.date = Field(alias="from")
    to: dt.date
    currency: str
    dso: float | None
    best_possible_dso: float | None
    add: float | None
    cei: float | None
    aging: dict[str, str]
    weighted_days_to_pay: float | None = None
    weighted_days_late: float | None = None
    percent_current: float | None = None
    promise_kept_rate: float | None = None
    promises_settled: int | None = None
    dispute_resolution_days: float | None = None
    disputes_resolved: int | None = None
    cash_collected: str | None = None


@router.get(
    "/kpi",
    exclude_unset=True,
    response={200: KpiOut, **ERRORS},
    tags=["KPIs"],
    by_alias=True,
    summary="DSO, best-possible DSO, ADD, CEI and aging over a period (and more)",
)
def kpis(
    request: HttpRequest,
    start: Day = Query(..., alias="from"),
    end: Day = Query(..., alias="to"),
    currency: str | None = None,
    more: bool = False,
) -> dict[str, Any]:
    """DSO, best-possible DSO, ADD, CEI and aging (DESIGN §4 and §5), as `relance kpi --json`;
    with `more=true`, the other measures of `relance kpi --more`."""
    if end < start:
        raise Invalid("`to` is before `from`", [{"field": "to", "message": "on or after `from`"}])
    return kpi.report(start, end, [company_of(request)], currency, more=more)
