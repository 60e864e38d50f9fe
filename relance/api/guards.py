"""What stands around the API's views: text no database column can hold is refused before any
view sees it (a NUL character, which PostgreSQL rejects, or half of a UTF-16 surrogate pair), and
the answers Django gives outside ninja's routes (an unknown path, a method an operation does
not take) come in the API's error body too."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from relance.api.errors import body


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class StorableTextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and self._refused(request):
            message = "text may not contain NUL (\\u0000) characters or unpaired surrogates"
            return JsonResponse(body("validation_error", message), status=422)
        return self.get_response(request)

    @staticmethod
    def _refused(request: HttpRequest) -> bool:
        texts = [request.path, *(v for vs in request.GET.lists() for v in (vs[0], *vs[1]))]
        body = request.body if request.content_type == "application/json" else b""
        suspect = b"\\u0000" in body or b"\x00" in body or b"\\ud" in body.lower()
        if suspect:  # JSON writes both as escapes: parse only the bodies that have one
            with contextlib.suppress(ValueError):  # the API answers 422 for a body not JSON
                texts += _strings(json.loads(request.body))
        return any(_unstorable(t) for t in texts)


class JsonErrorsMiddleware:
    """404 and 405 under /api/ in the API's error body, rather than Django's HTML page."""

    MESSAGES = {
        404: ("not_found", "no such API path; the operations are listed at /api/docs"),
        405: ("method_not_allowed", "this path does not take that method"),
    }

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        found = self.MESSAGES.get(response.status_code)
        if (
            found is None
            or not request.path.startswith("/api/")
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        answer = JsonResponse(body(*found), status=response.status_code)
        if "Allow" in response:
            answer["Allow"] = response["Allow"]
        return answer
