"""Campaigns over HTTP: one-off mailings to a segment of customers, with their waves."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from relance.api.auth import company_of
from relance.api.errors import ERRORS
from relance.api.pagination import page
from relance.api.schemas import Out, page_of
from relance.domain.errors import NotFound
from relance.domain.money import format_amount
from relance.models import (
    Campaign,
)
from relance.services.dunning import campaigns

router = Router()


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
