"""The daily dunning cycle: snapshot a batch of customers, ask the engine, write what it decided.

One transaction per batch holds the executions, outbox messages, action items and timeline events
of that batch together. Before reading history the batch's customers are locked (PostgreSQL:
`FOR NO KEY UPDATE`, waited for in primary-key order; SQLite: the write lock an IMMEDIATE
transaction takes), and every execution carries a unique key inserted with ON CONFLICT DO NOTHING:
a second run, a second worker or a resumed crash can only find the work done and create nothing.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, cached_property
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from relance.domain import assignment, engine, law, priority
from relance.domain.errors import Refusal
from relance.domain.money import Money, Totals
from relance.domain.plans.model import AUTOMATIC_CHANNELS, CALL, SMS, Step, variant_for
from relance.messaging import formatting
from relance.models import (
    ActionItem,
    Alias,
    Company,
    Execution,
    OutboxMessage,
    Plan,
    Promise,
)
from relance.services.dunning import messages, triage
from relance.services.dunning import plans as plan_service
from relance.services.ledger import late_fees, snapshots
from relance.services.organisation import hours, journal
from relance.services.sql import Inserter


@dataclass
class CycleReport:
    """What one run created (DESIGN §4 `relance run --json`)."""

    date: date
    actions: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: CycleReport) -> None:
        self.actions += other.actions
        self.skipped += other.skipped

    def as_json(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "actions": self.actions, "skipped": self.skipped}


def _addresses(entries: Iterable[str], snap: snapshots.CustomerSnapshot, channel: str) -> list[str]:
    """Recipients of one step for one customer: contacts by role, the owner, the rep, addresses."""
    customer = snap.customer
    found: list[str] = []
    for entry in entries:
        if entry.startswith("role:"):
            role = entry.removeprefix("role:")
            found += [_reach(c, channel) for c in snap.contacts if role in c.roles]
        elif entry == "owner":
            found.append(customer.owner.email if customer.owner else "")
        elif entry == "sales_rep":
            found.append(customer.sales_rep.email if customer.sales_rep else "")
        else:
            found.append(entry)
    return list(dict.fromkeys(a for a in found if a))


def _reach(contact: Any, channel: str) -> str:
    if contact.bounced and channel == "email":
        return ""
    return contact.phone if channel == "sms" else contact.email


def _promised(promise: Any, language: str) -> dict[str, str]:
    """A promise's merge fields for its missed-payment notice (the date formatted at delivery)."""
    amount = ""
    if promise.amount is not None and promise.currency:
        amount = formatting.money(promise.amount, promise.currency, language)
    return {"pay_by": promise.pay_by.isoformat(), "amount": amount}


def recipients(step: Step, snap: snapshots.CustomerSnapshot) -> list[str]:
    """The step's recipients (see `reachable`)."""
    return reachable(step.recipients, snap, step.channel)


def reachable(entries: Sequence[str], snap: snapshots.CustomerSnapshot, channel: str) -> list[str]:
    """Addresses of these recipients, falling back to primary then any reachable contact when the
    roles named have nobody reachable (a bounced billing address must not silence the plan). A
    letter is addressed to these contacts at the customer's postal address."""
    found = _addresses(entries, snap, channel)
    if found or not any(r.startswith("role:") for r in entries):
        return found
    for fallback in (["role:primary"], [f"role:{r}" for r in ("billing", "escalation", "legal")]):
        if found := _addresses(fallback, snap, channel):
            return found
    return list(dict.fromkeys(a for c in snap.contacts if (a := _reach(c, channel))))


class _Owners:
    """Resolves `owners` entries (owner, sales_rep, group:NAME, a user's or alias's address)."""

    def __init__(self) -> None:
        self.loaded = False

    def _load(self) -> None:
        """Only batches with manual work need these lookups; most reruns have none."""
        self.users = {
            email.lower(): pk
            for pk, email in get_user_model().objects.exclude(email="").values_list("pk", "email")
        }
        self.groups = dict(Group.objects.values_list("name", "pk"))
        self.aliases = {
            (c, e.lower()): pk
            for pk, c, e in Alias.objects.values_list("pk", "company_id", "email")
        }
        self.loaded = True

    def resolve(
        self, entries: Iterable[str], customer: snapshots.Debtor
    ) -> tuple[set[int], set[int], set[int]]:
        if not self.loaded:
            self._load()
        users: set[int] = set()
        groups: set[int] = set()
        aliases: set[int] = set()
        for entry in entries:
            if entry == "owner" and customer.owner_id:
                users.add(customer.owner_id)
            elif entry == "sales_rep" and customer.sales_rep_id:
                users.add(customer.sales_rep_id)
            elif entry.startswith("group:") and entry[6:] in self.groups:
                groups.add(self.groups[entry[6:]])
            elif (customer.company_id, entry.lower()) in self.aliases:
                aliases.add(self.aliases[(customer.company_id, entry.lower())])
            elif entry.lower() in self.users:
                users.add(self.users[entry.lower()])
        if not (users or groups or aliases) and customer.owner_id:
            users.add(customer.owner_id)  # work nobody owns is work nobody does
        return users, groups, aliases


_MISSING = {SMS: "no contact has a mobile number"}


def _nobody_to_reach(snap: snapshots.CustomerSnapshot, step: Step, action: engine.Action) -> str:
    """What the owner needs to act on a step nobody could receive: no template is rendered, as
    a ledger without addresses or contacts would otherwise cost a full message per customer."""
    language = snap.customer.language
    missing = _MISSING.get(step.channel, "no contact has an email address that has not bounced")
    owed = "\n".join(
        f"- {i.number}: {formatting.money(i.amount_due, i.currency, language)}"
        for i in action.invoices
    )
    return (
        f"'{step.name}' could not go out: {missing}. Complete the customer's details, or send "
        f"it yourself (relance preview shows its text).\n\nInvoices:\n{owed}"
    )


Owners = tuple[set[int], set[int], set[int]]  # users, groups, aliases an action item goes to


@cache
def _inserter(model: type[Model]) -> Inserter:
    return Inserter(model)


@dataclass
class Batch:
    """One batch's decisions as rows to insert. Executions and messages come as values ready
    for the database (`Inserter.prepare`): whoever composes them does that work, so that the
    one process writing for several (services/dunning/workers) only inserts."""

    report: CycleReport
    executions: list[list[Any]] = field(default_factory=list)
    messages: list[list[Any]] = field(default_factory=list)  # execution_id to be filled in
    items: list[tuple[dict[str, Any], Owners]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    skip_keys: list[str] = field(default_factory=list)  # parallel to report.skipped
    broken_promises: list[int] = field(default_factory=list)
    kept_promises: list[int] = field(default_factory=list)


class _Composer:
    """Turns one batch's decisions into rows (`batch()`); `write` inserts them."""

    def __init__(self, day: date, run_id: int | None, owners: _Owners) -> None:
        self.day = day
        self.run_id = run_id
        self.owners = owners
        self.now = timezone.now()
        self.executions: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.done = Batch(CycleReport(day))
        self.send_times: dict[tuple[int, str], datetime] = {}

    def batch(self) -> Batch:
        self.done.executions = _inserter(Execution).prepare(self.executions)
        self.done.messages = _inserter(OutboxMessage).prepare(self.messages)
        return self.done

    @cached_property
    def companies(self) -> dict[int, Company]:
        """For the texts of manual items; most batches have none."""
        return Company.objects.in_bulk()

    def _first_send(self, customer: snapshots.Debtor) -> datetime:
        """Business hours in the recipient's zone: the engine decides the day, the outbox the
        hour (services.organisation.hours). The same for every customer of a company in one zone."""
        zone = (customer.company_id, customer.time_zone)
        found = self.send_times.get(zone)
        if found is None:
            company = self.companies[customer.company_id]
            found = self.send_times[zone] = hours.first_send(
                company, customer.time_zone, self.day, self.now
            )
        return found

    @cached_property
    def rates(self) -> law.RateTable:
        return late_fees.rate_table()

    def _text(
        self, snap: snapshots.CustomerSnapshot, step: Step, action: engine.Action
    ) -> tuple[str, str]:
        """The subject and body a person reads in the inbox (call script, task, message to
        approve), in the customer's language; a failing template says so instead."""
        customer = snap.customer
        try:
            values = messages.context(
                self.companies[customer.company_id],
                customer,
                action.reference,
                action.invoices,
                self.day,
                rates=self.rates,
                contact=snap.contacts[0] if snap.contacts else None,
            )
            return messages.render_texts(messages.step_text(step, customer.language), values)
        except messages.RenderError as exc:
            problem = f"Could not render the message ({exc}); check the plan."
            return step.subject, f"{problem}\n\n{step.body}".strip()

    def _execution(self, snap: snapshots.CustomerSnapshot, **values: Any) -> dict[str, Any]:
        row = {
            "company_id": snap.customer.company_id,
            "customer_id": snap.customer.pk,
            "date": self.day,
            "run_id": self.run_id,
            "created_at": self.now,
            **values,
        }
        self.executions.append(row)
        return row

    def _event(
        self, snap: snapshots.CustomerSnapshot, kind: str, invoice: int | None, data: dict[str, Any]
    ) -> None:
        self.done.events.append(
            journal.row(
                kind, snap.customer, invoice_id=invoice, source="cycle", data=data, at=self.now
            )
        )

    def skipped(
        self, snap: snapshots.CustomerSnapshot, skips: tuple[engine.Skip, ...], key: str
    ) -> None:
        """Superseded steps are reported, and recorded on the execution (`key`) that superseded
        them, so they stand or fall with it."""
        self.done.skip_keys += [key] * len(skips)
        self.done.report.skipped += [
            {
                "customer": snap.customer.external_id,
                "step": skip.step,
                "step_index": skip.step_index,
                "reference_invoice": skip.reference,
                "reason": skip.reason,
            }
            for skip in skips
        ]

    def act(
        self,
        snap: snapshots.CustomerSnapshot,
        plan_pk: int,
        plan_code: str,
        steps: dict[str, int],
        action: engine.Action,
        superseded: tuple[engine.Skip, ...],
    ) -> None:
        step = action.step
        customer = snap.customer
        reference = snap.invoice_pks.get(action.reference.id)
        invoice_pks = [snap.invoice_pks[i.id] for i in action.invoices if i.id in snap.invoice_pks]
        to = recipients(step, snap) if step.is_customer_facing else []
        cc = _addresses(step.cc, snap, step.channel) if step.is_customer_facing and step.cc else []
        invoices = [i.id for i in action.invoices]
        totals = action.totals_json()
        self._execution(
            snap,
            key=action.key,
            plan_id=plan_pk,
            plan_code=plan_code,
            step_id=steps.get(step.name),
            step_name=step.name,
            step_index=action.step_index,
            variant=variant_for(step, customer.external_id, plan_code),
            reference_invoice_id=reference,
            reference_external_id=action.reference.id,
            repetition=action.repetition,
            status=Execution.Status.EXECUTED,
            reason=action.reason,
            channel=step.channel,
            mode=step.mode,
            customer_facing=step.is_customer_facing,
            invoices=invoices,
            totals=totals,
            superseded=[{"step": s.step, "step_index": s.step_index} for s in superseded],
        )
        self.skipped(snap, superseded, action.key)
        status = "open"
        automatic = step.channel in AUTOMATIC_CHANNELS and step.mode == "auto"
        if automatic and to:
            status = "queued"  # composed when delivered (services/messages.compose)
            self.messages.append(
                {
                    "key": action.key,
                    "company_id": customer.company_id,
                    "customer_id": customer.pk,
                    "channel": step.channel,
                    "to": to,
                    "cc": cc,
                    "invoice_ids": invoice_pks,
                    "created_at": self.now,
                    "next_attempt_at": self._first_send(customer),
                    "status": OutboxMessage.Status.PLANNED,
                }
            )
        else:
            kind = (
                ActionItem.Kind.NO_CONTACT
                if automatic and not to
                else ActionItem.Kind.APPROVAL
                if step.channel in AUTOMATIC_CHANNELS
                else ActionItem.Kind.CALL
                if step.channel == CALL
                else ActionItem.Kind.TASK
            )
            title = {
                ActionItem.Kind.NO_CONTACT: f"No contact to send '{step.name}' to",
                ActionItem.Kind.APPROVAL: f"Approve '{step.name}'",
            }.get(kind, step.name)
            if kind == ActionItem.Kind.NO_CONTACT:
                subject, body = "", _nobody_to_reach(snap, step, action)
            else:
                subject, body = self._text(snap, step, action)
            self.done.items.append(
                (
                    {
                        "key": action.key,
                        "company_id": customer.company_id,
                        "customer_id": customer.pk,
                        "kind": kind,
                        "title": f"{title}: {customer.name}"[:300],
                        "body": f"{subject}\n\n{body}".strip() if subject else body,
                        "due_date": self.day,
                        "priority": priority.priority(
                            action.reference.days_late(self.day),
                            action.totals,
                            customer.risk,
                            broke_a_promise=False,  # known when written (_write_items)
                        ),
                    },
                    self.owners.resolve(step.owners, customer),
                )
            )
        self.done.report.actions.append(
            {
                "customer": customer.external_id,
                "plan": plan_code,
                "step": step.name,
                "step_index": action.step_index,
                "channel": step.channel,
                "mode": step.mode,
                "status": status,
                "reference_invoice": action.reference.id,
                "invoices": invoices,
                "totals": totals,
                "recipients": to,
                "cc": cc,
                "key": action.key,
            }
        )

    def broken(
        self, snap: snapshots.CustomerSnapshot, plan_code: str, broken: engine.BrokenPromise
    ) -> None:
        customer = snap.customer
        promise = snap.promises[broken.promise]
        self.done.broken_promises.append(promise.pk)
        reference = broken.invoices[0]
        step = Step(
            engine.MISSED_PAYMENT_NOTICE,
            0,
            channel="email",
            recipients=("role:billing",),
            attach="reference",
        )
        to = recipients(step, snap)
        totals = Totals(Money(i.amount_due, i.currency) for i in broken.invoices)
        self._execution(
            snap,
            key=broken.key,
            plan_id=None,
            plan_code="",
            step_id=None,
            step_name=engine.MISSED_PAYMENT_NOTICE,
            step_index=None,
            reference_invoice_id=snap.invoice_pks.get(reference.id),
            reference_external_id=reference.id,
            repetition=0,
            status=Execution.Status.EXECUTED,
            reason=f"promise to pay by {promise.pay_by} broken",
            channel="email",
            mode="auto",
            customer_facing=True,
            invoices=[i.id for i in broken.invoices],
            totals=totals.as_json(),
        )
        status = "open"
        if to:
            status = "queued"
            self.messages.append(
                {
                    "key": broken.key,
                    "company_id": customer.company_id,
                    "customer_id": customer.pk,
                    "channel": "email",
                    "to": to,
                    "cc": [],
                    "invoice_ids": [snap.invoice_pks[i.id] for i in broken.invoices],
                    "merge_data": {"promise": _promised(promise, customer.language)},
                    "created_at": self.now,
                    "next_attempt_at": self._first_send(customer),
                    "status": OutboxMessage.Status.PLANNED,
                }
            )
        self._event(
            snap,
            "promise.broken",
            snap.invoice_pks.get(reference.id),
            {
                "promise": promise.pk,
                "pay_by": promise.pay_by.isoformat(),
                "invoices": [i.id for i in broken.invoices],
                "date": self.day.isoformat(),
                "key": broken.key,
            },
        )
        self.done.report.actions.append(
            {
                "customer": customer.external_id,
                "plan": plan_code,
                "step": engine.MISSED_PAYMENT_NOTICE,
                "step_index": None,
                "channel": "email",
                "mode": "auto",
                "status": status,
                "reference_invoice": reference.id,
                "invoices": [i.id for i in broken.invoices],
                "totals": totals.as_json(),
                "recipients": to,
                "cc": [],
                "key": broken.key,
            }
        )

    def kept(self, snap: snapshots.CustomerSnapshot, decision: engine.Decision) -> None:
        """Promises whose date passed without being broken were kept: the invoices were paid."""
        broken = {b.promise for b in decision.broken_promises}
        kept = [
            p.pk for pid, p in snap.promises.items() if p.pay_by < self.day and pid not in broken
        ]
        self.done.kept_promises += kept
        for pk in kept:
            self._event(snap, "promise.kept", None, {"promise": pk, "date": self.day.isoformat()})


def write(batch: Batch) -> None:
    """Insert a composed batch, in the caller's transaction. An execution key already taken
    (another worker, an earlier run of a later date) means that work was done: everything
    hanging off it is dropped, not failed."""
    executions, outbox = _inserter(Execution), _inserter(OutboxMessage)
    mine = executions.insert_prepared(batch.executions, unique="key")
    report = batch.report
    key, execution = outbox.index("key"), outbox.index("execution_id")
    if len(mine) < len(batch.executions):
        batch.messages = [m for m in batch.messages if m[key] in mine]
        batch.items = [(i, o) for i, o in batch.items if i["key"] in mine]
        kept = {*mine, ""}  # events without a key (kept promises) always stay
        batch.events = [e for e in batch.events if e["data"].get("key", "") in kept]
        report.actions = [a for a in report.actions if a["key"] in mine]
        report.skipped = [
            s for s, k in zip(report.skipped, batch.skip_keys, strict=True) if k in mine
        ]
    if batch.broken_promises:
        Promise.objects.filter(pk__in=batch.broken_promises).update(
            status=Promise.Status.BROKEN, broken_on=report.date
        )
    if batch.kept_promises:
        Promise.objects.filter(pk__in=batch.kept_promises).update(status=Promise.Status.KEPT)
    for message in batch.messages:
        message[execution] = mine[message[key]]
    outbox.insert_prepared(batch.messages)
    if batch.items:
        _write_items(batch.items, mine)
    journal.record_rows(batch.events)  # and the webhooks of the promises broken


def _broke_a_promise(items: list[dict[str, Any]]) -> set[int]:
    """Customers of these items who broke a promise lately: one query, only for the batches
    that have manual work."""
    if not items:
        return set()
    since = min(i["due_date"] for i in items) - timedelta(days=priority.BROKEN_WINDOW_DAYS)
    return set(
        Promise.objects.filter(
            customer_id__in={i["customer_id"] for i in items},
            status=Promise.Status.BROKEN,
            broken_on__gte=since,
        ).values_list("customer_id", flat=True)
    )


def _write_items(composed: list[tuple[dict[str, Any], Owners]], executions: dict[str, int]) -> None:
    """Action items and who they go to (users, groups, aliases)."""
    items = [{**item, "execution_id": executions[item.pop("key")]} for item, _ in composed]
    broke = _broke_a_promise(items)
    for item in items:
        rank: priority.Priority = item["priority"]
        if item["customer_id"] in broke:
            rank = dataclasses.replace(rank, broken_promise=priority.BROKEN_PROMISE)
        item["priority"], item["priority_parts"] = rank.score, rank.parts()
    Inserter(ActionItem).insert(items)
    created = dict(
        ActionItem.objects.filter(execution_id__in=[i["execution_id"] for i in items]).values_list(
            "execution_id", "pk"
        )
    )
    links: dict[Any, list[dict[str, int]]] = {
        ActionItem.assignees.through: [],
        ActionItem.groups.through: [],
        ActionItem.aliases.through: [],
    }
    for item, (users, groups, aliases) in zip(items, (o for _, o in composed), strict=True):
        pk = created[item["execution_id"]]
        links[ActionItem.assignees.through] += [{"actionitem_id": pk, "user_id": u} for u in users]
        links[ActionItem.groups.through] += [{"actionitem_id": pk, "group_id": g} for g in groups]
        links[ActionItem.aliases.through] += [{"actionitem_id": pk, "alias_id": a} for a in aliases]
    for through, rows in links.items():
        Inserter(through).insert(rows)
    journal.tell("action.created", created.values())


@contextmanager
def without_cycle_collector() -> Iterator[None]:
    """A batch allocates about a hundred objects per invoice and creates no reference cycles:
    CPython's cycle collector, which runs every few hundred allocations, kept walking them all
    and took a quarter of a batch's time. Reference counting still frees everything; the
    collector runs again once the batch is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compose(customer_ids: list[int], day: date, run_id: int | None = None) -> Batch:
    """Read a batch of customers, ask the engine, and turn its decisions into rows. Inside the
    caller's transaction: the one that writes them, or a worker's read snapshot."""
    # Locked (PostgreSQL), blocking, not SKIP LOCKED: a customer locked by an import or an edit
    # must be waited for, not silently left out of the day; two cycles lock in the same order.
    customers = snapshots.debtors(customer_ids, lock=True)
    plans = snapshots.PlanCache()
    snaps = snapshots.load(customers, day, history_days=plans.max_delay())
    chosen = plans_of(snaps, plans, day)
    composer = _Composer(day, run_id, _Owners())
    for snap in snaps:
        if snap.customer.pk not in chosen:
            continue
        row, plan, steps = plans.get(chosen[snap.customer.pk])
        decision = engine.evaluate(plan, snap.account, snap.history, day)
        for broken in decision.broken_promises:
            composer.broken(snap, row.code, broken)
        composer.kept(snap, decision)
        if decision.action:
            composer.act(snap, row.pk, row.code, steps, decision.action, decision.skipped)
    return composer.batch()


def process_batch(
    customer_ids: list[int], day: date, *, dry_run: bool = False, run_id: int | None = None
) -> CycleReport:
    """Evaluate and record one batch of customers in one transaction."""
    return _recorded(lambda: compose(customer_ids, day, run_id), dry_run)


Span = list[int]  # consecutive customers (primary keys, in order) that a cycle may look at


def compose_span(span: Span, day: date, company_id: int | None, run_id: int | None) -> Batch:
    """`compose` for the customers of a span worth looking at. Triage leaves out those with
    nothing due, but costs a read of their invoices: customers with no execution yet (a new
    ledger's first cycle) nearly all have something due, and are looked at without it."""
    first, last = span[0], span[-1]
    if Execution.objects.filter(customer_id__gte=first, customer_id__lte=last).exists():
        span = triage.customers_to_look_at(day, company_id, (first, last))
    return compose(span, day, run_id) if span else Batch(CycleReport(day))


def process_span(
    span: Span, day: date, company_id: int | None, *, dry_run: bool, run_id: int | None
) -> CycleReport:
    """`process_batch` for a span of customers, triaged in the same transaction."""
    return _recorded(lambda: compose_span(span, day, company_id, run_id), dry_run)


def _recorded(composing: Callable[[], Batch], dry_run: bool) -> CycleReport:
    """Compose and write in one transaction; a dry run rolls it back."""
    with without_cycle_collector(), transaction.atomic():
        batch = composing()
        write(batch)
        if dry_run:
            transaction.set_rollback(True)
    return batch.report


def plans_of(
    snaps: list[snapshots.CustomerSnapshot], plans: snapshots.PlanCache, day: date
) -> dict[int, int]:
    """Customer pk -> plan pk: the explicit plan, else the first matching assignment rule."""
    chosen = {s.customer.pk: s.customer.plan_id for s in snaps if s.customer.plan_id}
    unassigned = [s for s in snaps if not s.customer.plan_id]
    if not unassigned:
        return chosen
    rule_sets = plan_service.rules_by_company()
    paid = snapshots.paid_invoices([s.customer.pk for s in unassigned], day)
    for snap in unassigned:
        rules = rule_sets.get(snap.customer.company_id, rule_sets.get(None, []))
        code, _ = assignment.choose_plan(_facts(snap, paid, day), rules)
        found = plans.of_company(snap.customer.company_id, code) if code else None
        if found is not None:
            chosen[snap.customer.pk] = found
    return chosen


def _facts(
    snap: snapshots.CustomerSnapshot, paid: dict[int, Any], day: date
) -> assignment.CustomerFacts:
    c = snap.customer
    balance = Totals(Money(i.amount_due, i.currency) for i in snap.account.items)
    return assignment.CustomerFacts(
        external_id=c.external_id,
        segment=c.segment,
        risk=c.risk,
        country=c.country,
        currency=c.currency,
        credit_limit=c.credit_limit,
        balance=dict(balance),
        average_days_late=assignment.average_days_late(paid.get(c.pk, []), day),
    )


def explain_plan(customer_pk: int, day: date) -> tuple[str | None, str]:
    """(plan code, why) for one customer on `day`, as the cycle would choose it: what the
    customer page and the rules editor's "which plan?" say."""
    [debtor] = snapshots.debtors([customer_pk])
    if debtor.plan_id:
        return Plan.objects.get(pk=debtor.plan_id).code, "explicit assignment"
    rule_sets = plan_service.rules_by_company()
    rules = rule_sets.get(debtor.company_id, rule_sets.get(None, []))
    [snap] = snapshots.load([debtor], day, history_days=0)
    paid = snapshots.paid_invoices([customer_pk], day)
    return assignment.choose_plan(_facts(snap, paid, day), rules)


class StepRefused(Refusal, ValueError):
    """A step cannot be sent now; the message says why, for the person who asked."""


def step_now(customer_pk: int, step_name: str, day: date, *, actor: Any = None) -> dict[str, Any]:
    """A step of the customer's plan done today because a person asked, whatever its timing and
    the minimum contact delay: what the cycle would have done on its date, under the same key.

    So it counts as done (the cycle will not send it again for that invoice) and a second click
    or a run that already did it changes nothing: StepRefused says it was done. A customer on hold
    is refused too: the hold was put there on purpose. Returns the report's action.
    """
    with without_cycle_collector(), transaction.atomic():
        [debtor] = snapshots.debtors([customer_pk], lock=True)
        if debtor.hold_until and debtor.hold_until >= day:
            raise StepRefused(f"dunning is paused until {debtor.hold_until.isoformat()}")
        plans = snapshots.PlanCache()
        [snap] = snapshots.load([debtor], day, history_days=0)
        chosen = plans_of([snap], plans, day).get(customer_pk)
        if chosen is None:
            raise StepRefused("the customer has no plan")
        row, plan, steps = plans.get(chosen)
        found = [(i, s) for i, s in enumerate(plan.steps, start=1) if s.name == step_name]
        if not found:
            raise StepRefused(f"plan {row.code} has no step '{step_name}'")
        [(index, step)] = found
        items = engine.open_items(plan, snap.account, day)
        if not items:
            raise StepRefused("nothing is owed that the plan may chase")
        reference = items[0]
        listed = engine.selection(step, reference, items, day)
        account = snap.account
        key = engine.execution_key(
            account.customer, row.code, step.name, reference.id, 0, account.company
        )
        who = getattr(actor, "username", "") or "someone"
        action = engine.Action(
            index,
            step,
            reference,
            0,
            listed,
            Totals(Money(i.amount_due, i.currency) for i in listed),
            key,
            f"sent now by {who}, before its date and whatever the contact delay",
        )
        composer = _Composer(day, None, _Owners())
        composer.act(snap, row.pk, row.code, steps, action, ())
        batch = composer.batch()
        batch.events.append(
            journal.row(
                "step.sent_now",
                debtor,
                invoice_id=snap.invoice_pks.get(reference.id),
                actor_id=getattr(actor, "pk", None),
                source="web",
                data={"key": key, "plan": row.code, "step": step.name},
                at=composer.now,
            )
        )
        write(batch)
        if not batch.report.actions:
            raise StepRefused(f"'{step.name}' was already done for invoice {reference.number}")
        return {**batch.report.actions[0], "reference_number": reference.number}
