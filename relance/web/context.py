"""What every staff page's layout needs to know about the reader."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from relance.models import Membership
from relance.services.organisation import access


def staff(request: HttpRequest) -> dict[str, Any]:
    """Whether to offer the team page and the sales rep's page: asked only when a page shows
    the menu."""

    def manages_team() -> bool:
        return Membership.Role.ADMIN in access.roles(request.user).values()

    def sells() -> bool:
        return access.customers(request.user).filter(sales_rep=request.user.pk).exists()

    return {
        "manages_team": SimpleLazyObject(manages_team),
        "sells": SimpleLazyObject(sells),
    }
