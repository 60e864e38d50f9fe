"""Request size limits, by path, enforced from the Content-Length header before anything reads
the body (early in settings.MIDDLEWARE, before the CSRF check reads a form):

- the customer portal (/p/…): RELANCE_MAX_PORTAL_REQUEST_BYTES, a dispute's proof (5 MB) and
  its form;
- the REST API (/api/…): RELANCE_MAX_API_REQUEST_BYTES, comfortably above a full batch of
  1,000 rows, answered in the API's error body;
- the staff app's ledger upload (/imports/): RELANCE_IMPORT_MAX_BYTES and 1 MB for its form;
- everything else (staff pages, the admin, webhooks): RELANCE_MAX_REQUEST_BYTES.

Too large: 413 with a page saying so. A body sent in chunks without a Content-Length is refused
with 411 (Django would read nothing of it anyway: it reads at most Content-Length bytes, so a
body longer than its announced length is cut there). DATA_UPLOAD_MAX_MEMORY_SIZE bounds what
Django keeps in memory of a body that is not a file upload.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.translation import gettext as _

MB = 2**20
#: The staff app's upload of a ledger file (relance.web.imports), allowed RELANCE_IMPORT_MAX_BYTES.
IMPORT_UPLOAD = "/imports/"


def limit_for(path: str) -> int:
    if path.startswith("/api/"):
        return int(settings.RELANCE_MAX_API_REQUEST_BYTES)
    if path.startswith("/p/"):
        return int(settings.RELANCE_MAX_PORTAL_REQUEST_BYTES)
    if path == IMPORT_UPLOAD:  # the ledger file, and its small form around it
        return int(settings.RELANCE_IMPORT_MAX_BYTES) + MB
    return int(settings.RELANCE_MAX_REQUEST_BYTES)


def _megabytes(size: int) -> str:
    return f"{size / MB:.0f}" if size % MB == 0 else f"{size / MB:.1f}"


class RequestSizeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = limit_for(request.path_info)
        announced = request.META.get("CONTENT_LENGTH") or ""
        if announced:
            try:
                length = int(announced)
            except ValueError:
                length = -1
            if length < 0:
                return self._refused(request, 400, _("The request's length is not valid."))
            if length > limit:
                message = _("The request is too large: at most %(mb)s MB.") % {
                    "mb": _megabytes(limit)
                }
                return self._refused(request, 413, message)
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            message = _("Send the request with its length (a Content-Length header).")
            return self._refused(request, 411, message)
        return self.get_response(request)

    def _refused(self, request: HttpRequest, status: int, message: str) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            kind = {400: "bad_request", 411: "length_required", 413: "payload_too_large"}[status]
            detail = {"field": "body", "message": message}
            error = {"type": kind, "message": message, "details": [detail]}
            return JsonResponse({"error": error}, status=status)
        if request.path_info.startswith("/p/"):  # the portal's own page
            return render(request, "portal/refused.html", {"message": message}, status=status)
        title = _("Not sent")
        language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
        page = (
            f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
            f"<p>{escape(message)}</p>"
            f"<p>{escape(_('Go back, choose a smaller file and try again.'))}</p></body></html>"
        )
        return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
