"""API tokens: created by a company's admin in the staff app, shown once, kept as a hash.

A token acts in exactly one company, read-only or read-write. The secret has 256 bits of
randomness, so a plain SHA-256 is enough to keep it (no slow hash needed: nothing to guess)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from relance.domain.errors import Refusal
from relance.models import ApiToken, Company
from relance.services.organisation import journal

PREFIX = "rl_"
_TOUCH_EVERY = timedelta(minutes=1)


class TokenRefused(Refusal, ValueError):
    pass


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create(
    company: Company, name: str, scope: str, *, actor: Any = None, source: str = "web"
) -> tuple[ApiToken, str]:
    """The new token and its secret, which is never shown again."""
    name = name.strip()
    if not name:
        raise TokenRefused("name the token after what uses it")
    if scope not in ApiToken.Scope.values:
        raise TokenRefused(f"unknown scope '{scope}'; scopes: {', '.join(ApiToken.Scope.values)}")
    prefix = secrets.token_hex(4)
    raw = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        company=company,
        name=name[:100],
        prefix=prefix,
        secret_hash=_hash(raw),
        scope=scope,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    journal.record(
        "api_token.created",
        token,
        actor=token.created_by,
        source=source,
        data={"token": f"{PREFIX}{prefix}", "name": token.name, "scope": scope},
    )
    return token, raw


def authenticate(raw: str) -> ApiToken | None:
    """The live token with this secret, or None."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("company")
        .filter(secret_hash=_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def revoke(token: ApiToken, *, actor: Any = None, source: str = "web") -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    journal.record(
        "api_token.revoked",
        token,
        actor=actor,
        source=source,
        data={"token": f"{PREFIX}{token.prefix}", "name": token.name},
    )
