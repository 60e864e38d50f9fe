"""Service-level deadlines counted in business time: N business hours or N business days after a
moment, in the company's zone, on its business hours (domain.business_hours: the same hours its
messages leave in). A dispute's acknowledgement and resolution deadlines are counted this way."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from relance.domain.business_hours import BusinessHours


def _require_open_hours(hours: BusinessHours) -> None:
    """A working day that never opens would count a deadline forever (sending tolerates such
    hours: its messages leave at the opening)."""
    if hours.opens >= hours.closes:
        raise ValueError("the working day must open before it closes")


def add_hours(start: datetime, count: int, hours: BusinessHours, zone: ZoneInfo) -> datetime:
    """The moment `count` working hours after `start` (aware), as an aware datetime in `zone`.
    Time outside working hours does not count; a start out of hours counts from the next
    opening."""
    if start.tzinfo is None:
        raise ValueError("start must be aware")
    _require_open_hours(hours)
    moment = start.astimezone(zone)
    left = timedelta(hours=count)
    day = moment.date()
    while True:
        if hours.works_on(day):
            opens = datetime.combine(day, hours.opens, zone)
            closes = datetime.combine(day, hours.closes, zone)
            begin = max(moment, opens)
            if begin < closes:
                if begin + left <= closes:
                    return begin + left
                left -= closes - begin
        day += timedelta(days=1)
        moment = datetime.combine(day, time(0), zone)


def add_days(start: datetime, count: int, hours: BusinessHours, zone: ZoneInfo) -> datetime:
    """The close of the `count`-th working day after the day of `start` (the day of a start
    counts only if it begins before that day's opening)."""
    if start.tzinfo is None:
        raise ValueError("start must be aware")
    _require_open_hours(hours)
    moment = start.astimezone(zone)
    day = moment.date()
    counted = 0
    if hours.works_on(day) and moment.timetz().replace(tzinfo=None) < hours.opens:
        counted = 1
        if counted >= count:
            return datetime.combine(day, hours.closes, zone)
    while counted < count:
        day += timedelta(days=1)
        if hours.works_on(day):
            counted += 1
    return datetime.combine(day, hours.closes, zone)


def left(now: datetime, deadline: datetime, hours: BusinessHours, zone: ZoneInfo) -> timedelta:
    """Working time from `now` to `deadline` (negative when past), for a countdown."""
    _require_open_hours(hours)
    if deadline <= now:
        return -_working_between(deadline, now, hours, zone)
    return _working_between(now, deadline, hours, zone)


def _working_between(
    start: datetime, end: datetime, hours: BusinessHours, zone: ZoneInfo
) -> timedelta:
    start, end = start.astimezone(zone), end.astimezone(zone)
    total = timedelta(0)
    day = start.date()
    while day <= end.date():
        if hours.works_on(day):
            opens = datetime.combine(day, hours.opens, zone)
            closes = datetime.combine(day, hours.closes, zone)
            begin, finish = max(start, opens), min(end, closes)
            if begin < finish:
                total += finish - begin
        day += timedelta(days=1)
    return total
