"""Login throttling's web side (django-axes calls it, see settings.AXES_*): the page a
locked-out login attempt gets, the staff login page with the reason. The client's address is
relance.client's, as for every limit relance keeps."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext


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
