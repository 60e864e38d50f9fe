"""What every staff page's layout needs to know about the reader."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from relance.models import Company, Membership
from relance.services.organisation import access


def staff(request: HttpRequest) -> dict[str, Any]:
    """Whether to offer the team page, the sales rep's page and the import page: asked only
    when a page shows the menu."""

    def manages_team() -> bool:
        return Membership.Role.ADMIN in access.roles(request.user).values()

    def sells() -> bool:
        return access.customers(request.user).filter(sales_rep=request.user.pk).exists()

    def not_live() -> list[Company]:
        """The user's companies whose automatic sending is off (the dashboard's banner); an
        admin's carry a link to their go-live page."""
        roles = access.roles(request.user)
        found = list(Company.objects.filter(pk__in=list(roles), automatic_sending=False))
        for company in found:
            company.administered = roles[company.pk] == Membership.Role.ADMIN  # type: ignore[attr-defined]
        return found

    lazily_not_live = SimpleLazyObject(not_live)

    def to_go_live() -> Company | None:
        """The first company this admin may switch on: the menu's "Go live" leads there."""
        return next((c for c in lazily_not_live if c.administered), None)

    def only_sells() -> bool:
        """A sales rep and nothing else: they land on their customers and see only the menus
        of what they can use."""
        roles = set(access.roles(request.user).values())
        return roles == {Membership.Role.SALES_REP} and not request.user.is_superuser

    def imports() -> bool:
        return bool(access.acting_in(request.user))

    return {
        "may_import": SimpleLazyObject(imports),
        "not_live": lazily_not_live,
        "to_go_live": SimpleLazyObject(to_go_live),
        "manages_team": SimpleLazyObject(manages_team),
        "sells": SimpleLazyObject(sells),
        "only_sells": SimpleLazyObject(only_sells),
    }
