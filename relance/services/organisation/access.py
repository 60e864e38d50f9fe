"""Who sees what in the staff app: a user sees only the companies they belong to (Membership),
and a sales rep only the customers they are the sales rep of. Superusers see everything.

Views take every customer, invoice and company through here, so an object outside a user's reach
is simply not found (404): its existence is not even confirmed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from relance.models import (
    ActionItem,
    Company,
    Customer,
    Invoice,
    Membership,
    OutboxMessage,
    Plan,
)
from relance.services.organisation import hours

Role = Membership.Role
#: Roles that may change things (hold, dispute, promise, plans…); read-only and sales reps may not,
#: except through the sales rep's own signed links.
ACTING = frozenset({Role.ADMIN, Role.CREDIT_CONTROLLER})


def roles(user: Any) -> dict[int, str]:
    """Company pk -> the user's role there."""
    if not user.is_authenticated:
        return {}
    if user.is_superuser:
        return dict.fromkeys(Company.objects.values_list("pk", flat=True), Role.ADMIN)
    return dict(Membership.objects.filter(user=user).values_list("company_id", "role"))


def companies(user: Any) -> QuerySet[Company]:
    return Company.objects.filter(pk__in=list(roles(user))).order_by("name")


def today(user: Any, among: list[Company] | None = None) -> date:
    """The day a user's pages count lateness from: their (first) company's date, since the
    server's UTC day is still yesterday in Paris for an hour after midnight (and tomorrow's
    in New York). The server's day for someone with no company."""
    return hours.first_company_today(among if among is not None else list(companies(user)[:1]))


def _split(user: Any) -> tuple[list[int], list[int]]:
    """(companies whose every customer the user sees, companies where they see their own)."""
    whole: list[int] = []
    own: list[int] = []
    for company, role in roles(user).items():
        (own if role == Role.SALES_REP else whole).append(company)
    return whole, own


def customers(user: Any) -> QuerySet[Customer]:
    """The customers this user may see: all of their companies', or a sales rep's own."""
    whole, own = _split(user)
    return Customer.objects.filter(Q(company_id__in=whole) | Q(company_id__in=own, sales_rep=user))


def about_customers(user: Any) -> Q:
    """Rows about customers (they have `company` and `customer`) this user may see, on the
    rows' own company column where the whole company is visible: no subquery on customers,
    which a large outbox or inbox would pay for on every page. Rows with no customer (messages
    to staff) belong to those who see the whole company."""
    whole, own = _split(user)
    found = Q(company_id__in=whole)
    if own:  # else no join on customers at all
        found |= Q(company_id__in=own, customer__sales_rep=user)
    return found


def invoices(user: Any) -> QuerySet[Invoice]:
    return Invoice.objects.filter(customer__in=customers(user))


def plans(user: Any) -> QuerySet[Plan]:
    """Plans of the user's companies (library plans are the operator's, edited with the CLI)."""
    if not user.is_authenticated:
        return Plan.objects.none()
    return Plan.objects.filter(company__in=companies(user))


def acting_in(user: Any) -> set[int]:
    """The companies where this user may change things."""
    return {company for company, role in roles(user).items() if role in ACTING}


def may_act(user: Any, company_id: int) -> bool:
    return company_id in acting_in(user)


def messages(user: Any) -> QuerySet[OutboxMessage]:
    """Outbox messages to the customers this user may see, and those to staff (sales reps'
    digests) of the companies whose customers they all see."""
    return OutboxMessage.objects.filter(about_customers(user))


def action_items(user: Any) -> QuerySet[ActionItem]:
    """Action items about the customers this user may see."""
    return ActionItem.objects.filter(about_customers(user))
