"""A company's business hours (relance.domain.business_hours), applied in each recipient's zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from relance.domain.business_hours import BusinessHours
from relance.models import Company


def business_hours(company: Company) -> BusinessHours:
    """The company's hours: its messages leave in them, its service-level deadlines count them."""
    return BusinessHours(
        BusinessHours.parse_days(company.send_days), company.send_from, company.send_until
    )


def first_send(
    company: Company, zone_name: str, day: date, now: datetime | None = None
) -> datetime:
    """When a message the cycle queued for `day` may leave. Today's run waits for the
    recipient's business hours. A run for a past day (a catch-up, a replay) takes that day's
    opening, long gone: at once. A run for a day to come is a simulation (`relance run --date`):
    its hour means nothing yet, so its messages leave at once too."""
    now = now or timezone.now()
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    if day > today:
        return now
    open_hours = business_hours(company)
    return open_hours.next_opening(now, zone) if day == today else open_hours.opening_on(day, zone)


def after(company: Company, zone_name: str, at: datetime) -> datetime:
    """The first moment at or after `at` inside the hours (a retry's backoff, a capped day)."""
    return business_hours(company).next_opening(at, ZoneInfo(zone_name))


def company_today(company: Company, now: datetime | None = None) -> date:
    """The company's date: the day its cycle runs for, its pages say "today" for."""
    return (now or timezone.now()).astimezone(ZoneInfo(company.time_zone)).date()


def first_company_today(companies: Sequence[Company]) -> date:
    """The day a reader of these companies counts from: the first one's (most readers have one);
    the server's day for someone with none."""
    return company_today(companies[0]) if companies else timezone.localdate()


def company_day_start(company: Company, now: datetime, days: int = 0) -> datetime:
    """Midnight of the company's day (`days` later): where its daily cap counts from."""
    zone = ZoneInfo(company.time_zone)
    day = now.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(0), zone)
