"""Runs over HTTP: the dunning cycle started now and delivered, past runs, and the forecast of
what the plans will do if nobody pays."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from relance.api.auth import company_of, source_of, writing
from relance.api.errors import ERRORS
from relance.api.pagination import MAX_LIMIT, page
from relance.api.schemas import Day, Out, Strict, page_of
from relance.domain.errors import Invalid
from relance.models import (
    Run,
)
from relance.services.dunning import forecasting
from relance.services.dunning.run import run as run_cycle
from relance.services.organisation import hours

router = Router()
MAX_FORECAST_DAYS = 92


class RunOut(Out):
    id: int
    date: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime | None
    source: str
    counts: dict[str, int]


class RunIn(Strict):
    date: Day | None = Field(None, description="The company's today if left out")
    dry_run: bool = Field(False, description="Say what would happen; write and send nothing")


class CycleOut(Out):
    date: dt.date
    dry_run: bool
    run: RunOut | None
    actions: list[dict[str, Any]]
    skipped: list[dict[str, Any]]


def _run_out(r: Run) -> dict[str, Any]:
    fields = ("id", "date", "started_at", "finished_at", "source", "counts")
    return {f: getattr(r, f) for f in fields}


@router.get(
    "/runs",
    response={200: page_of(RunOut), **ERRORS},
    tags=["Runs"],
    summary="Past runs of the cycle",
)
def list_runs(
    request: HttpRequest, cursor: str | None = None, limit: int = Query(100, ge=1, le=MAX_LIMIT)
) -> dict[str, Any]:
    rows = Run.objects.filter(company=company_of(request), dry_run=False)
    return page(rows, cursor, limit, _run_out)


@router.post(
    "/runs",
    response={200: CycleOut, **ERRORS},
    tags=["Runs"],
    summary="Run the dunning cycle now and deliver",
)
def start_run(request: HttpRequest, payload: RunIn) -> dict[str, Any]:
    """Run the company's dunning cycle now and deliver what it queued, as `relance run` does."""
    company = writing(request)
    today = hours.company_today(company)
    day = payload.date or today
    if day > today and not payload.dry_run:
        raise Invalid(
            f"{day} is after today ({today}) in the company's time zone: only a dry run "
            "may look ahead",
            [{"field": "date", "message": "a real run is for today or a past day"}],
        )
    done = run_cycle(day, dry_run=payload.dry_run, company_id=company.pk, source=source_of(request))
    return {
        "date": day,
        "dry_run": payload.dry_run,
        "run": done.run,
        "actions": done.report.actions,
        "skipped": done.report.skipped,
    }


class ForecastOut(Out):
    date: dt.date
    customer: str
    step: str
    step_index: int
    channel: str
    reference_invoice: str | None
    reason: str
    reason_code: str = Field(
        "", description="What the reason is about, stable (domain.reasons): e.g. 'due.after'"
    )


@router.get(
    "/forecast",
    response={200: list[ForecastOut], **ERRORS},
    tags=["Runs"],
    summary="What the plans will do between two days",
)
def forecast(
    request: HttpRequest,
    start: Day = Query(..., alias="from"),
    end: Day = Query(..., alias="to"),
) -> list[dict[str, Any]]:
    """The steps the plans will run between two days if nobody pays, promises or disputes."""
    if end < start or (end - start).days > MAX_FORECAST_DAYS:
        raise Invalid(
            f"ask for 0 to {MAX_FORECAST_DAYS} days, `from` first",
            [{"field": "to", "message": f"within {MAX_FORECAST_DAYS} days after `from`"}],
        )
    return forecasting.forecast(start, end, company_id=company_of(request).pk)
