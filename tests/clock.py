"""The test ledger's today: its company's day, Europe/Paris unless the test says otherwise.

Not the server's `clock.today()` (UTC): for the hour after midnight in Paris that is still
yesterday, and a test comparing it with what the pages and the cycle call today fails then.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from relance.models import Company

DEFAULT_ZONE = str(Company._meta.get_field("time_zone").default)


def today(company: Any = None) -> date:
    zone = company.time_zone if company is not None else DEFAULT_ZONE
    return timezone.now().astimezone(ZoneInfo(zone)).date()
