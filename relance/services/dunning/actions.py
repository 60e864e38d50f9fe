"""The Actions inbox: manual work owned by people, done or skipped with who and why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from relance.domain.errors import Refusal
from relance.models import ActionItem
from relance.services.organisation import hours, journal

OUTCOMES = ("done", "reached", "voicemail", "promised", "disputed", "wrong_contact")


class ActionRefused(Refusal, ValueError):
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
        items = for_user(user, items)
    return items.order_by("-priority", "due_date", "pk")


def for_user(user: Any, items: QuerySet[ActionItem] | None = None) -> QuerySet[ActionItem]:
    """The items that are this user's: assigned to them, their groups or their aliases."""
    items = ActionItem.objects.all() if items is None else items
    return items.filter(
        Q(assignees=user) | Q(groups__in=user.groups.all()) | Q(aliases__members=user)
    ).distinct()


@transaction.atomic
def close(
    item_id: int,
    *,
    by: Any,
    outcome: str,
    note: str = "",
    skip: bool = False,
    source: str = "cli",
    record: bool = False,
    pay_by: date | None = None,
    today: date | None = None,
    amount: Decimal | None = None,
) -> ActionItem:
    """Mark an item done (with its outcome) or skipped (with the reason in `note`). `by` is the
    staff user or their address. With `record`, a call that got a promise (outcome `promised`,
    with `pay_by` and, when given, the `amount` promised) records the promise for the invoices of
    the step, and one that was disputed
    (`disputed`) opens a dispute on its reference invoice, the note as reason: in the same
    transaction, so the item is not closed if that fails."""
    user = by if hasattr(by, "pk") else get_user_model().objects.filter(email__iexact=by).first()
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
    if record and not skip and outcome in ("promised", "disputed"):
        _record_dialogue(
            item,
            user,
            outcome,
            note,
            pay_by,
            today or hours.company_today(item.company),
            source,
            amount,
        )
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
    journal.record(f"action.{item.status}", item, actor=user, source=source, data=data)
    return item


def _record_dialogue(
    item: ActionItem,
    user: Any,
    outcome: str,
    note: str,
    pay_by: date | None,
    today: date,
    source: str,
    amount: Decimal | None = None,
) -> None:
    from relance.services.dialogue import pauses
    from relance.services.ledger import lookup

    execution = item.execution
    if execution is None or not execution.reference_external_id:
        raise ActionRefused(f"action item {item.pk} names no invoice to promise or dispute")
    company, customer = item.company, item.customer
    try:
        if outcome == "promised":
            if pay_by is None:
                raise ActionRefused("say by when the customer will pay")
            ids = execution.invoices or [execution.reference_external_id]
            invoices = lookup.invoices_of(customer, ids)
            pauses.add_promise(
                customer, invoices, pay_by, today, source=source, actor=user, amount=amount
            )
        else:
            pauses.open_dispute(
                lookup.invoice(execution.reference_external_id, company),
                today,
                reason=note,
                source=source,
                actor=user,
            )
    except (pauses.Refused, lookup.NotTheirs) as exc:
        raise ActionRefused(str(exc)) from None
