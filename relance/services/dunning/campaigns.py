"""Broadcasts: one message to every customer of a segment, outside any plan.

A campaign is sent in waves. Every customer of a wave gets one execution and one outbox message
under the key `campaign:<id>:wave:<n>:customer:<pk>`, so a wave launched twice (a double click, a
crash halfway, two schedulers) reaches nobody twice; sending again is an explicit new wave, to
everyone reached before or to those of them still in the segment. When the campaign counts as a
contact, its executions are customer-facing and the plans' minimum contact delay counts from them.
Messages are composed when delivered, like the plans' (services.dunning.messages).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from relance.documents import merge_pdfs
from relance.domain import engine, reasons
from relance.domain.errors import Refusal
from relance.domain.merge_fields import check_template
from relance.domain.money import Totals
from relance.domain.plans.model import AUTOMATIC_CHANNELS
from relance.messaging import library
from relance.models import (
    Campaign,
    Company,
    Customer,
    Execution,
    OutboxMessage,
    Payment,
    Plan,
    Wave,
)
from relance.services.dunning import delivery, messages, outbox, recipients, segments
from relance.services.dunning.plan_choice import plans_of
from relance.services.ledger import late_fees, snapshots
from relance.services.organisation import hours, journal

#: Who a campaign writes to: the billing contacts, with the plans' fallbacks when none is reachable.
RECIPIENTS = ["role:billing"]
BATCH = 500


class CampaignError(Refusal, ValueError):
    """The campaign or wave cannot be made as asked (the message says why)."""


def create(
    company: Company,
    name: str,
    criteria: dict[str, str],
    channel: str,
    *,
    template: str = "",
    plan: Plan | None = None,
    step_name: str = "",
    subject: str = "",
    body: str = "",
    counts_as_contact: bool = True,
    actor: Any = None,
) -> Campaign:
    """A campaign with exactly one text: its own body, a library template or a plan step's."""
    if channel not in AUTOMATIC_CHANNELS:
        raise CampaignError(f"channel '{channel}' cannot be broadcast (email, sms or letter)")
    if sum([bool(body.strip()), bool(template), plan is not None]) != 1:
        raise CampaignError(_("choose one text: a template, a plan step, or write a body"))
    if template and template not in library.templates():
        raise CampaignError(f"no template '{template}' in the library")
    campaign = Campaign(
        company=company,
        name=name.strip(),
        criteria={k: str(v) for k, v in criteria.items() if v},
        channel=channel,
        template=template,
        plan=plan,
        step_name=step_name,
        subject=subject.strip(),
        body=body,
        counts_as_contact=counts_as_contact,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    if not campaign.name:
        raise CampaignError(_("a campaign needs a name"))
    try:
        sources = messages.campaign_text(campaign, "en")
    except messages.RenderError as exc:  # a step not in the plan
        raise CampaignError(str(exc)) from None
    for source in sources:
        if problems := check_template(source):
            raise CampaignError(
                _("the text cannot be used: %(problem)s") % {"problem": problems[0]}
            )
    campaign.save()
    return campaign


def audience(campaign: Campaign, who: str, today: date) -> QuerySet[Customer]:
    """The customers a wave for `who` (Wave.Audience) would reach today."""
    company = Customer.objects.filter(company=campaign.company_id)
    segment = segments.matching(company, campaign.criteria, today)
    if who == Wave.Audience.SEGMENT:
        return segment
    reached = company.filter(executions__wave__campaign=campaign).distinct()
    if who == Wave.Audience.ALL:
        return reached
    return reached.filter(pk__in=segment.values("pk"))


def next_number(campaign: Campaign) -> int:
    return (campaign.waves.aggregate(n=Max("number"))["n"] or 0) + 1


def add_wave(
    campaign: Campaign,
    number: int,
    who: str,
    send_at: datetime | None = None,
    *,
    actor: Any = None,
    now: datetime | None = None,
) -> Wave:
    """Wave `number` (the one the person saw as next: a form posted twice makes one wave), sent
    at once or scheduled. The first wave goes to the segment; later ones to those reached."""
    now = now or timezone.now()
    if (number == 1) != (who == Wave.Audience.SEGMENT):
        raise CampaignError("the first wave goes to the segment, later ones to those reached")
    if number != next_number(campaign):
        raise CampaignError(_("wave %(n)s of this campaign already exists") % {"n": number})
    try:
        with transaction.atomic():
            wave = Wave.objects.create(
                campaign=campaign,
                number=number,
                audience=who,
                send_at=send_at or now,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        raise CampaignError(
            _("wave %(n)s of this campaign already exists") % {"n": number}
        ) from None
    if wave.send_at <= now:
        launch(wave, now)
    return wave


def cancel_wave(wave: Wave, actor: Any = None, now: datetime | None = None) -> int:
    """Stop a wave: a scheduled one is forgotten; a queued one keeps every message that has not
    left yet from leaving (compare-and-set on their state, as the outbox claims them), and
    those customers were not contacted after all, so the contact delay does not count from it.
    Messages already sent or in a print run stay on record. The number of messages stopped."""
    now = now or timezone.now()
    with transaction.atomic():
        if Wave.objects.filter(pk=wave.pk, sent_at=None).delete()[0]:
            return 0
        locked = (
            Wave.objects.select_for_update().select_related("campaign__company").get(pk=wave.pk)
        )
        waiting = OutboxMessage.objects.filter(
            execution__wave=locked, status__in=outbox.CANCELLABLE
        )
        stopped_ids = list(waiting.values_list("execution_id", flat=True))
        stopped = OutboxMessage.objects.filter(
            execution_id__in=stopped_ids, status__in=outbox.CANCELLABLE
        ).update(status=OutboxMessage.Status.CANCELLED, last_error="wave cancelled")
        if not stopped:
            raise CampaignError(_("wave %(n)s has already gone out") % {"n": wave.number})
        Execution.objects.filter(
            pk__in=OutboxMessage.objects.filter(
                execution_id__in=stopped_ids, status=OutboxMessage.Status.CANCELLED
            ).values("execution_id")
        ).update(customer_facing=False)
        locked.cancelled_at, locked.cancelled = now, locked.cancelled + stopped
        locked.cancelled_by = actor if getattr(actor, "pk", None) else None
        locked.save(update_fields=["cancelled_at", "cancelled", "cancelled_by"])
        campaign = locked.campaign
        journal.record(
            "campaign.cancelled",
            campaign.company,
            actor=actor,
            source="web",
            data={
                "campaign": campaign.pk,
                "name": campaign.name,
                "wave": locked.number,
                "cancelled": stopped,
            },
        )
    return stopped


def launch_due(now: datetime | None = None) -> int:
    """Launch every scheduled wave whose time has come; the number launched."""
    now = now or timezone.now()
    due = Wave.objects.filter(sent_at=None, send_at__lte=now).select_related("campaign__company")
    launched = 0
    for wave in due:
        launched += launch(wave, now)
    return launched


def launch(wave: Wave, now: datetime | None = None) -> int:
    """Queue the wave's messages: one execution and one outbox message per customer reached.

    The wave is locked and marked sent in the same transaction, so two launchers cannot both do
    it; the keys would refuse the second anyway. Returns 1 when this call launched it."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Wave.objects.select_for_update().filter(pk=wave.pk, sent_at=None).first()
        if locked is None:
            return 0
        campaign = Campaign.objects.select_related("company").get(pk=locked.campaign_id)
        today = hours.company_today(campaign.company, now)
        ids = list(
            audience(campaign, locked.audience, today).order_by("pk").values_list("pk", flat=True)
        )
        reached = unreachable = waiting = 0
        for start in range(0, len(ids), BATCH):
            done, missed, held = _queue(campaign, locked, ids[start : start + BATCH], today, now)
            reached += done
            unreachable += missed
            waiting += held
        locked.sent_at = now
        locked.reached = reached
        locked.unreachable = unreachable
        locked.waiting = waiting
        locked.save(update_fields=["sent_at", "reached", "unreachable", "waiting"])
        journal.record(
            "campaign.sent",
            campaign.company,
            actor=locked.created_by,
            source="campaign",
            data={
                "campaign": campaign.pk,
                "name": campaign.name,
                "wave": locked.number,
                "reached": reached,
                "unreachable": unreachable,
                "waiting": waiting,
            },
        )
    wave.sent_at, wave.reached, wave.unreachable = now, reached, unreachable
    wave.waiting = waiting
    return 1


@dataclass
class Chosen:
    """One customer of a wave as the wave would treat it: the addresses it goes to (none: no
    address on the channel), or the day the contact delay lets it through (`waits_until`)."""

    snap: snapshots.CustomerSnapshot
    to: list[str]
    last_contact: date | None = None
    waits_until: date | None = None


def _chosen(campaign: Campaign, ids: list[int], today: date) -> list[Chosen]:
    """The wave's treatment of these customers. A campaign that counts as a contact respects
    each customer's minimum contact delay (that of the plan they are dunned under) and never
    writes twice the same day, whatever wrote before: a plan step, a manual message or an
    earlier wave of this campaign or another."""
    plans = snapshots.PlanCache()
    debtors = snapshots.debtors(ids)
    history = plans.max_delay() + 1 if campaign.counts_as_contact else 0
    snaps = snapshots.load(debtors, today, history_days=history)
    chosen_plans = plans_of(snaps, plans, today) if campaign.counts_as_contact else {}
    found = []
    for snap in snaps:
        item = Chosen(snap, recipients.reachable(RECIPIENTS, snap, campaign.channel))
        if campaign.counts_as_contact:
            item.last_contact = engine.last_contact(snap.account, snap.history)
            plan = chosen_plans.get(snap.customer.pk)
            delay = plans.get(plan)[1].min_contact_delay_days if plan else 0
            if item.last_contact is not None:
                allowed = item.last_contact + timedelta(days=max(delay, 1))
                if allowed > today:
                    item.waits_until = allowed
        found.append(item)
    return found


def _queue(
    campaign: Campaign, wave: Wave, ids: list[int], today: date, now: datetime
) -> tuple[int, int, int]:
    """One batch of the wave: (customers queued, customers with no address on the channel,
    customers waiting for the contact delay)."""
    executions: list[Execution] = []
    queued: dict[str, dict[str, Any]] = {}
    missed = waiting = 0
    for item in _chosen(campaign, ids, today):
        snap, to = item.snap, item.to
        customer = snap.customer
        if item.waits_until is not None:
            waiting += 1
            continue
        if not to:
            missed += 1
            continue
        owed = snapshots.unpaid(snap.account.items)
        key = f"campaign:{campaign.pk}:wave:{wave.number}:customer:{customer.pk}"
        why = reasons.reason(reasons.CAMPAIGN_WAVE, campaign=campaign.name, wave=wave.number)
        executions.append(
            Execution(
                key=key,
                company_id=campaign.company_id,
                customer_id=customer.pk,
                plan_code="",
                step_name=campaign.name,
                date=today,
                status=Execution.Status.EXECUTED,
                reason=str(why),
                reason_data=why.as_json(),
                channel=campaign.channel,
                mode="auto",
                customer_facing=campaign.counts_as_contact,
                invoices=[i.id for i in owed],
                totals=Totals.of((i.amount_due, i.currency) for i in owed).as_json(),
                wave=wave,
                created_at=now,
            )
        )
        queued[key] = {
            "company_id": campaign.company_id,
            "customer_id": customer.pk,
            "channel": campaign.channel,
            "to": to,
            "invoice_ids": [snap.invoice_pks[i.id] for i in owed if i.id in snap.invoice_pks],
            "created_at": now,
            "next_attempt_at": hours.first_send(campaign.company, customer.time_zone, today, now),
        }
    Execution.objects.bulk_create(executions, ignore_conflicts=True)
    written = dict(
        Execution.objects.filter(key__in=list(queued), wave=wave).values_list("key", "pk")
    )
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(key=key, execution_id=pk, **queued[key]) for key, pk in written.items()],
        ignore_conflicts=True,
    )
    return len(written), missed, waiting


@dataclass
class Forecast:
    """What a wave would do if it left now: the person confirms these numbers before it does."""

    customers: int = 0  # in the wave's audience
    messages: int = 0  # customers it would write to
    unreachable: int = 0  # no address on the channel
    waiting: int = 0  # contacted too recently: left out
    waiting_sample: list[Chosen] = field(default_factory=list)


def forecast(campaign: Campaign, who: str, today: date, sample: int = 20) -> Forecast:
    """The wave for `who` as it would leave today, without writing anything."""
    ids = list(audience(campaign, who, today).order_by("pk").values_list("pk", flat=True))
    found = Forecast(customers=len(ids))
    for start in range(0, len(ids), BATCH):
        for item in _chosen(campaign, ids[start : start + BATCH], today):
            if item.waits_until is not None:
                found.waiting += 1
                if len(found.waiting_sample) < sample:
                    found.waiting_sample.append(item)
            elif item.to:
                found.messages += 1
            else:
                found.unreachable += 1
    return found


@dataclass
class Preview:
    """Who the first wave would reach today and what the first of them would read."""

    count: int
    customers: list[Customer]
    subject: str = ""
    body: str = ""
    problem: str = ""


def preview(campaign: Campaign, today: date, limit: int = 10) -> Preview:
    """The segment's size, its first customers by name, and the message to the first of them,
    composed as at delivery (the campaign need not be saved)."""
    segment = audience(campaign, Wave.Audience.SEGMENT, today)
    found = Preview(segment.count(), list(segment.order_by("name", "pk")[:limit]))
    if not found.customers:
        return found
    [debtor] = snapshots.debtors([found.customers[0].pk])
    [snap] = snapshots.load([debtor], today, history_days=0)
    owed = snapshots.unpaid(snap.account.items)
    values = messages.context(
        campaign.company,
        debtor,
        next(iter(owed), None),
        owed,
        today,
        rates=late_fees.rate_table(),
        contact=snap.contacts[0] if snap.contacts else None,
    )
    try:
        found.subject, found.body = messages.render_texts(
            messages.campaign_text(campaign, debtor.language), values
        )
    except messages.RenderError as exc:
        found.problem = str(exc)
    return found


def printed_letters(campaign: Campaign, today: date, count: int = 3) -> bytes:
    """The letters the first `count` customers of the segment (by name) would receive, merged
    as a print run holds them, so the wording is read on the page it will be printed on before
    anything is sent. Queued, composed and laid out by the wave's, the outbox's and the letter
    channel's own code, in a transaction rolled back: nothing is kept. The contact delay is not
    applied here: the preview shows the letter, not who would wait."""
    if campaign.channel != "letter":
        raise CampaignError(_("only a campaign by letter has letters to preview"))
    now = timezone.now()
    ids = list(
        audience(campaign, Wave.Audience.SEGMENT, today)
        .order_by("name", "pk")
        .values_list("pk", flat=True)[: count * 4]
    )
    shown = copy.copy(campaign)
    shown.counts_as_contact = False
    pdfs: list[bytes] = []
    problem = ""
    with transaction.atomic():
        wave = Wave.objects.create(
            campaign=campaign,
            number=next_number(campaign),
            audience=Wave.Audience.SEGMENT,
            send_at=now,
        )
        _queue(shown, wave, ids, today, now)
        queued = list(
            OutboxMessage.objects.filter(execution__wave=wave)
            .select_related("customer__company")
            .order_by("customer__name", "pk")
        )
        texts = messages.compose(queued, today)
        for message in queued:
            text = texts[message.pk]
            if text.problem:
                problem = problem or text.problem
                continue
            message.subject, message.body = text.subject, text.body
            letter = delivery.compose(message, text).letter
            if letter:
                pdfs.append(letter)
            if len(pdfs) == count:
                break
        transaction.set_rollback(True)
    if not pdfs:
        raise CampaignError(
            problem
            or _(
                "none of the segment's first customers can be sent a letter: a letter needs "
                "a postal address and a contact to address it to"
            )
        )
    return merge_pdfs(pdfs)


@dataclass
class WaveResult:
    """What one wave did: messages by state, what its customers owed then, paid since."""

    wave: Wave
    messages: dict[str, int] = field(default_factory=dict)
    owed: dict[str, Decimal] = field(default_factory=dict)
    paid_since: dict[str, Decimal] = field(default_factory=dict)
    paying_customers: int = 0


def results(campaign: Campaign) -> list[WaveResult]:
    """Per wave, set-based: outbox states, amounts owed when it left, payments received since."""
    found = []
    for wave in campaign.waves.order_by("number"):
        result = WaveResult(wave)
        if wave.sent_at is None:
            found.append(result)
            continue
        executions = Execution.objects.filter(wave=wave)
        result.messages = dict(
            OutboxMessage.objects.filter(execution__wave=wave)
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        owed: dict[str, Decimal] = defaultdict(Decimal)
        for totals in executions.values_list("totals", flat=True):
            for currency, amount in (totals or {}).items():
                owed[currency] += Decimal(amount)
        result.owed = dict(owed)
        payments = Payment.objects.filter(
            customer__in=executions.values("customer"), date__gte=wave.sent_at.date()
        )
        result.paid_since = dict(
            payments.values_list("currency").annotate(s=Sum("amount")).values_list("currency", "s")
        )
        result.paying_customers = payments.values("customer").order_by().distinct().count()
        found.append(result)
    return found
