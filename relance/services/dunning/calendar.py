"""The calendar: the steps the plans will run over the next days, stored per company.

Forecasting (services.dunning.forecasting, the engine run forward) every customer of a large
ledger takes far longer than a page view, so the daily tick stores it after the day's cycle
(ForecastEntry), and the page reads what was stored. A customer's own page always forecasts live.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from relance.domain import reasons
from relance.models import Company, ForecastEntry
from relance.services.dunning import forecasting
from relance.services.organisation import access
from relance.services.sql import Inserter

DAYS = 30


def refresh(company: Company, start: date, days: int = DAYS) -> int:
    """Replace the company's stored forecast by the one from `start` for `days` days."""
    now = timezone.now()
    rows = (
        {
            "company_id": company.pk,
            "customer_id": customer,
            "day": item.date,
            "plan_code": plan,
            "step": item.step,
            "step_index": item.step_index,
            "channel": item.channel,
            "reference": item.reference_invoice,
            **dict(zip(("reason", "reason_data"), reasons.stored(item.reason), strict=True)),
            "amounts": item.totals,
            "computed_at": now,
        }
        for customer, plan, item in forecasting.items(
            start, start + timedelta(days=days - 1), company_id=company.pk
        )
    )
    with transaction.atomic():
        ForecastEntry.objects.filter(company=company).delete()
        inserter, count, chunk = Inserter(ForecastEntry), 0, []
        for row in rows:
            chunk.append(row)
            if len(chunk) == 5000:
                inserter.insert(chunk)
                count, chunk = count + len(chunk), []
        inserter.insert(chunk)
    return count + len(chunk)


def upcoming(user: Any, start: date, end: date) -> QuerySet[ForecastEntry]:
    """Stored entries between two dates, of the customers this user may see."""
    return ForecastEntry.objects.filter(access.about_customers(user), day__gte=start, day__lte=end)


def computed_at(entries: QuerySet[ForecastEntry]) -> datetime | None:
    return entries.aggregate(at=Max("computed_at"))["at"]
