"""Payment plans (DESIGN §3): the customer asks to pay chosen invoices in monthly instalments
within the company's rules; staff approve, counter-propose or reject (plans below the company's
amount are approved at once). While a plan is asked for or kept, its invoices leave dunning.

Progress is read from the ledger, not declared: what the plan's invoices still owe, against
what the instalments due so far add up to. The daily tick sends each instalment a reminder
REMIND_DAYS before it falls due and a missed-instalment notice the day after if it is not met,
once each; an instalment `plan_grace_days` late breaks the plan and its invoices return to
dunning; a plan whose invoices are paid is completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relance.domain.errors import Refusal
from relance.domain.instalments import add_months, split
from relance.messaging import formatting
from relance.models import (
    Customer,
    Dispute,
    Instalment,
    Invoice,
    OutboxMessage,
    PaymentPlan,
)
from relance.services.dialogue import notices
from relance.services.ledger import snapshots
from relance.services.organisation import hours, journal
from relance.services.organisation.language import staff_language

Status = PaymentPlan.Status
REMIND_DAYS = 3


class PlanRefused(Refusal, ValueError):
    """The plan cannot be made or changed as asked (the message says why)."""


def _owed(customer: Customer, on: date, invoice_ids: list[str]) -> dict[str, tuple[Decimal, str]]:
    """External id -> (amount due, currency) of these invoices of the customer on `on`."""
    wanted = set(invoice_ids)
    return {
        ext: (snapshots.as_decimal(amount), currency)
        for _pk, cust, ext, _n, _i, _d, currency, amount, _t in snapshots.amounts_due(
            [customer.pk], on
        )
        if cust == customer.pk and ext in wanted
    }


def _check_schedule(customer: Customer, count: int, first: date, today: date) -> None:
    company = customer.company
    if not 2 <= count <= company.plan_max_instalments:
        raise PlanRefused(
            _("Choose between 2 and %(n)s instalments.") % {"n": company.plan_max_instalments}
        )
    if first < today:
        raise PlanRefused(_("The first instalment cannot be in the past."))
    if add_months(first, count - 1) > today + timedelta(days=company.plan_max_days):
        raise PlanRefused(
            _("The last instalment must fall within %(days)s days.")
            % {"days": company.plan_max_days}
        )


def request(
    customer: Customer,
    invoice_ids: list[str],
    count: int,
    first: date,
    *,
    source: str = "portal",
    actor: Any = None,
    now: datetime | None = None,
) -> PaymentPlan:
    """A plan for these unpaid invoices (one currency), checked against the company's rules."""
    now = now or timezone.now()
    company = customer.company
    today = hours.company_today(company, now)
    if not invoice_ids:
        raise PlanRefused(_("Choose at least one invoice."))
    owed = _owed(customer, today, invoice_ids)
    if set(owed) != set(invoice_ids) or any(amount <= 0 for amount, _c in owed.values()):
        raise PlanRefused(_("Choose invoices of yours that are still unpaid."))
    currencies = {currency for _a, currency in owed.values()}
    if len(currencies) != 1:
        raise PlanRefused(_("A payment plan is in one currency: choose invoices in one currency."))
    invoices = list(Invoice.objects.filter(customer=customer, external_id__in=invoice_ids))
    if PaymentPlan.objects.filter(invoices__in=invoices, status__in=PaymentPlan.PAUSING).exists():
        raise PlanRefused(_("One of these invoices is already in a payment plan."))
    if Dispute.objects.filter(invoice__in=invoices, resolved_on=None).exists():
        raise PlanRefused(_("A disputed invoice cannot go into a payment plan."))
    _check_schedule(customer, count, first, today)
    [currency] = currencies
    total = sum((amount for amount, _c in owed.values()), Decimal(0))
    try:
        schedule = split(total, currency, count, first)
    except ValueError as exc:
        raise PlanRefused(str(exc)) from None
    with transaction.atomic():
        plan = PaymentPlan.objects.create(
            company=company,
            customer=customer,
            currency=currency,
            total=total,
            source=source,
            requested_at=now,
        )
        plan.invoices.set(invoices)
        _write_schedule(plan, schedule)
        journal.record(
            "payment_plan.requested",
            plan,
            actor=actor,
            source=source,
            data=_summary(plan, count=count),
        )
        threshold = company.plan_auto_approve_below
        if threshold is not None and total < threshold:
            _decide(plan, Status.ACTIVE, None, now, "auto")
        else:
            _tell_staff(plan, now)
    return plan


def _write_schedule(plan: PaymentPlan, schedule: list[tuple[date, Decimal]]) -> None:
    plan.instalments.all().delete()
    Instalment.objects.bulk_create(
        Instalment(plan=plan, number=n, due_date=day, amount=amount)
        for n, (day, amount) in enumerate(schedule, start=1)
    )


def _summary(plan: PaymentPlan, **data: Any) -> dict[str, Any]:
    """What every event of a plan says: which plan, for how much."""
    return {"plan": plan.pk, "total": f"{plan.total:f}", "currency": plan.currency, **data}


def _decide(plan: PaymentPlan, status: str, actor: Any, now: datetime, source: str) -> None:
    plan.status = status
    plan.decided_at = now
    plan.decided_by = actor if getattr(actor, "pk", None) else None
    plan.save(update_fields=["status", "decided_at", "decided_by", "note"])
    journal.record(
        f"payment_plan.{status}",
        plan,
        actor=actor,
        source=source,
        data=_summary(plan, note=plan.note),
    )


def approve(plan: PaymentPlan, *, actor: Any = None, now: datetime | None = None) -> None:
    if plan.status != Status.REQUESTED:
        raise PlanRefused(_("Only a plan asked for can be approved."))
    _decide(plan, Status.ACTIVE, actor, now or timezone.now(), "web")


def reject(plan: PaymentPlan, note: str, *, actor: Any = None, now: datetime | None = None) -> None:
    """The invoices return to dunning; the note says why (the customer reads it)."""
    if plan.status not in (Status.REQUESTED, Status.COUNTERED):
        raise PlanRefused(_("Only a plan asked for can be rejected."))
    plan.note = note.strip()
    _decide(plan, Status.REJECTED, actor, now or timezone.now(), "web")


def counter(
    plan: PaymentPlan,
    count: int,
    first: date,
    note: str,
    *,
    actor: Any = None,
    now: datetime | None = None,
) -> None:
    """Another schedule for the customer to accept on the portal."""
    now = now or timezone.now()
    if plan.status != Status.REQUESTED:
        raise PlanRefused(_("Only a plan asked for can be countered."))
    _check_schedule(plan.customer, count, first, hours.company_today(plan.company, now))
    try:
        schedule = split(plan.total, plan.currency, count, first)
    except ValueError as exc:
        raise PlanRefused(str(exc)) from None
    with transaction.atomic():
        _write_schedule(plan, schedule)
        plan.note = note.strip()
        _decide(plan, Status.COUNTERED, actor, now, "web")


def accept_counter(plan: PaymentPlan, *, now: datetime | None = None) -> None:
    """The customer accepts the schedule staff proposed (from the portal)."""
    if plan.status != Status.COUNTERED:
        raise PlanRefused(_("There is no proposal to accept."))
    plan.status = Status.ACTIVE
    plan.save(update_fields=["status"])
    journal.record("payment_plan.accepted", plan, source="portal", data=_summary(plan))


@dataclass(frozen=True)
class Progress:
    """Where a plan stands: how much of it is paid, and which instalments that meets."""

    paid: Decimal
    met: dict[int, bool]  # instalment number -> met


def progress(plan: PaymentPlan, on: date) -> Progress:
    """Paid = the plan's total minus what its invoices still owe; instalments are met in order."""
    ids = list(plan.invoices.values_list("external_id", flat=True))
    owed = sum((a for a, _c in _owed(plan.customer, on, ids).values()), Decimal(0))
    paid = max(plan.total - owed, Decimal(0))
    met, running = {}, Decimal(0)
    for instalment in plan.instalments.order_by("number"):
        running += instalment.amount
        met[instalment.number] = paid >= running
    return Progress(paid, met)


def run_daily(company: Any, today: date, now: datetime | None = None) -> dict[str, int]:
    """Reminders, missed-instalment notices, broken and completed plans of the company's day."""
    now = now or timezone.now()
    counts = {"reminders": 0, "missed": 0, "broken": 0, "completed": 0}
    for plan in PaymentPlan.objects.filter(company=company, status=Status.ACTIVE).select_related(
        "customer__company"
    ):
        state = progress(plan, today)
        if state.paid >= plan.total:
            plan.status, plan.ended_on = Status.COMPLETED, today
            plan.save(update_fields=["status", "ended_on"])
            journal.record("payment_plan.completed", plan, source="scheduler", data=_summary(plan))
            counts["completed"] += 1
            continue
        for instalment in plan.instalments.order_by("number"):
            if state.met[instalment.number]:
                continue
            late = (today - instalment.due_date).days
            if late > company.plan_grace_days:
                plan.status, plan.ended_on = Status.BROKEN, today
                plan.save(update_fields=["status", "ended_on"])
                journal.record(
                    "payment_plan.broken",
                    plan,
                    source="scheduler",
                    data=_summary(plan, instalment=instalment.number),
                )
                counts["broken"] += 1
                break
            if late >= 1:
                counts["missed"] += _notice(plan, instalment, "missed_instalment", today, now)
            elif -REMIND_DAYS <= late <= 0:
                counts["reminders"] += _notice(plan, instalment, "instalment_reminder", today, now)
    return counts


def _notice(
    plan: PaymentPlan, instalment: Instalment, template: str, today: date, now: datetime
) -> int:
    """One notice per instalment and kind, whatever runs twice (the key)."""
    key = f"{template}:{instalment.pk}"
    if OutboxMessage.objects.filter(key=key).exists():
        return 0
    customer = plan.customer
    language = customer.language
    money = formatting.money
    ids = set(plan.invoices.values_list("external_id", flat=True))
    items = snapshots.unpaid_of(customer.pk, today, ids)
    made = notices.queue(
        customer,
        template,
        key,
        today,
        now,
        {
            "instalment": {
                "number": instalment.number,
                "due_date": formatting.day(instalment.due_date, language),
                "amount": money(instalment.amount, plan.currency, language),
                "plan_total": money(plan.total, plan.currency, language),
            }
        },
        invoices=items,
    )
    return 1 if made else 0


def _tell_staff(plan: PaymentPlan, now: datetime) -> None:
    """The owner (or the company's address) hears of a plan to decide on."""
    customer = plan.customer
    address = (customer.owner.email if customer.owner else "") or customer.company.email
    if not address:
        return
    language = staff_language(customer.company)
    with translation.override(language):
        subject = _("%(customer)s asks for a payment plan") % {"customer": customer.name}
        lines = [
            _("%(customer)s (%(id)s) asks to pay %(total)s in %(n)s instalments:")
            % {
                "customer": customer.name,
                "id": customer.external_id,
                "total": formatting.money(plan.total, plan.currency, language),
                "n": plan.instalments.count(),
            },
            "",
        ]
        lines += [
            f"- {formatting.day(i.due_date, language)}: "
            f"{formatting.money(i.amount, plan.currency, language)}"
            for i in plan.instalments.order_by("number")
        ]
        lines += ["", _("Approve, counter-propose or reject it on the customer's page.")]
    notices.to_staff(
        customer.company,
        f"payment-plan-request:{plan.pk}",
        [address],
        subject,
        "\n".join(lines),
        now,
    )
