"""When a message may leave: the recipient's business hours (DESIGN §1: "delivered exactly once
inside the recipient's business hours"). The engine decides the day, the outbox the hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class SendingWindow:
    """Days (ISO weekdays, Monday = 1) and hours [start, end) in the recipient's time zone."""

    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    start: time = time(8, 0)
    end: time = time(18, 0)

    @classmethod
    def parse_days(cls, text: str) -> frozenset[int]:
        """ "12345" -> Monday to Friday; anything but digits 1-7 is refused."""
        days = frozenset(int(c) for c in text if c.isdigit())
        if not days or not days <= set(range(1, 8)) or len(text) != len(set(text)):
            raise ValueError(f"'{text}' is not a set of ISO weekdays such as 12345")
        return days

    def contains(self, at: datetime, zone: ZoneInfo) -> bool:
        local = at.astimezone(zone)
        return local.isoweekday() in self.days and self.start <= local.time() < self.end

    def next_opening(self, at: datetime, zone: ZoneInfo) -> datetime:
        """`at` itself when inside the window, else the next moment the window opens (UTC)."""
        if self.contains(at, zone):
            return at.astimezone(UTC)
        local = at.astimezone(zone)
        day = local.date()
        if local.time() >= self.start:
            day += timedelta(days=1)
        for _ in range(8):
            if day.isoweekday() in self.days:
                return self._opening(day, zone)
            day += timedelta(days=1)
        raise ValueError("a sending window needs at least one day")  # parse_days prevents it

    def opening_on(self, day: date, zone: ZoneInfo) -> datetime:
        """The first moment of `day` or after at which a message may leave."""
        return self.next_opening(datetime.combine(day, time(0), zone), zone)

    def _opening(self, day: date, zone: ZoneInfo) -> datetime:
        return datetime.combine(day, self.start, zone).astimezone(UTC)
