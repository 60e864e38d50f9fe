"""Login throttling's administrative side: which accounts are locked out, and unlocking them.

django-axes counts failed logins per (user name, address) pair (settings.AXES_*); a pair that
reached the limit within the cool-off is refused until the cool-off ends or an admin unlocks it.
"""

from __future__ import annotations

from collections.abc import Iterable

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.utils import timezone


def locked(usernames: Iterable[str]) -> set[str]:
    """Those of these user names that are locked out from at least one address right now."""
    return set(
        AccessAttempt.objects.filter(
            username__in=list(usernames),
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
        ).values_list("username", flat=True)
    )


def unlock(username: str) -> bool:
    """Forget the failed logins of this user name, from every address; True if it was locked."""
    was_locked = username in locked([username])
    reset(username=username)
    return was_locked
