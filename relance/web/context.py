"""What every staff page's layout needs to know about the reader."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from relance.models import Membership
from relance.services.organisation import access


def staff(request: HttpRequest) -> dict[str, Any]:
    """Whether to offer the team page, the sales rep's page and the import page: asked only
    when a page shows the menu."""

    def manages_team() -> bool:
        return Membership.Role.ADMIN in access.roles(request.user).values()

    def sells() -> bool:
        return access.customers(request.user).filter(sales_rep=request.user.pk).exists()

    def imports() -> bool:
        return bool(access.acting_in(request.user))

    return {
        "may_import": SimpleLazyObject(imports),
        "manages_team": SimpleLazyObject(manages_team),
        "sells": SimpleLazyObject(sells),
    }
