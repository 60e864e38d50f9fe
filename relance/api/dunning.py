"""Dunning over HTTP: plans and their assignment, holds, runs, the forecast, the actions inbox,
promises, disputes, campaigns and the KPIs, each scoped to the token's company."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja import Body, Query, Router, Status
from pydantic import Field

from relance.api.auth import company_of, source_of, token_of, writing
from relance.api.errors import ERRORS
from relance.api.pagination import MAX_LIMIT, page
from relance.api.schemas import Day, Out, Strict, page_of
from relance.domain.errors import Invalid, NotFound
from relance.domain.money import format_amount
from relance.domain.plans.problems import PlanError
from relance.models import (
    ActionItem,
    Campaign,
    Company,
    Customer,
    Dispute,
    Plan,
    Promise,
    Run,
)
from relance.services.analytics import kpi
from relance.services.dialogue import pauses
from relance.services.dunning import actions, campaigns, forecasting, plan_choice, plans
from relance.services.dunning.run import run as run_cycle
from relance.services.integrations import resources
from relance.services.organisation import hours

router = Router()
MAX_FORECAST_DAYS = 92


def _customer(company: Company, external_id: str) -> Customer:
    found = Customer.objects.filter(company=company, external_id=external_id).first()
    if found is None:
        raise NotFound(f"no customer '{external_id}' in company {company.code}")
    return found


# --- plans and assignment -----------------------------------------------------------------------


class StepOut(Out):
    position: int
    name: str
    trigger_days: int
    trigger_from: str
    channel: str
    mode: str


class PlanOut(Out):
    code: str
    name: str
    steps: list[StepOut]


@router.get(
    "/plans",
    response={200: list[PlanOut], **ERRORS},
    tags=["Plans"],
    summary="The company's plans (its own: codes are unique per company)",
)
def list_plans(request: HttpRequest) -> list[dict[str, Any]]:
    found = plans.plans_for(company_of(request)).prefetch_related("steps")
    return [
        {
            "code": p.code,
            "name": p.name,
            "steps": [s for s in p.steps.all() if s.active],
        }
        for p in found
    ]


class PlanDefinitionOut(Out):
    code: str
    definition: dict[str, Any] = Field(description="The plan in DESIGN §4's form (as YAML's)")
    warnings: list[str] = []


def _plan_row(company: Company, code: str) -> Plan:
    found = plans.plans_for(company).filter(code=code).first()
    if found is None:
        raise NotFound(f"no plan '{code}' for company {company.code}")
    return found


@router.get(
    "/plans/{code}",
    response={200: PlanDefinitionOut, **ERRORS},
    tags=["Plans"],
    summary="One plan's definition",
)
def get_plan(request: HttpRequest, code: str) -> dict[str, Any]:
    row = _plan_row(company_of(request), code)
    return {"code": row.code, "definition": row.definition}


@router.put(
    "/plans/{code}",
    response={200: PlanDefinitionOut, 201: PlanDefinitionOut, **ERRORS},
    tags=["Plans"],
    summary="Create or replace one of the company's own plans, checked whole",
)
def put_plan(
    request: HttpRequest, code: str, payload: dict[str, Any] = Body(...)
) -> Status[dict[str, Any]]:
    """The body is the plan as `relance plan load` reads it (DESIGN §4), as JSON; its `code`
    is the path's. Every problem is reported by path, and nothing is stored unless all is
    right. A step renamed here is a new step: renaming keeps its history in the plan editor."""
    company = writing(request)
    stored = plans.plans_for(company).filter(code=code).first()
    try:
        saved = plans.save_plan(
            {**payload, "code": code},
            company=company,
            stored=stored,
            source=source_of(request),
        )
    except PlanError as exc:
        details = [{"field": p.path or None, "message": p.message} for p in exc.problems]
        raise Invalid(f"plan '{code}' was not saved: {len(details)} problem(s)", details) from None
    answer = {
        "code": saved.plan.code,
        "definition": saved.plan.definition,
        "warnings": [f"{w.path}: {w.message}" for w in saved.warnings],
    }
    return Status(200 if stored is not None else 201, answer)


class AssignmentOut(Out):
    customer_id: str
    plan: str | None
    reason: str


class AssignmentIn(Strict):
    plan: str | None = Field(description="Plan code; null hands the choice back to the rules")


def _assignment(customer: Customer) -> dict[str, Any]:
    code, reason = plan_choice.explain_plan(customer.pk, hours.company_today(customer.company))
    return {"customer_id": customer.external_id, "plan": code, "reason": reason}


@router.get(
    "/customers/{external_id}/plan",
    response={200: AssignmentOut, **ERRORS},
    tags=["Plans"],
    summary="The customer's plan today, and why",
)
def get_assignment(request: HttpRequest, external_id: str) -> dict[str, Any]:
    """The plan the cycle would use for this customer today, and why."""
    return _assignment(_customer(company_of(request), external_id))


@router.put(
    "/customers/{external_id}/plan",
    response={200: AssignmentOut, **ERRORS},
    tags=["Plans"],
    summary="Give a customer a plan (null: the rules choose)",
)
def assign(request: HttpRequest, external_id: str, payload: AssignmentIn) -> dict[str, Any]:
    company = writing(request)
    customer = _customer(company, external_id)
    plans.assign_plan(
        customer.external_id, payload.plan, company=company, source=source_of(request)
    )
    return _assignment(customer)


class HoldIn(Strict):
    until: Day = Field(description="No step runs up to and including this day")


class HoldOut(Out):
    customer_id: str
    hold_until: dt.date | None


@router.post(
    "/customers/{external_id}/hold",
    response={200: HoldOut, **ERRORS},
    tags=["Customers"],
    summary="Hold dunning of a customer until a day",
)
def hold(request: HttpRequest, external_id: str, payload: HoldIn) -> dict[str, Any]:
    company = writing(request)
    customer = _customer(company, external_id)
    pauses.hold(customer.external_id, payload.until, company=company, source=source_of(request))
    customer.refresh_from_db(fields=["hold_until"])
    return {"customer_id": customer.external_id, "hold_until": customer.hold_until}


# --- runs and forecast --------------------------------------------------------------------------


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


# --- actions inbox ------------------------------------------------------------------------------


class ActionOut(Out):
    id: int
    customer_id: str
    kind: str
    title: str
    body: str
    due_date: dt.date
    priority: int
    status: str
    outcome: str
    note: str
    assignees: list[str]


class CloseIn(Strict):
    outcome: str = Field(description=", ".join(actions.OUTCOMES))
    note: str = ""
    skip: bool = Field(False, description="Skipped rather than done: the note says why")
    pay_by: Day | None = Field(None, description="For `promised`: the date promised")
    by: str | None = Field(
        None, description="The staff member's address; the token's creator if left out"
    )


@router.get(
    "/actions",
    response={200: page_of(ActionOut), **ERRORS},
    tags=["Actions"],
    summary="The actions inbox",
)
def list_actions(
    request: HttpRequest,
    status: str = "open",
    assignee: str | None = None,
    cursor: str | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
) -> dict[str, Any]:
    rows = ActionItem.objects.filter(company=company_of(request), status=status)
    if assignee:
        user = get_user_model().objects.filter(email__iexact=assignee).first()
        rows = actions.for_user(user, rows) if user else rows.none()
    rows = rows.select_related("customer").prefetch_related("assignees")
    return page(rows, cursor, limit, resources.action)


@router.post(
    "/actions/{item_id}/close",
    response={200: ActionOut, **ERRORS},
    tags=["Actions"],
    summary="Close an action item with its outcome",
)
def close_action(request: HttpRequest, item_id: int, payload: CloseIn) -> dict[str, Any]:
    company = writing(request)
    if not ActionItem.objects.filter(company=company, pk=item_id).exists():
        raise NotFound(f"no action item {item_id} in company {company.code}")
    by: Any = token_of(request).created_by
    if payload.by:
        by = (
            get_user_model()
            .objects.filter(email__iexact=payload.by, membership__company=company)
            .first()
        )
        if by is None:
            raise Invalid(
                f"{payload.by} is not a member of company {company.code}",
                [{"field": "by", "message": "a staff member of the company"}],
            )
    if by is None:
        raise Invalid("say who did it", [{"field": "by", "message": "the staff member's address"}])
    item = actions.close(
        item_id,
        by=by,
        outcome=payload.outcome,
        note=payload.note,
        skip=payload.skip,
        source=source_of(request),
        record=True,
        pay_by=payload.pay_by,
        today=hours.company_today(company),
    )
    return resources.action(item)


# --- promises and disputes ----------------------------------------------------------------------


class PromiseOut(Out):
    id: int
    customer_id: str
    invoice_ids: list[str]
    promised_on: dt.date
    pay_by: dt.date
    amount: str | None
    currency: str
    status: str
    broken_on: dt.date | None


class PromiseIn(Strict):
    customer_id: str
    invoice_ids: list[str] = Field(min_length=1, max_length=500)
    pay_by: Day
    amount: Decimal | None = Field(None, description="If not everything the invoices owe")


@router.get(
    "/promises",
    response={200: page_of(PromiseOut), **ERRORS},
    tags=["Promises"],
    summary="Promises to pay",
)
def list_promises(
    request: HttpRequest,
    status: str | None = None,
    customer_id: str | None = None,
    cursor: str | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
) -> dict[str, Any]:
    rows = Promise.objects.filter(company=company_of(request))
    if status:
        rows = rows.filter(status=status)
    if customer_id:
        rows = rows.filter(customer__external_id=customer_id)
    rows = rows.select_related("customer").prefetch_related("invoices")
    return page(rows, cursor, limit, resources.promise)


@router.post(
    "/promises",
    response={201: PromiseOut, **ERRORS},
    tags=["Promises"],
    summary="Record a promise to pay",
)
def create_promise(request: HttpRequest, payload: PromiseIn) -> Status[dict[str, Any]]:
    company = writing(request)
    customer = _customer(company, payload.customer_id)
    promise = pauses.add_promise(
        customer.external_id,
        payload.invoice_ids,
        payload.pay_by,
        hours.company_today(company),
        company=company,
        source=source_of(request),
        amount=payload.amount,
    )
    return Status(201, resources.promise(promise))


class DisputeOut(Out):
    id: int
    customer_id: str
    invoice_id: str
    opened_on: dt.date
    resolved_on: dt.date | None
    category: str
    reason: str
    resolution: str


class DisputeIn(Strict):
    invoice_id: str
    reason: str = Field("", max_length=5000)


class ResolveIn(Strict):
    resolution: str = Field("", max_length=5000)
    on: Day | None = Field(None, description="The company's today if left out")


@router.get(
    "/disputes",
    response={200: page_of(DisputeOut), **ERRORS},
    tags=["Disputes"],
    summary="Disputes",
)
def list_disputes(
    request: HttpRequest,
    open: bool | None = None,
    customer_id: str | None = None,
    cursor: str | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
) -> dict[str, Any]:
    rows = Dispute.objects.filter(company=company_of(request))
    if open is not None:
        rows = rows.filter(resolved_on__isnull=open)
    if customer_id:
        rows = rows.filter(customer__external_id=customer_id)
    return page(rows.select_related("customer", "invoice"), cursor, limit, resources.dispute)


@router.post(
    "/disputes",
    response={201: DisputeOut, **ERRORS},
    tags=["Disputes"],
    summary="Open a dispute on an invoice",
)
def open_dispute(request: HttpRequest, payload: DisputeIn) -> Status[dict[str, Any]]:
    company = writing(request)
    dispute = pauses.open_dispute(
        payload.invoice_id,
        hours.company_today(company),
        reason=payload.reason,
        company=company,
        source=source_of(request),
    )
    return Status(201, resources.dispute(dispute))


@router.post(
    "/disputes/{dispute_id}/resolve",
    response={200: DisputeOut, **ERRORS},
    tags=["Disputes"],
    summary="Resolve a dispute: dunning of the invoice resumes",
)
def resolve_dispute(request: HttpRequest, dispute_id: int, payload: ResolveIn) -> dict[str, Any]:
    company = writing(request)
    dispute = Dispute.objects.filter(company=company, pk=dispute_id).select_related("invoice")
    found = dispute.first()
    if found is None:
        raise NotFound(f"no dispute {dispute_id} in company {company.code}")
    if found.resolved_on is not None:
        raise Invalid(f"dispute {dispute_id} was resolved on {found.resolved_on}")
    resolved = pauses.resolve_dispute(
        found.invoice.external_id,
        payload.on or hours.company_today(company),
        resolution=payload.resolution,
        company=company,
        source=source_of(request),
    )
    return resources.dispute(resolved)


# --- campaigns ----------------------------------------------------------------------------------


class WaveOut(Out):
    number: int
    audience: str
    send_at: dt.datetime
    sent_at: dt.datetime | None
    reached: int
    unreachable: int
    messages: dict[str, int]
    owed: dict[str, str]
    paid_since: dict[str, str]


class CampaignOut(Out):
    id: int
    name: str
    channel: str
    criteria: dict[str, Any]
    created_at: dt.datetime
    waves: list[WaveOut]


def _campaign_out(c: Campaign) -> dict[str, Any]:
    waves = []
    for r in campaigns.results(c):
        w = r.wave
        waves.append(
            {
                "number": w.number,
                "audience": w.audience,
                "send_at": w.send_at,
                "sent_at": w.sent_at,
                "reached": w.reached,
                "unreachable": w.unreachable,
                "messages": r.messages,
                "owed": {k: format_amount(v, k) for k, v in r.owed.items()},
                "paid_since": {k: format_amount(v, k) for k, v in r.paid_since.items()},
            }
        )
    return {
        "id": c.pk,
        "name": c.name,
        "channel": c.channel,
        "criteria": c.criteria,
        "created_at": c.created_at,
        "waves": waves,
    }


@router.get(
    "/campaigns",
    response={200: page_of(CampaignOut), **ERRORS},
    tags=["Campaigns"],
    summary="Campaigns and their results",
)
def list_campaigns(
    request: HttpRequest, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)
) -> dict[str, Any]:
    rows = Campaign.objects.filter(company=company_of(request))
    return page(rows, cursor, limit, _campaign_out)


@router.get(
    "/campaigns/{campaign_id}",
    response={200: CampaignOut, **ERRORS},
    tags=["Campaigns"],
    summary="One campaign, wave by wave",
)
def get_campaign(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    company = company_of(request)
    found = Campaign.objects.filter(company=company, pk=campaign_id).first()
    if found is None:
        raise NotFound(f"no campaign {campaign_id} in company {company.code}")
    return _campaign_out(found)


# --- KPIs ---------------------------------------------------------------------------------------


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
