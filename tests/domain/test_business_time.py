"""Business-time deadlines: hand-checked cases across nights, weekends and a DST change, and
properties: deadlines never land outside working hours and count exactly the time asked."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.domain.business_hours import BusinessHours
from relance.domain.business_time import add_days, add_hours, left

PARIS = ZoneInfo("Europe/Paris")
OFFICE = BusinessHours(frozenset({1, 2, 3, 4, 5}), time(9), time(17))


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("start", "hours", "deadline"),
    [
        (paris(2026, 12, 7, 10), 4, paris(2026, 12, 7, 14)),  # Monday, same day
        (paris(2026, 12, 7, 15), 4, paris(2026, 12, 8, 11)),  # over the night
        (paris(2026, 12, 4, 16), 8, paris(2026, 12, 7, 16)),  # Friday to Monday
        (paris(2026, 12, 5, 12), 8, paris(2026, 12, 7, 17)),  # Saturday: from Monday's opening
        (paris(2026, 12, 7, 7), 1, paris(2026, 12, 7, 10)),  # before opening
        (paris(2026, 3, 27, 16), 2, paris(2026, 3, 30, 10)),  # across the spring DST change
    ],
)
def test_business_hours(start, hours, deadline):
    assert add_hours(start, hours, OFFICE, PARIS) == deadline


@pytest.mark.parametrize(
    ("start", "days", "deadline"),
    [
        (paris(2026, 12, 7, 10), 1, paris(2026, 12, 8, 17)),  # Monday during hours: Tuesday
        (paris(2026, 12, 7, 8), 1, paris(2026, 12, 7, 17)),  # before opening: the same day
        (paris(2026, 12, 4, 12), 2, paris(2026, 12, 8, 17)),  # Friday + 2: Tuesday
        (paris(2026, 12, 5, 12), 10, paris(2026, 12, 18, 17)),  # a Saturday + 10
    ],
)
def test_business_days(start, days, deadline):
    assert add_days(start, days, OFFICE, PARIS) == deadline


def test_the_countdown_is_in_working_time_and_negative_once_past():
    assert left(paris(2026, 12, 4, 16), paris(2026, 12, 7, 10), OFFICE, PARIS) == timedelta(hours=2)
    assert left(paris(2026, 12, 7, 12), paris(2026, 12, 7, 10), OFFICE, PARIS) == -timedelta(
        hours=2
    )


def test_business_hours_must_make_sense():
    with pytest.raises(ValueError, match="ISO weekdays"):
        BusinessHours(frozenset({0}), time(9), time(17))
    never_open = BusinessHours(frozenset({1}), time(17), time(9))
    with pytest.raises(ValueError, match="open before it closes"):
        add_hours(paris(2026, 12, 7, 10), 1, never_open, PARIS)
    with pytest.raises(ValueError, match="aware"):
        add_hours(datetime(2026, 12, 7, 10), 1, OFFICE, PARIS)


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@given(start=moments, hours=st.integers(min_value=1, max_value=200))
def test_a_deadline_is_inside_working_hours_and_counts_the_hours_asked(start, hours):
    deadline = add_hours(start, hours, OFFICE, PARIS)
    local = deadline.astimezone(PARIS)
    assert OFFICE.works_on(local.date())
    assert time(9) < local.time() <= time(17)
    assert left(start, deadline, OFFICE, PARIS) == timedelta(hours=hours)


@given(start=moments, days=st.integers(min_value=1, max_value=60))
def test_a_day_deadline_is_a_closing_time_after_the_start(start, days):
    deadline = add_days(start, days, OFFICE, PARIS).astimezone(PARIS)
    assert deadline > start
    assert deadline.time() == time(17)
    assert OFFICE.works_on(deadline.date())
