"""What customers said, over HTTP: promises to pay and disputes, opened and resolved."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field

from relance.api.auth import company_of, customer_of, source_of, writing
from relance.api.errors import ERRORS
from relance.api.pagination import MAX_LIMIT, page
from relance.api.schemas import Day, Out, Strict, page_of
from relance.domain.errors import Invalid, NotFound
from relance.models import (
    Dispute,
    Promise,
)
from relance.services.dialogue import pauses
from relance.services.integrations import resources
from relance.services.ledger import lookup
from relance.services.organisation import hours

router = Router()


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
    customer = customer_of(company, payload.customer_id)
    promise = pauses.add_promise(
        customer,
        lookup.invoices_of(customer, payload.invoice_ids),
        payload.pay_by,
        hours.company_today(company),
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
        lookup.invoice(payload.invoice_id, company),
        hours.company_today(company),
        reason=payload.reason,
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
        found.invoice,
        payload.on or hours.company_today(company),
        resolution=payload.resolution,
        source=source_of(request),
    )
    return resources.dispute(resolved)
