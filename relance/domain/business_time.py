"""Service-level deadlines counted in business time: N business hours or N business days after a
moment, in the company's zone, on its working days and hours (the same window its messages
leave in). A dispute's acknowledgement and resolution deadlines are counted this way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Week:
    """Working days (ISO weekdays, 1 = Monday) and the working hours of each, in `zone`."""

    days: frozenset[int]
    opens: time
    closes: time
    zone: str

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(1, 8)):
            raise ValueError("working days must be ISO weekdays 1 to 7, at least one")
        if self.opens >= self.closes:
            raise ValueError("the working day must open before it closes")

    def works_on(self, day: date) -> bool:
        return day.isoweekday() in self.days


def add_hours(start: datetime, hours: int, week: Week) -> datetime:
    """The moment `hours` working hours after `start` (aware), as an aware datetime in the zone.
    Time outside working hours does not count; a start out of hours counts from the next
    opening."""
    if start.tzinfo is None:
        raise ValueError("start must be aware")
    zone = ZoneInfo(week.zone)
    moment = start.astimezone(zone)
    left = timedelta(hours=hours)
    day = moment.date()
    while True:
        if week.works_on(day):
            opens = datetime.combine(day, week.opens, zone)
            closes = datetime.combine(day, week.closes, zone)
            begin = max(moment, opens)
            if begin < closes:
                if begin + left <= closes:
                    return begin + left
                left -= closes - begin
        day += timedelta(days=1)
        moment = datetime.combine(day, time(0), zone)


def add_days(start: datetime, days: int, week: Week) -> datetime:
    """The close of the `days`-th working day after the day of `start` (the day of a start
    counts only if it begins before that day's opening)."""
    if start.tzinfo is None:
        raise ValueError("start must be aware")
    zone = ZoneInfo(week.zone)
    moment = start.astimezone(zone)
    day = moment.date()
    counted = 0
    if week.works_on(day) and moment.timetz().replace(tzinfo=None) < week.opens:
        counted = 1
        if counted >= days:
            return datetime.combine(day, week.closes, zone)
    while counted < days:
        day += timedelta(days=1)
        if week.works_on(day):
            counted += 1
    return datetime.combine(day, week.closes, zone)


def left(now: datetime, deadline: datetime, week: Week) -> timedelta:
    """Working time from `now` to `deadline` (negative when past), for a countdown."""
    if deadline <= now:
        return -_working_between(deadline, now, week)
    return _working_between(now, deadline, week)


def _working_between(start: datetime, end: datetime, week: Week) -> timedelta:
    zone = ZoneInfo(week.zone)
    start, end = start.astimezone(zone), end.astimezone(zone)
    total = timedelta(0)
    day = start.date()
    while day <= end.date():
        if week.works_on(day):
            opens = datetime.combine(day, week.opens, zone)
            closes = datetime.combine(day, week.closes, zone)
            begin, finish = max(start, opens), min(end, closes)
            if begin < finish:
                total += finish - begin
        day += timedelta(days=1)
    return total
