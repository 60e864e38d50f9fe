"""Error pages a person can act on: styled like the app, saying what happened and where to go,
with the customer portal's own layout under its links (a customer never sees the staff app)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _portal(request: HttpRequest) -> bool:
    return request.path.startswith("/p/")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    template = "portal/not_found.html" if _portal(request) else "403.html"
    return render(request, template, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    template = "portal/not_found.html" if _portal(request) else "404.html"
    return render(request, template, status=404)
