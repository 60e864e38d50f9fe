"""Plans over HTTP: the company's plans and their definitions, which plan a customer is on and
why, and holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Body, Router, Status
from pydantic import Field

from relance.api.auth import company_of, customer_of, source_of, writing
from relance.api.errors import ERRORS
from relance.api.schemas import Day, Out, Strict
from relance.domain.errors import Invalid, NotFound
from relance.domain.plans.problems import PlanError
from relance.models import (
    Company,
    Customer,
    Plan,
)
from relance.services.dialogue import pauses
from relance.services.dunning import plan_choice, plans
from relance.services.organisation import hours

router = Router()


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
    reason_code: str = Field(
        "",
        description="Stable code of the reason: plan.explicit, plan.rule, plan.rule_all, "
        "plan.no_rule",
    )


class AssignmentIn(Strict):
    plan: str | None = Field(description="Plan code; null hands the choice back to the rules")


def _assignment(customer: Customer) -> dict[str, Any]:
    code, reason = plan_choice.explain_plan(customer.pk, hours.company_today(customer.company))
    return {
        "customer_id": customer.external_id,
        "plan": code,
        "reason": str(reason),
        "reason_code": getattr(reason, "code", ""),
    }


@router.get(
    "/customers/{external_id}/plan",
    response={200: AssignmentOut, **ERRORS},
    tags=["Plans"],
    summary="The customer's plan today, and why",
)
def get_assignment(request: HttpRequest, external_id: str) -> dict[str, Any]:
    """The plan the cycle would use for this customer today, and why."""
    return _assignment(customer_of(company_of(request), external_id))


@router.put(
    "/customers/{external_id}/plan",
    response={200: AssignmentOut, **ERRORS},
    tags=["Plans"],
    summary="Give a customer a plan (null: the rules choose)",
)
def assign(request: HttpRequest, external_id: str, payload: AssignmentIn) -> dict[str, Any]:
    company = writing(request)
    customer = customer_of(company, external_id)
    plans.assign_plan(customer, payload.plan, source=source_of(request))
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
    customer = customer_of(company, external_id)
    pauses.hold(customer, payload.until, source=source_of(request))
    return {"customer_id": customer.external_id, "hold_until": customer.hold_until}
