"""`Idempotency-Key` with Stripe's semantics: the first answer to a POST is kept for a day and
replayed to any retry with the same key and body; the same key with another body, or while the
first request is still running, is a conflict. Keys are per API token.

The key row is written before the request runs, in its own transaction, so a concurrent retry
sees it and is refused rather than running twice. Server errors are not kept: the key is freed
and the client may retry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from relance.domain.errors import RelanceError
from relance.models import ApiToken, IdempotencyKey

KEPT_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyConflict(RelanceError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes
    content_type: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def begin(token: ApiToken, key: str, print_: str) -> Answer | None:
    """The kept answer to replay, or None after reserving the key for this request."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise KeyConflict(
            "invalid_idempotency_key", f"an Idempotency-Key has 1 to {MAX_KEY_LENGTH} characters"
        )
    IdempotencyKey.objects.filter(
        token=token, key=key, created_at__lt=timezone.now() - KEPT_FOR
    ).delete()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(token=token, key=key, fingerprint=print_)
        return None
    except IntegrityError:
        pass
    kept = IdempotencyKey.objects.filter(token=token, key=key).first()
    if kept is None:  # freed meanwhile by a failed first request
        raise KeyConflict("idempotency_key_in_use", "this key's first request just failed; retry")
    if kept.fingerprint != print_:
        raise KeyConflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used with another request; use a new key for a new request",
        )
    if kept.status_code is None:
        raise KeyConflict(
            "idempotency_key_in_use", "a request with this Idempotency-Key is still running"
        )
    return Answer(kept.status_code, bytes(kept.body), kept.content_type)


def finish(token: ApiToken, key: str, answer: Answer) -> None:
    if answer.status_code >= 500:
        IdempotencyKey.objects.filter(token=token, key=key, status_code__isnull=True).delete()
        return
    IdempotencyKey.objects.filter(token=token, key=key).update(
        status_code=answer.status_code, body=answer.body, content_type=answer.content_type
    )


def forget_old(now: datetime | None = None) -> int:
    """Drop the answers older than a day (the daily tick calls this)."""
    cutoff = (now or timezone.now()) - KEPT_FOR
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
