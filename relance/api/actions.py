"""The actions inbox over HTTP: the manual work the cycle left, listed and closed with an
outcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from relance.api.auth import company_of, source_of, token_of, writing
from relance.api.errors import ERRORS
from relance.api.pagination import MAX_LIMIT, page
from relance.api.schemas import Day, Out, Strict, page_of
from relance.domain.errors import Invalid, NotFound
from relance.models import (
    ActionItem,
)
from relance.services.dunning import actions
from relance.services.integrations import resources
from relance.services.organisation import hours

router = Router()


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
