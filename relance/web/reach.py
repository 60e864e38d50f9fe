"""What a staff member may act on: a row they can see (404 otherwise, so that nothing tells them
what exists beyond their reach) and whose company lets them act (403 for a read-only member)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from relance.models import Company
from relance.services.organisation import access

M = TypeVar("M", bound=Model)


def acting_on(request: HttpRequest, visible: QuerySet[M], pk: Any) -> M:
    """Row `pk` among the rows `visible` to this user, if they may act on its company."""
    found = get_object_or_404(visible, pk=pk)
    if not access.may_act(request.user, found.company_id):  # type: ignore[attr-defined]
        raise PermissionDenied
    return found


def chosen_company(request: HttpRequest, allowed: list[Company]) -> Company:
    """The company a page works on: the one asked for (`?company=` or the form's), which must be
    among the user's (404 beyond, as for rows) and among the `allowed` ones for this page (403:
    a member without the role); with none asked, the first allowed (403 when there is none)."""
    chosen = request.GET.get("company") or request.POST.get("company") or ""
    if chosen.isdigit():
        company = get_object_or_404(access.companies(request.user), pk=chosen)
        if company.pk not in {c.pk for c in allowed}:
            raise PermissionDenied
        return company
    if not allowed:
        raise PermissionDenied
    return allowed[0]
