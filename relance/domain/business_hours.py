"""A company's business hours: the working days and the hours of each, without a zone. The one
definition serves two rules: messages leave inside these hours in the recipient's zone (DESIGN §1:
"delivered exactly once inside the recipient's business hours"; the engine decides the day, the
outbox the hour), and service-level deadlines are counted in them in the company's zone
(domain.business_time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = frozenset(range(1, 8))


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Days (ISO weekdays, Monday = 1) and hours [opens, closes), applied in a zone given per
    question: the hours are the company's, the zone is whoever they are applied for."""

    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    opens: time = time(8, 0)
    closes: time = time(18, 0)

    def __post_init__(self) -> None:
        if not self.days or not self.days <= WEEKDAYS:
            raise ValueError("working days must be ISO weekdays 1 to 7, at least one")

    @classmethod
    def parse_days(cls, text: str) -> frozenset[int]:
        """ "12345" -> Monday to Friday; anything but digits 1-7 is refused."""
        days = frozenset(int(c) for c in text if c.isdigit())
        if not days or not days <= WEEKDAYS or len(text) != len(set(text)):
            raise ValueError(f"'{text}' is not a set of ISO weekdays such as 12345")
        return days

    def works_on(self, day: date) -> bool:
        return day.isoweekday() in self.days

    def contains(self, at: datetime, zone: ZoneInfo) -> bool:
        local = at.astimezone(zone)
        return self.works_on(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, at: datetime, zone: ZoneInfo) -> datetime:
        """`at` itself when inside the hours, else the next moment they open (UTC)."""
        if self.contains(at, zone):
            return at.astimezone(UTC)
        local = at.astimezone(zone)
        day = local.date()
        if local.time() >= self.opens:
            day += timedelta(days=1)
        while not self.works_on(day):  # ends within a week: there is at least one working day
            day += timedelta(days=1)
        return datetime.combine(day, self.opens, zone).astimezone(UTC)

    def opening_on(self, day: date, zone: ZoneInfo) -> datetime:
        """The first moment of `day` or after at which a message may leave."""
        return self.next_opening(datetime.combine(day, time(0), zone), zone)
