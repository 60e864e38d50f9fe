"""The Actions inbox: manual work owned by people, done or skipped with who and why."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from relance.models import ActionItem, Event

OUTCOMES = ("done", "reached", "voicemail", "promised", "disputed", "wrong_contact")


class ActionRefused(ValueError):
    pass


def inbox(
    user_email: str | None = None, *, status: str = ActionItem.Status.OPEN
) -> QuerySet[ActionItem]:
    """Open items, highest priority first; for one user: theirs, their groups' and aliases'."""
    items = ActionItem.objects.filter(status=status).select_related("customer")
    if user_email:
        user = get_user_model().objects.filter(email__iexact=user_email).first()
        if user is None:
            return items.none()
        items = items.filter(
            Q(assignees=user) | Q(groups__in=user.groups.all()) | Q(aliases__members=user)
        ).distinct()
    return items.order_by("-priority", "due_date", "pk")


@transaction.atomic
def close(
    item_id: int, *, by: str, outcome: str, note: str = "", skip: bool = False, source: str = "cli"
) -> ActionItem:
    """Mark an item done (with its outcome) or skipped (with the reason in `note`)."""
    user = get_user_model().objects.filter(email__iexact=by).first()
    if user is None:
        raise ActionRefused(f"no staff user with the address {by}")
    item = ActionItem.objects.select_for_update().filter(pk=item_id).first()
    if item is None:
        raise ActionRefused(f"no action item {item_id}")
    if item.status != ActionItem.Status.OPEN:
        raise ActionRefused(f"action item {item_id} is already {item.status}")
    if outcome not in OUTCOMES:
        raise ActionRefused(f"unknown outcome '{outcome}'; outcomes: {', '.join(OUTCOMES)}")
    if skip and not note:
        raise ActionRefused("say why the item is skipped (--note)")
    item.status = ActionItem.Status.SKIPPED if skip else ActionItem.Status.DONE
    item.outcome = outcome
    item.note = note
    item.completed_by = user
    item.completed_at = timezone.now()
    item.save(update_fields=["status", "outcome", "note", "completed_by", "completed_at"])
    data: dict[str, Any] = {
        "action": item.pk,
        "title": item.title,
        "outcome": outcome,
        "note": note,
    }
    Event.objects.create(
        company_id=item.company_id,
        customer_id=item.customer_id,
        actor=user,
        source=source,
        kind=f"action.{item.status}",
        data=data,
    )
    return item
