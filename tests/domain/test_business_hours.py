"""Business hours applied in the recipient's time zone: when a message may leave."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.domain.business_hours import BusinessHours

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
WEEK = BusinessHours()


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_inside_the_hours_is_now():
    at = paris(2026, 11, 23, 10, 30)  # a Monday
    assert WEEK.next_opening(at, PARIS) == at.astimezone(UTC)


def test_after_hours_waits_for_the_next_morning_and_weekends_for_monday():
    assert WEEK.next_opening(paris(2026, 11, 23, 18, 0), PARIS) == paris(2026, 11, 24, 8, 0)
    assert WEEK.next_opening(paris(2026, 11, 24, 6, 59), PARIS) == paris(2026, 11, 24, 8, 0)
    assert WEEK.next_opening(paris(2026, 11, 27, 19, 0), PARIS) == paris(2026, 11, 30, 8, 0)
    assert WEEK.next_opening(paris(2026, 11, 28, 11, 0), PARIS) == paris(2026, 11, 30, 8, 0)


def test_the_recipients_zone_decides():
    at = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 15:00 in Paris, 09:00 in New York
    assert WEEK.contains(at, PARIS)
    assert WEEK.contains(at, NEW_YORK)
    early = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 07:00 in New York
    assert WEEK.next_opening(early, NEW_YORK) == datetime(2026, 11, 23, 8, 0, tzinfo=NEW_YORK)


def test_opening_on_a_past_day_is_in_the_past():
    assert WEEK.opening_on(date(2026, 3, 14), PARIS) == paris(2026, 3, 16, 8, 0)  # a Saturday


def test_days_are_parsed_strictly():
    assert BusinessHours.parse_days("12345") == {1, 2, 3, 4, 5}
    for bad in ("", "0", "89", "1123"):
        with pytest.raises(ValueError, match="ISO weekdays"):
            BusinessHours.parse_days(bad)
    with pytest.raises(ValueError, match="ISO weekdays"):
        BusinessHours(frozenset({0}))


@given(
    at=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    days=st.frozensets(st.integers(1, 7), min_size=1),
    start=st.integers(0, 22),
    length=st.integers(1, 10),
    zone=st.sampled_from([PARIS, NEW_YORK, ZoneInfo("Asia/Tokyo"), ZoneInfo("UTC")]),
)
def test_the_next_opening_is_inside_the_window_and_never_earlier(at, days, start, length, zone):
    window = BusinessHours(days, time(start), time(min(start + length, 23), 59))
    opening = window.next_opening(at, zone)
    assert opening >= at
    assert window.contains(opening, zone) or opening.astimezone(zone).time() == window.opens
