"""Who sees what in the staff app: a user sees only the companies they belong to (Membership),
and a sales rep only the customers they are the sales rep of. Superusers see everything.

Views take every customer, invoice and company through here, so an object outside a user's reach
is simply not found (404): its existence is not even confirmed.
"""

from __future__ import annotations

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


def customers(user: Any) -> QuerySet[Customer]:
    """The customers this user may see: all of their companies', or a sales rep's own."""
    whole: list[int] = []
    own: list[int] = []
    for company, role in roles(user).items():
        (own if role == Role.SALES_REP else whole).append(company)
    return Customer.objects.filter(Q(company_id__in=whole) | Q(company_id__in=own, sales_rep=user))


def invoices(user: Any) -> QuerySet[Invoice]:
    return Invoice.objects.filter(customer__in=customers(user))


def plans(user: Any) -> QuerySet[Plan]:
    """Plans of the user's companies, and those shared by every company."""
    if not user.is_authenticated:
        return Plan.objects.none()
    return Plan.objects.filter(Q(company__in=companies(user)) | Q(company__isnull=True))


def acting_in(user: Any) -> set[int]:
    """The companies where this user may change things."""
    return {company for company, role in roles(user).items() if role in ACTING}


def may_act(user: Any, company_id: int) -> bool:
    return company_id in acting_in(user)


def messages(user: Any) -> QuerySet[OutboxMessage]:
    """Outbox messages to the customers this user may see, and those to staff (sales reps'
    digests) of the companies whose customers they all see."""
    whole = [company for company, role in roles(user).items() if role != Role.SALES_REP]
    return OutboxMessage.objects.filter(
        Q(customer__in=customers(user)) | Q(customer=None, company_id__in=whole)
    )


def action_items(user: Any) -> QuerySet[ActionItem]:
    """Action items about the customers this user may see."""
    return ActionItem.objects.filter(customer__in=customers(user))
