"""The customer page's header: what a credit controller needs in ten seconds. Owed, overdue and
late fees per currency (never added across currencies), the states that change what relance does
(on hold, a promise, a dispute, a payment plan), the open tasks and who holds them, the last
contact and the next one with its reason."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from relance.messaging import formatting
from relance.models import ActionItem, Customer, Dispute, Execution, PaymentPlan, Promise


def _money(sums: dict[str, Decimal], language: str) -> list[str]:
    return [formatting.money(v, c, language) for c, v in sorted(sums.items()) if v]


def amounts(rows: list[dict[str, Any]], language: str) -> dict[str, list[str]]:
    """Owed, overdue and late fees (interest and fixed indemnities) per currency, from the
    statement's rows."""
    owed: dict[str, Decimal] = defaultdict(Decimal)
    overdue: dict[str, Decimal] = defaultdict(Decimal)
    fees: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        currency, due = row["currency"], Decimal(row["amount_due"])
        owed[currency] += due
        if row["days_late"] > 0:
            overdue[currency] += due
        for name in ("late_interest", "fixed_indemnity"):
            if row.get(name):
                fees[currency] += Decimal(row[name])
    return {
        "owed": _money(owed, language),
        "overdue": _money(overdue, language),
        "fees": _money(fees, language),
    }


def _who(user: Any) -> str:
    return str(user.get_full_name() or user.email or user.get_username())


def badges(customer: Customer, today: date, language: str) -> list[dict[str, str]]:
    """The states that hold or change dunning, each with what it means."""
    found = []
    if customer.hold_until and customer.hold_until >= today:
        found.append(
            {
                "kind": "hold",
                "text": _("On hold until %(day)s")
                % {"day": formatting.day(customer.hold_until, language)},
            }
        )
    promise = (
        Promise.objects.filter(customer=customer, status=Promise.Status.OPEN)
        .order_by("pay_by")
        .first()
    )
    if promise is not None:
        text = _("Promised to pay by %(day)s") % {"day": formatting.day(promise.pay_by, language)}
        if promise.amount and promise.currency:
            text += " · " + formatting.money(promise.amount, promise.currency, language)
        found.append({"kind": "promise", "text": text})
    disputes = Dispute.objects.filter(customer=customer, resolved_on=None).count()
    if disputes:
        found.append(
            {
                "kind": "dispute",
                "text": ngettext("%(count)s open dispute", "%(count)s open disputes", disputes)
                % {"count": disputes},
            }
        )
    plan = (
        PaymentPlan.objects.filter(customer=customer, status__in=_PLAN_BADGES)
        .order_by("-pk")
        .first()
    )
    if plan is not None:
        found.append({"kind": "payment-plan", "text": str(_PLAN_BADGES[plan.status])})
    return found


_PLAN_BADGES: dict[str, Any] = {
    PaymentPlan.Status.REQUESTED: gettext_lazy("Payment plan asked for: to answer"),
    PaymentPlan.Status.COUNTERED: gettext_lazy("Payment plan counter-proposed"),
    PaymentPlan.Status.ACTIVE: gettext_lazy("In a payment plan"),
}


def tasks(customer: Customer, language: str) -> list[dict[str, Any]]:
    """Open manual work on this customer and who holds it (people, groups or mailboxes)."""
    items = (
        ActionItem.objects.filter(customer=customer, status=ActionItem.Status.OPEN)
        .prefetch_related("assignees", "groups", "aliases")
        .order_by("due_date", "pk")[:5]
    )
    found = []
    for item in items:
        holders = [_who(u) for u in item.assignees.all()]
        holders += [g.name for g in item.groups.all()]
        holders += [a.name or a.email for a in item.aliases.all()]
        found.append(
            {
                "item": item,
                "kind": item.get_kind_display(),
                "due": formatting.day(item.due_date, language),
                "holders": ", ".join(holders) or _("nobody yet"),
            }
        )
    return found


def last_contact(customer: Customer, language: str) -> dict[str, str] | None:
    """The latest customer-facing step, campaign or message: what the contact delay counts
    from."""
    last = (
        Execution.objects.filter(customer=customer, customer_facing=True)
        .order_by("-date", "-pk")
        .values("date", "step_name", "channel")
        .first()
    )
    if last is None:
        return None
    return {
        "day": formatting.day(last["date"], language),
        "what": last["step_name"],
        "channel": last["channel"] or "",
    }


def next_contact(upcoming: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first step of the forecast (already formatted by the page), with its reason."""
    return upcoming[0] if upcoming else None


def glance(
    customer: Customer,
    rows: list[dict[str, Any]],
    today: date,
    language: str,
    upcoming: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        **amounts(rows, language),
        "badges": badges(customer, today, language),
        "tasks": tasks(customer, language),
        "last": last_contact(customer, language),
        "next": next_contact(upcoming),
    }
