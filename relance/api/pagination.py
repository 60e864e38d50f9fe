"""Cursor pagination: rows in id order, the cursor is the last id seen (opaque to clients), so
pages stay right while rows are added and a page costs the same wherever it is."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from relance.domain.errors import Invalid

MAX_LIMIT = 500
M = TypeVar("M", bound=Model)


def _decode(cursor: str) -> int:
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (ValueError, UnicodeDecodeError):
        value = -1
    if value < 0:
        raise Invalid(
            "the cursor is not one this API gave",
            [{"field": "cursor", "message": "pass next_cursor from the previous page as it is"}],
        )
    return value


def _encode(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


def page(
    rows: QuerySet[M], cursor: str | None, limit: int, shape: Callable[[M], dict[str, Any]]
) -> dict[str, Any]:
    if cursor:
        rows = rows.filter(pk__gt=_decode(cursor))
    found = list(rows.order_by("pk")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return {
        "data": [shape(r) for r in found],
        "next_cursor": _encode(found[-1].pk) if more and found else None,
    }
