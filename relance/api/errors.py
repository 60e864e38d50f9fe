"""One error body for every failure: `{"error": {"type", "message", "details"}}`, where each
detail names the row (for batches) and the field it is about."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import BaseModel

from relance.domain.errors import Conflict, Forbidden, Invalid, NotFound, Refusal, RelanceError

log = logging.getLogger(__name__)


class Detail(BaseModel):
    row: int | None = None
    field: str | None = None
    message: str


class ErrorBody(BaseModel):
    type: str
    message: str
    details: list[Detail] = []


class ErrorOut(BaseModel):
    error: ErrorBody


#: The error answers every operation may give, for the OpenAPI document.
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422)}


#: How the API answers each kind of relance error (domain.errors), whatever the class raised:
#: the status and the body's `type`; the message and details are the error's own.
ANSWERS: dict[type[RelanceError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    Refusal: (422, "validation_error"),
    Invalid: (422, "validation_error"),
    Conflict: (409, "conflict"),
    Forbidden: (403, "permission_denied"),
}


def body(type_: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message, "details": details or []}}


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic's locations as row and field: ('body', 'payload', 'rows', 2, 'total') is row 3."""
    details = []
    for err in errors:
        loc = [p for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        row = None
        if len(loc) >= 2 and loc[0] == "rows" and isinstance(loc[1], int):
            row, loc = loc[1] + 1, loc[2:]
        field = ".".join(str(p) for p in loc) or None
        details.append({"row": row, "field": field, "message": str(err.get("msg", "invalid"))})
    return details


def install(api: NinjaAPI) -> None:
    def answer(request: HttpRequest, status: int, payload: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, payload, status=status)

    def answering(status: int, type_: str) -> Callable[[HttpRequest, RelanceError], HttpResponse]:
        def relance_error(request: HttpRequest, exc: RelanceError) -> HttpResponse:
            return answer(request, status, body(type_, str(exc), exc.details))

        return relance_error

    for kind, (status, type_) in ANSWERS.items():  # an error of no kind stays a 500
        api.exception_handler(kind)(answering(status, type_))

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        details = _validation_details(exc.errors)
        return answer(request, 422, body("validation_error", "the request is invalid", details))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = "send a live API token as `Authorization: Bearer rl_…`"
        response = answer(request, 401, body("authentication_failed", message))
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return answer(request, exc.status_code, body("bad_request", str(exc)))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return answer(request, 404, body("not_found", "no such resource"))

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("API %s %s failed", request.method, request.path)
        message = "relance failed to answer; the error was logged"
        return answer(request, 500, body("server_error", message))
