"""What a staff member may act on: a row they can see (404 otherwise, so that nothing tells them
what exists beyond their reach) and whose company lets them act (403 for a read-only member)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from relance.services.organisation import access

M = TypeVar("M", bound=Model)


def acting_on(request: HttpRequest, visible: QuerySet[M], pk: Any) -> M:
    """Row `pk` among the rows `visible` to this user, if they may act on its company."""
    found = get_object_or_404(visible, pk=pk)
    if not access.may_act(request.user, found.company_id):  # type: ignore[attr-defined]
        raise PermissionDenied
    return found
