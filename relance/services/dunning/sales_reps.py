"""What sales reps see and do: their customers' unpaid invoices, a weekly digest, a heads-up
before the steps a plan marks (`notify_sales_rep_days_before`), and one-click signed links to
hold a customer 7 days, flag a dispute or record a promise without logging in.

A link names one rep, one customer and one action, is signed (Django's signing, salted) and
expires after LINK_DAYS; it works only while that person is still the customer's sales rep, an
active user and a member of the customer's company. The messages go through the outbox like
any other, to staff (no customer), under keys that make them weekly (`digest:…:<ISO week>`) or
once per step and invoice (`heads-up:…`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relance.domain.errors import Forbidden
from relance.domain.money import Totals
from relance.messaging import formatting
from relance.messaging.reasons import written
from relance.models import (
    Company,
    Customer,
    Dispute,
    Event,
    ForecastEntry,
    Invoice,
    Membership,
    OutboxMessage,
    Promise,
)
from relance.services.dialogue import pauses
from relance.services.ledger import snapshots
from relance.services.ledger.snapshots import PlanCache
from relance.services.organisation import hours, journal
from relance.services.organisation.language import staff_language

SALT = "relance.sales-rep-link"
LINK_DAYS = 14
HOLD_DAYS = 7
HOLD, DISPUTE, PROMISE = "hold", "dispute", "promise"
ACTIONS = (HOLD, DISPUTE, PROMISE)
PATH = "/rep/{token}/"  # relance.web.urls serves it


class LinkRefused(Forbidden, ValueError):
    """The link cannot be used (tampered, expired, or its rep no longer has the customer)."""


@dataclass(frozen=True)
class Grant:
    """What a valid link allows: this rep, acting on this customer, this way."""

    user: Any
    customer: Customer
    action: str


def token(user: Any, customer: Customer, action: str) -> str:
    if action not in ACTIONS:
        raise ValueError(f"no sales rep action '{action}'")
    return signing.dumps({"u": user.pk, "c": customer.pk, "a": action}, salt=SALT, compress=True)


def link(user: Any, customer: Customer, action: str) -> str:
    """The full address to put in an email (settings.RELANCE_BASE_URL)."""
    return settings.RELANCE_BASE_URL.rstrip("/") + PATH.format(token=token(user, customer, action))


def read(value: str) -> Grant:
    """The grant a link carries, or LinkRefused saying why in words a person understands."""
    try:
        data = signing.loads(value, salt=SALT, max_age=timedelta(days=LINK_DAYS))
    except signing.SignatureExpired:
        raise LinkRefused(
            _("This link has expired: links work for %(days)s days.") % {"days": LINK_DAYS}
        ) from None
    except signing.BadSignature:
        raise LinkRefused(_("This link is not valid.")) from None
    customer = (
        Customer.objects.select_related("company", "sales_rep").filter(pk=data.get("c")).first()
    )
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    if (
        customer is None
        or user is None
        or customer.sales_rep_id != user.pk
        or not _may_act(user.pk, customer.company_id)  # left the company, or made read-only
    ):
        raise LinkRefused(_("This link no longer works: you are not this customer's sales rep."))
    if data.get("a") not in ACTIONS:
        raise LinkRefused(_("This link is not valid."))
    return Grant(user, customer, data["a"])


def _may_act(user_id: int, company_id: int) -> bool:
    """Still in the company, in a role that may hold, dispute or promise (not read-only)."""
    return (
        Membership.objects.filter(user_id=user_id, company_id=company_id)
        .exclude(role=Membership.Role.READ_ONLY)
        .exists()
    )


def act(
    grant: Grant, today: date, *, invoices: Sequence[Invoice], pay_by: date | None, reason: str
) -> str:
    """Do what the link allows, as its rep (source `sales_rep_link`) on the customer's
    `invoices`; returns what was done. dialogue.Refused says why not (an invoice already
    disputed, a date in the past…)."""
    customer, rep = grant.customer, grant.user
    who = {"source": "sales_rep_link", "actor": rep}
    if grant.action == HOLD:
        until = today + timedelta(days=HOLD_DAYS)
        pauses.hold(customer, until, **who)
        return _("Dunning of %(customer)s is paused until %(day)s.") % {
            "customer": customer.name,
            "day": formatting.day(until, translation.get_language() or "en"),
        }
    if not invoices:
        raise pauses.Refused(_("Choose at least one invoice."))
    if grant.action == DISPUTE:
        with transaction.atomic():
            for invoice in invoices:
                pauses.open_dispute(invoice, today, reason=reason, **who)
        return _("Dispute flagged: the invoices leave dunning until it is resolved.")
    if pay_by is None:
        raise pauses.Refused(_("Give the date the customer promised to pay by."))
    pauses.add_promise(customer, invoices, pay_by, today, **who)
    return _("Promise recorded: dunning of these invoices waits until %(day)s.") % {
        "day": formatting.day(pay_by, translation.get_language() or "en")
    }


@dataclass
class Unpaid:
    """One customer's unpaid invoices, as a rep reads them."""

    customer: Customer
    invoices: list[dict[str, Any]] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)
    next_step: ForecastEntry | None = None
    on_hold: bool = False
    disputed: set[str] = field(default_factory=set)
    promised: set[str] = field(default_factory=set)


def unpaid(customers: list[Customer], today: date) -> list[Unpaid]:
    """Unpaid invoices of these customers (oldest due first), with what stops dunning them and
    the next step the forecast holds; customers who owe nothing are left out."""
    found: dict[int, Unpaid] = {
        c.pk: Unpaid(c, on_hold=bool(c.hold_until and c.hold_until >= today)) for c in customers
    }
    for pk, customer, ext, number, _issued, due, currency, amount, total in snapshots.amounts_due(
        sorted(found), today
    ):
        if customer not in found:
            continue
        entry = found[customer]
        entry.invoices.append(
            {
                "pk": pk,
                "id": ext,
                "number": number,
                "due_date": due if isinstance(due, date) else date.fromisoformat(str(due)),
                "currency": currency,
                "amount_due": snapshots.as_decimal(amount),
                "total": snapshots.as_decimal(total),
            }
        )
    for entry in found.values():
        entry.invoices.sort(key=lambda i: (i["due_date"], i["number"]))
        for invoice in entry.invoices:
            invoice["days_late"] = max((today - invoice["due_date"]).days, 0)
        entry.totals = Totals.of((i["amount_due"], i["currency"]) for i in entry.invoices)
    for customer, ext in Dispute.objects.filter(
        customer_id__in=list(found), resolved_on=None
    ).values_list("customer_id", "invoice__external_id"):
        found[customer].disputed.add(ext)
    for customer, ext in Promise.objects.filter(
        customer_id__in=list(found), status=Promise.Status.OPEN
    ).values_list("customer_id", "invoices__external_id"):
        found[customer].promised.add(ext)
    for entry_row in ForecastEntry.objects.filter(
        customer_id__in=list(found), day__gte=today
    ).order_by("customer_id", "day", "step_index"):
        if found[entry_row.customer_id].next_step is None:
            found[entry_row.customer_id].next_step = entry_row
    owing = [u for u in found.values() if u.invoices]
    return sorted(owing, key=lambda u: (u.invoices[0]["due_date"], u.customer.name))


def _reps(company: Company) -> list[Any]:
    """People who are the sales rep of at least one of the company's customers and have an
    address: members with the sales rep role or not (an owner may also sell); someone who left
    the company or was deactivated gets nothing (their links would not work anyway)."""
    ids = Customer.objects.filter(company=company, sales_rep__isnull=False).values("sales_rep")
    members = Membership.objects.filter(company=company).values("user")
    return list(
        get_user_model()
        .objects.filter(pk__in=ids, is_active=True)
        .filter(pk__in=members)
        .exclude(email="")
        .order_by("pk")
    )


def _actions(rep: Any, customer: Customer) -> str:
    return "\n".join(
        f"  {label}: {link(rep, customer, action)}"
        for action, label in (
            (HOLD, _("Hold %(days)s days") % {"days": HOLD_DAYS}),
            (DISPUTE, _("Flag a dispute")),
            (PROMISE, _("Record a promise")),
        )
    )


def digest_text(rep: Any, company: Company, today: date) -> tuple[str, str] | None:
    """(subject, body) of a rep's weekly digest, or None when their customers owe nothing."""
    language = staff_language(company)
    customers = list(Customer.objects.filter(company=company, sales_rep=rep).order_by("name"))
    owing = unpaid(customers, today)
    if not owing:
        return None
    with translation.override(language):
        overdue = Totals.of(
            (i["amount_due"], i["currency"])
            for u in owing
            for i in u.invoices
            if i["days_late"] > 0
        )
        lines = [
            _("Hello %(name)s,") % {"name": rep.first_name or rep.get_username()},
            "",
            _("Your customers at %(company)s owe %(owed)s, of which %(overdue)s is overdue.")
            % {
                "company": company.name,
                "owed": formatting.amounts(
                    Totals.of((i["amount_due"], i["currency"]) for u in owing for i in u.invoices),
                    language,
                ),
                "overdue": formatting.amounts(overdue, language) or "0",
            },
            "",
        ]
        for entry in owing:
            who = f"{entry.customer.name} ({entry.customer.external_id})"
            lines.append(f"{who}: {formatting.amounts(entry.totals, language)}")
            for invoice in entry.invoices:
                late = (
                    _("%(n)s days late") % {"n": invoice["days_late"]}
                    if invoice["days_late"]
                    else _("due %(day)s") % {"day": formatting.day(invoice["due_date"], language)}
                )
                amount = formatting.money(invoice["amount_due"], invoice["currency"], language)
                lines.append(f"  - {invoice['number']}: {amount}, {late}")
            if entry.next_step is not None:
                lines.append(
                    "  "
                    + _("Next: %(step)s on %(day)s")
                    % {
                        "step": entry.next_step.step,
                        "day": formatting.day(entry.next_step.day, language),
                    }
                )
            lines.append(_actions(rep, entry.customer))
            lines.append("")
        subject = _("%(company)s: your customers' unpaid invoices, week %(week)s") % {
            "company": company.name,
            "week": today.isocalendar().week,
        }
    return subject, "\n".join(lines).rstrip() + "\n"


def queue_digests(company: Company, today: date, now: datetime | None = None) -> int:
    """Queue this week's digest of every rep of the company (once a week whatever runs twice:
    the key holds the ISO week). Returns how many were new."""
    now = now or timezone.now()
    year, week, _day = today.isocalendar()
    queued = []
    for rep in _reps(company):
        key = f"digest:{company.pk}:{rep.pk}:{year}-W{week:02d}"
        if OutboxMessage.objects.filter(key=key).exists():
            continue
        text = digest_text(rep, company, today)
        if text is None:
            continue
        queued.append(_to_staff(company, key, rep, text, now))
    return len(OutboxMessage.objects.bulk_create(queued, ignore_conflicts=True))


def _to_staff(
    company: Company, key: str, rep: Any, text: tuple[str, str], now: datetime
) -> OutboxMessage:
    subject, body = text
    return OutboxMessage(
        key=key,
        company=company,
        customer=None,
        channel="email",
        to=[rep.email],
        subject=subject,
        body=body,
        created_at=now,
        next_attempt_at=hours.first_send(
            company, company.time_zone, hours.company_today(company, now), now
        ),
    )


def queue_heads_ups(company: Company, today: date, now: datetime | None = None) -> int:
    """Tell sales reps of the steps coming within their step's `notify_sales_rep_days_before`,
    read from the stored forecast (services.dunning.calendar): once per customer, step and invoice.
    Returns how many were queued."""
    now = now or timezone.now()
    notice = _notice_days(company)
    if not notice:
        return 0
    language = staff_language(company)
    horizon = today + timedelta(days=max(notice.values()))
    entries = (
        ForecastEntry.objects.filter(company=company, day__gte=today, day__lte=horizon)
        .filter(Q(customer__sales_rep__isnull=False) & ~Q(customer__sales_rep__email=""))
        .filter(
            customer__sales_rep__is_active=True,
            customer__sales_rep__in=Membership.objects.filter(company=company).values("user"),
        )
        .select_related("customer__sales_rep")
        .order_by("day", "pk")
    )
    queued: list[OutboxMessage] = []
    events: list[Event] = []
    for entry in entries:
        days = notice.get((entry.plan_code, entry.step))
        if days is None or (entry.day - today).days > days:
            continue
        customer = entry.customer
        rep: Any = customer.sales_rep
        key = f"heads-up:{customer.pk}:{entry.plan_code}:{entry.step}:{entry.reference}"
        if OutboxMessage.objects.filter(key=key).exists():
            continue
        with translation.override(language):
            subject = _("%(customer)s: %(step)s on %(day)s") % {
                "customer": customer.name,
                "step": entry.step,
                "day": formatting.day(entry.day, language),
            }
            body = "\n".join(
                [
                    _("Hello %(name)s,") % {"name": rep.first_name or rep.get_username()},
                    "",
                    _(
                        "On %(day)s, the %(plan)s plan will do its step %(step)s (%(channel)s) "
                        "for %(customer)s, about invoice %(invoice)s."
                    )
                    % {
                        "day": formatting.day(entry.day, language),
                        "plan": entry.plan_code,
                        "step": entry.step,
                        "channel": entry.channel,
                        "customer": f"{customer.name} ({customer.external_id})",
                        "invoice": entry.reference,
                    },
                    _("Why: %(reason)s")
                    % {"reason": written(entry.reason, language, entry.reason_data)},
                    "",
                    _("If you know something the credit team should, one click is enough:"),
                    _actions(rep, customer),
                ]
            )
        queued.append(_to_staff(company, key, rep, (subject, body + "\n"), now))
        events.append(
            journal.entry(
                "sales_rep.notified",
                customer,
                source="scheduler",
                data={
                    "rep": rep.email,
                    "step": entry.step,
                    "day": entry.day.isoformat(),
                    "invoice": entry.reference,
                },
            )
        )
    with transaction.atomic():
        made = OutboxMessage.objects.bulk_create(queued, ignore_conflicts=True)
        journal.record_many(events)
    return len(made)


def _notice_days(company: Company) -> dict[tuple[str, str], int]:
    """(plan code, step name) -> days of notice, for the steps of the company's plans that ask
    for a heads-up."""
    plans = PlanCache()
    found = {}
    for (company_id, code), pk in plans.codes.items():
        if company_id != company.pk:
            continue
        _row, plan, _steps = plans.get(pk)
        for step in plan.steps:
            if step.notify_sales_rep_days_before:
                found[(code, step.name)] = step.notify_sales_rep_days_before
    return found


def run_daily(company: Company, today: date, now: datetime | None = None) -> dict[str, int]:
    """The tick's part: heads-ups due today and this week's digests."""
    return {
        "heads_ups": queue_heads_ups(company, today, now),
        "digests": queue_digests(company, today, now),
    }
