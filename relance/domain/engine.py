"""The dunning engine: given a plan, one customer's account and what already happened, decide today.

Over 500 lines on purpose: the nine rules and the forecast that replays them share the private
steps (progress, repetitions, next change); apart, they could drift from what the cycle does.

Pure and deterministic (DESIGN §3): the same inputs always give the same decision, so running a day
twice, or on two workers at once, can only ever propose the same keys, and the storage's unique
keys turn the second proposal into nothing. The forecast is the engine run forward in time.

Rules, numbered as in DESIGN §3:
1. Open invoice: amount due above the plan's tolerance for its currency; not void, not disputed,
   not inside an active promise or payment plan.
2. Nothing is due while the customer is on hold (hold until >= today).
3. Reference invoice: the open invoice with the earliest due date (ties: issue date, number).
   A step's trigger date = the reference's issue or due date + the step's trigger days.
4. A step runs at most once per reference invoice; when several are due, only the most advanced
   runs and the earlier ones are skipped as `superseded`. Steps never go backwards: once a step ran
   (or was skipped) for a reference, only later steps remain.
5. Minimum contact delay: a customer-facing step waits until last contact + delay, whatever made
   that contact. Internal tasks neither wait nor count.
6. One message per customer per day, listing the invoices the step attaches, totals per currency.
7. The last step may repeat every N days, at most `repeat_last_max` times.
8. Idempotency key: customer + plan + step + reference invoice + repetition.
9. Every decision and forecast item carries the reason, in words a credit controller can check:
   a `reasons.Reason`, codes and parameters written out in the reader's language at display,
   and its English text (ISO dates) for the CLI, the API and the stored text.

The company's first-run policy (domain.first_run, carried by the Account) may hold a customer's
first run in a plan at its first step, moving the dates of the invoices it found, or leave invoices
due before a date out of dunning; without one (`by_age`) the rules above are all there is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import NamedTuple

from relance.domain import reasons
from relance.domain.first_run import FirstRun, started_on
from relance.domain.money import Totals
from relance.domain.plans.model import (
    ATTACH_NONE,
    ATTACH_OPEN,
    ATTACH_OVERDUE,
    ATTACH_REFERENCE,
    ISSUE_DATE,
    Plan,
    Step,
)
from relance.domain.reasons import Reason, reason

SUPERSEDED = "superseded"
MISSED_PAYMENT_NOTICE = "Missed payment notice"


#: Rule 3's order of invoices: due date, issue date, number, id (an attrgetter: sorted in C).
_RULE_3_ORDER = attrgetter("due_date", "issue_date", "number", "id")


class Item(NamedTuple):
    """An invoice as the engine sees it on the day of the decision.

    An immutable named tuple rather than a frozen dataclass: a cycle builds one per open
    invoice, a million a day, and a frozen dataclass costs three times as much to build.
    Change one with `item._replace(field=value)`."""

    id: str
    number: str
    issue_date: date
    due_date: date
    currency: str
    amount_due: Decimal
    void: bool = False
    disputed: bool = False
    in_payment_plan: bool = False
    total: Decimal | None = None  # for the message texts; the engine itself never needs it

    def sort_key(self) -> tuple[date, date, str, str]:
        return _RULE_3_ORDER(self)

    def days_late(self, today: date) -> int:
        return max((today - self.due_date).days, 0)


@dataclass(frozen=True, slots=True)
class Promise:
    """A promise to pay: its invoices leave dunning up to and including `pay_by`."""

    id: str
    invoice_ids: tuple[str, ...]
    pay_by: date
    broken_noticed: bool = False


@dataclass(frozen=True, slots=True)
class Account:
    """One customer's snapshot: open items, holds, promises and the last contact from any source."""

    customer: str
    items: tuple[Item, ...]
    hold_until: date | None = None
    last_contact: date | None = None
    promises: tuple[Promise, ...] = ()
    company: str = ""  # scopes keys: the same external ids may exist in two companies
    first_run: FirstRun | None = None  # the company's policy; None: by age
    started: tuple[tuple[str, date], ...] = ()  # (plan code, first execution's day), stored


@dataclass(frozen=True, slots=True)
class Past:
    """A step already executed (or skipped) for this customer."""

    plan: str
    step: str
    reference: str
    repetition: int
    date: date
    skipped: bool = False
    customer_facing: bool = True


@dataclass(frozen=True, slots=True)
class Action:
    """The one thing to do today for this customer."""

    step_index: int  # 1-based position in the plan
    step: Step
    reference: Item
    repetition: int
    invoices: tuple[Item, ...]
    totals: Totals
    key: str
    reason: str  # a `reasons.Reason` from the engine: its English text, its codes for display

    @property
    def customer_facing(self) -> bool:
        return self.step.is_customer_facing

    def totals_json(self) -> dict[str, str]:
        return self.totals.as_json()


class Skip(NamedTuple):
    """A step passed over; a first cycle records four for every customer (named tuple: cheap)."""

    step_index: int
    step: str
    reference: str
    reason: str
    key: str


@dataclass(frozen=True, slots=True)
class BrokenPromise:
    """A promise whose date passed with its invoices unpaid: one missed-payment notice, once."""

    promise: str
    invoices: tuple[Item, ...]
    key: str


@dataclass(frozen=True)
class Decision:
    customer: str
    today: date
    action: Action | None = None
    skipped: tuple[Skip, ...] = ()
    broken_promises: tuple[BrokenPromise, ...] = ()
    waiting: str = ""  # why nothing is done today, when nothing is (a `reasons.Reason`)


@dataclass(frozen=True, slots=True)
class ForecastItem:
    date: date
    customer: str
    step_index: int
    step: str
    channel: str
    reference_invoice: str
    repetition: int
    reason: str  # a `reasons.Reason`
    totals: dict[str, str] = field(default_factory=dict)  # what the step chases, per currency


def _escape(part: str) -> str:
    # Only the separator and the escape character are escaped: unambiguous, and far cheaper than
    # full URL quoting over hundreds of thousands of keys a cycle.
    if "%" in part or ":" in part:
        return part.replace("%", "%25").replace(":", "%3A")
    return part


def _key(*parts: str) -> str:
    return ":".join([_escape(p) for p in parts])


def _stem(account: Account, plan: Plan) -> str:
    """The parts of rule 8's key shared by every step of one plan for one customer."""
    if account.company:
        return _key(account.company, account.customer, plan.code)
    return _key(account.customer, plan.code)


def execution_key(
    customer: str, plan: str, step: str, reference: str, repetition: int, company: str = ""
) -> str:
    """Rule 8. Parts are percent-escaped so no two different executions share a key; the company
    comes first when given, since external ids are only unique within one company."""
    parts = (customer, plan, step, reference, str(repetition))
    return _key(company, *parts) if company else _key(*parts)


def trigger_date(step: Step, reference: Item) -> date:
    base = reference.issue_date if step.trigger_from == ISSUE_DATE else reference.due_date
    return base + timedelta(days=step.trigger_days)


def _promised(account: Account, today: date) -> set[str]:
    return {i for p in account.promises if p.pay_by >= today for i in p.invoice_ids}


def _still_owed(plan: Plan, item: Item) -> bool:
    """Rule 1 but for promises: unpaid above tolerance, not void, disputed or in a payment plan."""
    return not (item.void or item.disputed or item.in_payment_plan) and (
        item.amount_due > plan.tolerance_for(item.currency)
    )


def open_items(plan: Plan, account: Account, today: date) -> list[Item]:
    """Rule 1, sorted by rule 3's order: the first one is the reference invoice. (`_still_owed`
    written out: this runs for every invoice of every customer, every day.)"""
    promised = _promised(account, today) if account.promises else ()
    tolerance, zero = plan.tolerance, Decimal(0)
    found = [
        i
        for i in account.items
        if not (i.void or i.disputed or i.in_payment_plan)
        and i.amount_due > tolerance.get(i.currency, zero)
        and i.id not in promised
    ]
    if account.first_run is not None and account.first_run.before is not None:
        chased = account.first_run.chased
        found = [i for i in found if chased(i.due_date)]
    found.sort(key=_RULE_3_ORDER)
    return found


def last_contact(account: Account, history: Iterable[Past]) -> date | None:
    """Rule 5: the latest customer-facing contact from any plan, campaign or manual message."""
    dates = [p.date for p in history if p.customer_facing and not p.skipped]
    if account.last_contact:
        dates.append(account.last_contact)
    return max(dates, default=None)


def _broken_promises(plan: Plan, account: Account, today: date) -> tuple[BrokenPromise, ...]:
    if not account.promises:
        return ()
    by_id = {i.id: i for i in account.items}
    broken = []
    for promise in account.promises:
        if promise.broken_noticed or promise.pay_by >= today:
            continue
        unpaid = tuple(
            by_id[i]
            for i in promise.invoice_ids
            if i in by_id
            and _still_owed(plan, by_id[i])
            and (account.first_run is None or account.first_run.chased(by_id[i].due_date))
        )
        if unpaid:
            parts = (account.customer, "promise", promise.id)
            key = _key(account.company, *parts) if account.company else _key(*parts)
            broken.append(BrokenPromise(promise.id, unpaid, key))
    return tuple(broken)


@dataclass
class _Progress:
    """Where a reference invoice stands in the plan, read from history."""

    done_index: int = 0  # highest step index executed or skipped for this reference
    last_step_runs: list[Past] = field(default_factory=list)


def _progress(plan: Plan, history: Sequence[Past], reference: str) -> _Progress:
    progress = _Progress()
    if not history:
        return progress
    index = {s.name: i for i, s in enumerate(plan.steps, start=1)}
    last = plan.steps[-1].name if plan.steps else None
    for past in history:
        if past.plan != plan.code or past.reference != reference or past.step not in index:
            continue
        progress.done_index = max(progress.done_index, index[past.step])
        if past.step == last and not past.skipped:
            progress.last_step_runs.append(past)
    return progress


def selection(step: Step, reference: Item, items: Sequence[Item], today: date) -> tuple[Item, ...]:
    """Rule 6: the invoices a step's message lists (its `attach` setting); always the reference."""
    if step.attach in (ATTACH_NONE, ATTACH_REFERENCE):
        return (reference,)
    if step.attach == ATTACH_OPEN:
        return tuple(items)
    assert step.attach == ATTACH_OVERDUE
    return tuple(i for i in items if i is reference or i.due_date < today)


_TRIGGERS = {
    (True, 0): reasons.ISSUED,
    (True, 1): reasons.ISSUED_AFTER,
    (True, -1): reasons.ISSUED_BEFORE,
    (False, 0): reasons.DUE,
    (False, 1): reasons.DUE_AFTER,
    (False, -1): reasons.DUE_BEFORE,
}


def _describe_trigger(step: Step, reference: Item) -> Reason:
    issued = step.trigger_from == ISSUE_DATE
    days = step.trigger_days
    sign = (days > 0) - (days < 0)
    base_date = reference.issue_date if issued else reference.due_date
    return reason(_TRIGGERS[issued, sign], invoice=reference.number, date=base_date, days=abs(days))


def evaluate(plan: Plan, account: Account, history: Sequence[Past], today: date) -> Decision:
    """Decide what, if anything, this plan does today for this customer."""
    if account.hold_until and account.hold_until >= today:
        waiting = reason(reasons.ON_HOLD, until=account.hold_until)
        return Decision(account.customer, today, waiting=waiting)
    broken = _broken_promises(plan, account, today)
    if broken:
        # The missed-payment notice is today's one message (rule 6); dunning resumes after it.
        return Decision(
            account.customer,
            today,
            broken_promises=broken,
            waiting=reason(reasons.BROKEN_PROMISE_TODAY),
        )
    items = open_items(plan, account, today)
    if not items or not plan.steps:
        return Decision(account.customer, today, waiting=reason(reasons.NOTHING_OPEN))
    reference = items[0]
    progress = _progress(plan, history, reference.id)
    last, lag = _start(plan, account, history, reference, today)
    # trigger_date(s, reference) + lag <= today, in whole days: no date built per step
    since_issue = (today - reference.issue_date).days - lag
    since_due = (today - reference.due_date).days - lag
    due = [
        (i, s)
        for i, s in enumerate(plan.steps[:last], start=1)
        if i > progress.done_index
        and (since_issue if s.trigger_from == ISSUE_DATE else since_due) >= s.trigger_days
    ]
    repetition = 0
    if due:
        index, step = due[-1]
        why = _describe_trigger(step, reference)
        since = trigger_date(step, reference) + timedelta(days=lag)
        if lag:
            why = why.and_(reasons.MOVED, days=lag)
    else:
        repeat = _next_repetition(plan, progress)
        if repeat is None or repeat[1] > today:
            waiting = _waiting_for(plan, reference, progress, repeat, lag)
            return Decision(account.customer, today, waiting=waiting)
        repetition, since = repeat
        index, step = len(plan.steps), plan.steps[-1]
        why = reason(reasons.REPEAT, repetition=repetition, every=plan.repeat_last_every_days)
    if step.is_customer_facing:
        delayed, why = _contact_rule(plan, step, since, why, account, history, today)
        if delayed is not None:
            return Decision(account.customer, today, waiting=delayed)
    listed = selection(step, reference, items, today)
    stem, ref = _stem(account, plan), _escape(reference.id)
    key = f"{stem}:{_escape(step.name)}:{ref}:{repetition}"  # execution_key, parts shared
    skips = tuple(
        Skip(i, s.name, reference.id, SUPERSEDED, f"{stem}:{_escape(s.name)}:{ref}:0")
        for i, s in due[:-1]
    )
    action = Action(
        index,
        step,
        reference,
        repetition,
        listed,
        Totals.of((i.amount_due, i.currency) for i in listed),
        key,
        why,
    )
    return Decision(account.customer, today, action=action, skipped=skips)


def _start(
    plan: Plan, account: Account, history: Sequence[Past], reference: Item, today: date
) -> tuple[int, int]:
    """The first-run policy 'step 1' (domain.first_run): how many of the plan's steps may be due
    (up to the reference's first step on the customer's first run in the plan), and by how many
    days the reference's dates move so that this first step falls on the customer's first day
    in the plan."""
    if account.first_run is None or not account.first_run.starts_at_step1:
        return len(plan.steps), 0
    start = _started(plan, account, history)
    first, lag = _first_step(plan, reference, start or today)
    return (len(plan.steps) if start is not None else first), lag


def _started(plan: Plan, account: Account, history: Sequence[Past]) -> date | None:
    return started_on(plan.code, account.started, (p.date for p in history if p.plan == plan.code))


def _first_step(plan: Plan, item: Item, start: date) -> tuple[int, int]:
    """Where an invoice starts under 'step 1' and by how many days its steps move. The plan's
    first step, except for an invoice already overdue when the customer started: its first step
    from the due date on, as a courtesy note before the due date makes no sense for it any more
    (the steps before are skipped as superseded). No move for invoices that came after the start."""
    index = 1
    if item.due_date < start:
        index = next(
            (i for i, s in enumerate(plan.steps, 1) if trigger_date(s, item) >= item.due_date), 1
        )
    return index, max((start - trigger_date(plan.steps[index - 1], item)).days, 0)


def _contact_rule(
    plan: Plan,
    step: Step,
    since: date,
    why: Reason,
    account: Account,
    history: Sequence[Past],
    today: date,
) -> tuple[Reason | None, Reason]:
    """Rule 6 for a customer-facing step: why it waits (None when it goes out today), and its
    reason, which says when the rule delayed it."""
    contact = last_contact(account, history)
    if contact is not None and contact >= today:
        return reason(reasons.CONTACTED_TODAY, step=step.name), why
    delay = plan.min_contact_delay_days
    if contact is not None and delay:
        allowed = contact + timedelta(days=delay)
        if allowed > today:
            waiting = reason(
                reasons.WAITS_FOR_CONTACT_RULE,
                step=step.name,
                since=since,
                reason=why,
                until=allowed,
                delay=delay,
                contact=contact,
            )
            return waiting, why
        if allowed > since:
            why = why.and_(reasons.DELAYED, delay=delay, contact=contact)
    return None, why


def _next_repetition(plan: Plan, progress: _Progress) -> tuple[int, date] | None:
    """Rule 7: (repetition number, date) of the last step's next repeat, if it may repeat."""
    every = plan.repeat_last_every_days
    if not every or not progress.last_step_runs:
        return None
    done = max(p.repetition for p in progress.last_step_runs)
    if plan.repeat_last_max is not None and done >= plan.repeat_last_max:
        return None
    latest = max(p.date for p in progress.last_step_runs)
    return done + 1, latest + timedelta(days=every)


def _waiting_for(
    plan: Plan,
    reference: Item,
    progress: _Progress,
    repeat: tuple[int, date] | None,
    lag: int = 0,
) -> Reason:
    if progress.done_index < len(plan.steps):
        step = plan.steps[progress.done_index]
        on = trigger_date(step, reference) + timedelta(days=lag)
        trigger = _describe_trigger(step, reference)
        if lag:
            return reason(reasons.NEXT_STEP_MOVED, step=step.name, on=on, trigger=trigger, days=lag)
        return reason(reasons.NEXT_STEP, step=step.name, on=on, trigger=trigger)
    if repeat is not None:
        return reason(
            reasons.NEXT_REPEAT, repetition=repeat[0], step=plan.steps[-1].name, on=repeat[1]
        )
    return reason(reasons.ALL_DONE, invoice=reference.number)


def record(plan: Plan, decision: Decision) -> list[Past]:
    """What a decision adds to history once carried out (used by the forecast and by tests)."""
    added = [
        Past(plan.code, s.step, s.reference, 0, decision.today, skipped=True, customer_facing=False)
        for s in decision.skipped
    ]
    added += [
        Past("", MISSED_PAYMENT_NOTICE, b.promise, 0, decision.today, False, True)
        for b in decision.broken_promises
    ]
    if decision.action:
        a = decision.action
        added.append(
            Past(
                plan.code,
                a.step.name,
                a.reference.id,
                a.repetition,
                decision.today,
                False,
                a.customer_facing,
            )
        )
    return added


def forecast(
    plan: Plan, account: Account, history: Sequence[Past], start: date, end: date
) -> list[ForecastItem]:
    """Rule 9: the steps to come between `start` and `end`, if nobody pays, promises or disputes.

    The engine itself is run forward, jumping from one date where something could change to the
    next, so the forecast can never disagree with what the daily cycle will do.
    """
    items: list[ForecastItem] = []
    past = list(history)
    day = start
    while day <= end:
        decision = evaluate(plan, account, past, day)
        if decision.action:
            a = decision.action
            items.append(
                ForecastItem(
                    day,
                    account.customer,
                    a.step_index,
                    a.step.name,
                    a.step.channel,
                    a.reference.id,
                    a.repetition,
                    a.reason,
                    a.totals_json(),
                )
            )
        # A missed-payment notice is recorded too: it is a contact and takes the day's message.
        past += record(plan, decision)
        account = _without_broken(account, decision)
        if decision.action or decision.broken_promises:
            day += timedelta(days=1)
            continue
        following = _next_change(plan, account, past, day)
        if following is None:
            break
        day = following
    return items


def _without_broken(account: Account, decision: Decision) -> Account:
    if not decision.broken_promises:
        return account
    noticed = {b.promise for b in decision.broken_promises}
    return replace(
        account,
        promises=tuple(
            replace(p, broken_noticed=True) if p.id in noticed else p for p in account.promises
        ),
    )


def _next_change(plan: Plan, account: Account, past: Sequence[Past], day: date) -> date | None:
    """The earliest date after `day` on which `evaluate` could decide differently."""
    dates: list[date] = []
    if account.hold_until and account.hold_until >= day:
        dates.append(account.hold_until + timedelta(days=1))
    dates += [p.pay_by + timedelta(days=1) for p in account.promises]
    contact = last_contact(account, past)
    if contact is not None:
        dates.append(contact + timedelta(days=max(plan.min_contact_delay_days, 1)))
    step1 = bool(plan.steps) and account.first_run is not None and account.first_run.starts_at_step1
    start = (_started(plan, account, past) or day) if step1 else day
    for item in account.items:
        lag = timedelta(days=_first_step(plan, item, start)[1] if step1 else 0)
        dates += [trigger_date(s, item) + lag for s in plan.steps]
        progress = _progress(plan, past, item.id)
        repeat = _next_repetition(plan, progress)
        if repeat:
            dates.append(repeat[1])
    later = [d for d in dates if d > day]
    return min(later, default=None)
