"""Login throttling's web side (django-axes calls these, see settings.AXES_*): the client's
address, and the page a locked-out login attempt gets, the staff login page with the reason."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def client_address(request: HttpRequest) -> str:
    """The connection's address; behind RELANCE_TRUSTED_PROXIES proxies, each appending the
    address it received from to X-Forwarded-For, the one the outermost proxy saw. Entries further
    left come from the client and could be forged."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "RELANCE_TRUSTED_PROXIES", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = [
        a.strip() for a in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if a.strip()
    ]
    if not forwarded:
        return remote
    return forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]


def lockout_message() -> str:
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return ngettext(
        "Too many failed attempts for this account from your address. Try again in %(minutes)d "
        "minute, or ask an administrator to unlock it.",
        "Too many failed attempts for this account from your address. Try again in %(minutes)d "
        "minutes, or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The login page again, saying why the login was refused (for /login/ and /admin/login/)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "locked_out": lockout_message(),
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(
        request,
        "registration/login.html",
        context,
        status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),
    )
