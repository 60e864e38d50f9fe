"""Applies `Idempotency-Key` to every POST of the API (services.integrations.idempotency)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from relance.api.errors import body
from relance.services.integrations import api_tokens, idempotency

HEADER = "Idempotency-Key"


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        auth = request.headers.get("Authorization", "")
        token = api_tokens.authenticate(auth[7:]) if auth[:7].lower() == "bearer " else None
        if token is None:  # the API answers 401 itself
            return self.get_response(request)
        request.api_token = token  # type: ignore[attr-defined]
        print_ = idempotency.fingerprint(request.method, request.get_full_path(), request.body)
        try:
            kept = idempotency.begin(token, key, print_)
        except idempotency.KeyConflict as exc:
            status = 400 if exc.code == "invalid_idempotency_key" else 409
            return JsonResponse(body(exc.code, str(exc)), status=status)
        if kept is not None:
            replay = HttpResponse(
                kept.body, status=kept.status_code, content_type=kept.content_type
            )
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = self.get_response(request)
        except BaseException:
            idempotency.finish(token, key, idempotency.Answer(500, b"", ""))
            raise
        idempotency.finish(
            token,
            key,
            idempotency.Answer(
                response.status_code,
                bytes(response.content),
                response.get("Content-Type", "application/json"),
            ),
        )
        return response
