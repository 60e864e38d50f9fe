"""A company's business hours, applied in each recipient's time zone (relance.domain.sending)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from relance.domain.sending import SendingWindow
from relance.models import Company


def sending_window(company: Company) -> SendingWindow:
    return SendingWindow(
        SendingWindow.parse_days(company.send_days), company.send_from, company.send_until
    )


def first_send(
    company: Company, zone_name: str, day: date, now: datetime | None = None
) -> datetime:
    """When a message the cycle queued for `day` may leave: now or the next opening when `day` is
    today; the opening of `day` when it is later (a run ahead of time); and for a day already
    past (a catch-up, a replay), that day's opening, which has gone by: at once."""
    now = now or timezone.now()
    zone = ZoneInfo(zone_name)
    window = sending_window(company)
    today = now.astimezone(zone).date()
    if day == today:
        return window.next_opening(now, zone)
    return window.opening_on(day, zone)


def after(company: Company, zone_name: str, at: datetime) -> datetime:
    """The first moment at or after `at` inside the hours (a retry's backoff, a capped day)."""
    return sending_window(company).next_opening(at, ZoneInfo(zone_name))
