"""Idle sessions end: a session lives settings.SESSION_COOKIE_AGE (RELANCE_SESSION_IDLE_HOURS)
after its last refresh, and each request of a logged-in user refreshes it, but writes it at most
once per REFRESH_EVERY (rather than SESSION_SAVE_EVERY_REQUEST's write on every page, which on
SQLite would queue each page view behind a running import for the write lock)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

KEY = "_relance_refreshed"


def refresh_every() -> int:
    """Seconds between two writes: a 96th of the idle period, between one minute and five."""
    return max(60, min(300, settings.SESSION_COOKIE_AGE // 96))


class SlidingExpiryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            if now - int(request.session.get(KEY, 0)) >= refresh_every():
                request.session[KEY] = now  # modified: saved with a new expiry, cookie re-sent
        return self.get_response(request)
