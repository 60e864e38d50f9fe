"""The dunning engine (DESIGN §3): worked examples with hand-computed dates, then properties.

The worked examples pin each rule on a small ledger whose dates can be checked with a calendar.
The Hypothesis properties run random plans against random ledgers day after day, the way the
daily cycle does (evaluate, then `record` what was carried out), and check the promises the
engine makes: one execution per key, contacts spaced by the minimum delay, totals per currency,
a second run of the same day creating nothing, at most one message after any downtime, and the
same inputs always giving the same decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relance.domain.engine import (
    SUPERSEDED,
    Account,
    Decision,
    Item,
    Past,
    Promise,
    Skip,
    evaluate,
    execution_key,
    forecast,
    open_items,
    record,
    trigger_date,
)
from relance.domain.plans.model import ATTACHMENTS, CHANNELS, TRIGGER_FROMS, Plan, Step
from relance.domain.plans.reading import load_plans_yaml, parse_plan

D = date.fromisoformat
ONE_DAY = timedelta(days=1)
CUSTOMER = "c1"


# --------------------------------------------------------------------------------------------
# Builders


def step(
    name: str,
    days: int,
    channel: str = "email",
    *,
    trigger_from: str = "due_date",
    attach: str = "reference",
) -> Step:
    manual = channel in ("call", "task")
    return Step(
        name=name,
        trigger_days=days,
        trigger_from=trigger_from,  # type: ignore[arg-type]
        channel=channel,  # type: ignore[arg-type]
        mode="manual" if manual else "auto",
        recipients=("role:billing",) if channel != "task" else (),
        owners=("owner",) if manual else (),
        attach=attach,  # type: ignore[arg-type]
        subject=f"{name} {{{{ reference.number }}}}",
        body=f"{name} body",
    )


def make_plan(
    *steps: Step,
    code: str = "p",
    delay: int = 0,
    tolerance: dict[str, str] | None = None,
    every: int | None = None,
    most: int | None = None,
) -> Plan:
    return Plan(
        code=code,
        name=code.title(),
        min_contact_delay_days=delay,
        tolerance={c: Decimal(a) for c, a in (tolerance or {}).items()},
        repeat_last_every_days=every,
        repeat_last_max=most,
        steps=steps,
    )


def inv(
    id: str,
    due: str,
    *,
    issue: str | None = None,
    amount: str = "100.00",
    currency: str = "EUR",
    number: str | None = None,
    **flags: bool,
) -> Item:
    due_date = D(due)
    return Item(
        id=id,
        number=number or f"F-{id}",
        issue_date=D(issue) if issue else due_date - timedelta(days=30),
        due_date=due_date,
        currency=currency,
        amount_due=Decimal(amount),
        **flags,
    )


def account(*items: Item, customer: str = CUSTOMER, **kwargs: Any) -> Account:
    return Account(customer=customer, items=items, **kwargs)


def run_days(
    plan: Plan,
    acct: Account,
    start: date,
    end: date,
    history: Sequence[Past] = (),
) -> tuple[list[Decision], list[Past]]:
    """The daily cycle from `start` to `end` inclusive: evaluate, then record what was done."""
    past = list(history)
    decisions = []
    day = start
    while day <= end:
        decision = evaluate(plan, acct, past, day)
        decisions.append(decision)
        past += record(plan, decision)
        acct = notice_broken(acct, decision)
        day += ONE_DAY
    return decisions, past


def notice_broken(acct: Account, decision: Decision) -> Account:
    """What the service does once it sent the missed-payment notices of a decision."""
    noticed = {b.promise for b in decision.broken_promises}
    if not noticed:
        return acct
    return replace(
        acct,
        promises=tuple(
            replace(p, broken_noticed=True) if p.id in noticed else p for p in acct.promises
        ),
    )


def actions(decisions: Sequence[Decision]) -> list[tuple[date, str]]:
    return [(d.today, d.action.step.name) for d in decisions if d.action]


def standard_plan() -> Plan:
    text = resources.files("relance").joinpath("plans", "standard.yaml").read_text("utf-8")
    (plan,) = load_plans_yaml(text)
    return plan


# A small plan in the image of the standard one: -5, +15, +30 (emails), +45 call, +60 letter.
LADDER = make_plan(
    step("Friendly", -5),
    step("Reminder", 15, attach="overdue"),
    step("Firm", 30, attach="overdue"),
    step("Call", 45, "call", attach="none"),
    step("Notice", 60, "letter", attach="open"),
)


# --------------------------------------------------------------------------------------------
# Triggers


def test_pre_due_step_fires_five_days_before_the_due_date_and_not_before():
    acct = account(inv("A", "2025-03-31", issue="2025-03-01", number="F-1"))
    before = evaluate(LADDER, acct, [], D("2025-03-25"))
    assert before.action is None
    assert before.skipped == ()
    assert before.waiting == "next: Friendly on 2025-03-26 (F-1 due 2025-03-31 - 5 days)"

    on = evaluate(LADDER, acct, [], D("2025-03-26"))
    assert on.action is not None
    assert on.action.step.name == "Friendly"
    assert on.action.step_index == 1
    assert on.action.reference.id == "A"
    assert on.action.repetition == 0
    assert on.action.reason == "F-1 due 2025-03-31 - 5 days"
    assert on.action.key == "c1:p:Friendly:A:0"
    assert on.skipped == ()


def test_each_step_fires_on_its_trigger_date():
    acct = account(inv("A", "2025-01-31", issue="2025-01-01", amount="1000.00"))
    decisions, past = run_days(LADDER, acct, D("2025-01-01"), D("2025-05-31"))
    # due 31 Jan: -5 = 26 Jan, +15 = 15 Feb, +30 = 2 Mar, +45 = 17 Mar, +60 = 1 Apr (2025).
    assert actions(decisions) == [
        (D("2025-01-26"), "Friendly"),
        (D("2025-02-15"), "Reminder"),
        (D("2025-03-02"), "Firm"),
        (D("2025-03-17"), "Call"),
        (D("2025-04-01"), "Notice"),
    ]
    assert all(not d.skipped for d in decisions)
    assert [p.step for p in past] == ["Friendly", "Reminder", "Firm", "Call", "Notice"]
    assert decisions[-1].waiting == "every step of the plan has run for F-A"


def test_trigger_from_issue_date():
    plan = make_plan(step("Thanks", 7, trigger_from="issue_date"), step("Due", 0))
    acct = account(inv("A", "2025-04-30", issue="2025-03-01", number="F-9"))
    assert evaluate(plan, acct, [], D("2025-03-07")).action is None
    decision = evaluate(plan, acct, [], D("2025-03-08"))
    assert decision.action is not None
    assert decision.action.step.name == "Thanks"
    assert decision.action.reason == "F-9 issued 2025-03-01 + 7 days"
    decisions, _ = run_days(plan, acct, D("2025-03-01"), D("2025-05-10"))
    assert actions(decisions) == [(D("2025-03-08"), "Thanks"), (D("2025-04-30"), "Due")]


# --------------------------------------------------------------------------------------------
# Rule 1: open invoices


@pytest.mark.parametrize(
    ("currency", "tolerance", "amount", "is_open"),
    [
        ("EUR", "5.00", "5.00", False),
        ("EUR", "5.00", "5.01", True),
        ("EUR", "5.00", "0.00", False),
        ("GBP", "5.00", "5.00", True),  # the EUR tolerance does not apply to GBP: 0 there
        ("GBP", "5.00", "0.00", False),
        ("GBP", "5.00", "0.01", True),
        ("JPY", "5.00", "500", True),
    ],
)
def test_tolerance_is_per_currency(currency, tolerance, amount, is_open):
    plan = make_plan(step("Reminder", 0), tolerance={"EUR": tolerance})
    acct = account(inv("A", "2025-03-01", amount=amount, currency=currency))
    decision = evaluate(plan, acct, [], D("2025-03-10"))
    assert (decision.action is not None) is is_open
    assert [i.id for i in open_items(plan, acct, D("2025-03-10"))] == (["A"] if is_open else [])
    if not is_open:
        assert decision.waiting == "no open invoice above the tolerance"


def test_jpy_tolerance_has_no_decimals():
    plan = make_plan(step("Reminder", 0), tolerance={"JPY": "100"})
    small = account(inv("A", "2025-03-01", amount="100", currency="JPY"))
    large = account(inv("A", "2025-03-01", amount="101", currency="JPY"))
    assert evaluate(plan, small, [], D("2025-03-10")).action is None
    assert evaluate(plan, large, [], D("2025-03-10")).action is not None


@pytest.mark.parametrize("flag", ["void", "disputed", "in_payment_plan"])
def test_void_disputed_and_payment_plan_invoices_are_not_open(flag):
    plan = make_plan(step("Reminder", 0))
    excluded = inv("OLD", "2025-01-01", **{flag: True})
    alone = evaluate(plan, account(excluded), [], D("2025-03-10"))
    assert alone.action is None
    assert alone.waiting == "no open invoice above the tolerance"

    # Older than the other one, yet it is not the reference: it is not open at all.
    decision = evaluate(plan, account(excluded, inv("NEW", "2025-03-01")), [], D("2025-03-10"))
    assert decision.action is not None
    assert decision.action.reference.id == "NEW"
    assert [i.id for i in decision.action.invoices] == ["NEW"]


def test_promised_invoices_leave_dunning_until_pay_by_inclusive():
    plan = make_plan(step("Reminder", 0, attach="open"))
    promise = Promise("PR1", ("A",), pay_by=D("2025-03-20"))
    acct = account(inv("A", "2025-03-01"), inv("B", "2025-03-05"), promises=(promise,))

    on_pay_by = evaluate(plan, acct, [], D("2025-03-20"))
    assert on_pay_by.action is not None
    assert on_pay_by.action.reference.id == "B"
    assert [i.id for i in on_pay_by.action.invoices] == ["B"]
    assert on_pay_by.broken_promises == ()

    # The day after, A is open again; the promise was kept track of (noticed) separately.
    assert [i.id for i in open_items(plan, acct, D("2025-03-21"))] == ["A", "B"]
    noticed = account(*acct.items, promises=(replace(promise, broken_noticed=True),))
    day_after = evaluate(plan, noticed, [], D("2025-03-21"))
    assert day_after.action is not None
    assert day_after.action.reference.id == "A"
    assert [i.id for i in day_after.action.invoices] == ["A", "B"]

    only_promised = account(
        inv("A", "2025-03-01"), promises=(replace(promise, broken_noticed=True),)
    )
    assert evaluate(plan, only_promised, [], D("2025-03-20")).action is None
    assert evaluate(plan, only_promised, [], D("2025-03-21")).action is not None


def test_broken_promise_is_reported_once_the_day_after_pay_by():
    plan = make_plan(step("Reminder", 0))
    promise = Promise("PR1", ("A", "B"), pay_by=D("2025-03-20"))
    acct = account(
        inv("A", "2025-03-01"), inv("B", "2025-03-02", amount="0.00"), promises=(promise,)
    )

    assert evaluate(plan, acct, [], D("2025-03-20")).broken_promises == ()
    decision = evaluate(plan, acct, [], D("2025-03-21"))
    (broken,) = decision.broken_promises
    assert broken.promise == "PR1"
    assert [i.id for i in broken.invoices] == ["A"]  # B was paid: not part of the notice
    assert broken.key == "c1:promise:PR1"
    # The notice is the day's one message (rule 6) and counts as a customer contact (rule 5).
    assert decision.action is None
    assert decision.skipped == ()
    assert "missed-payment notice" in decision.waiting
    (notice,) = record(plan, decision)
    assert notice.customer_facing
    assert not notice.skipped
    assert notice.date == D("2025-03-21")

    noticed = account(*acct.items, promises=(replace(promise, broken_noticed=True),))
    assert evaluate(plan, noticed, [], D("2025-03-21")).broken_promises == ()
    assert evaluate(plan, noticed, [], D("2025-04-30")).broken_promises == ()

    paid = account(
        inv("A", "2025-03-01", amount="0.00"),
        inv("B", "2025-03-02", amount="0.00"),
        promises=(promise,),
    )
    assert evaluate(plan, paid, [], D("2025-03-21")).broken_promises == ()

    # Over a daily run the notice comes exactly once, then dunning resumes the next day.
    decisions, _ = run_days(plan, acct, D("2025-03-15"), D("2025-04-15"))
    reported = [(d.today, b.key) for d in decisions for b in d.broken_promises]
    assert reported == [(D("2025-03-21"), "c1:promise:PR1")]
    assert actions(decisions) == [(D("2025-03-22"), "Reminder")]


def test_dunning_after_a_broken_promise_waits_for_the_contact_delay():
    plan = make_plan(step("Reminder", 0), delay=10)
    promise = Promise("PR1", ("A",), pay_by=D("2025-03-20"))
    acct = account(inv("A", "2025-03-01"), promises=(promise,))
    decisions, _ = run_days(plan, acct, D("2025-03-15"), D("2025-04-15"))
    assert [d.today for d in decisions if d.broken_promises] == [D("2025-03-21")]
    # Notice on 21 Mar, + 10 days = 31 Mar.
    assert actions(decisions) == [(D("2025-03-31"), "Reminder")]
    reminder = next(d for d in decisions if d.action)
    assert reminder.action is not None
    assert "10-day contact rule (last contact 2025-03-21)" in reminder.action.reason


def test_broken_promise_key_escapes_separators():
    plan = make_plan(step("Reminder", 0))
    promise = Promise("x:y", ("A",), pay_by=D("2025-03-20"))
    acct = account(inv("A", "2025-03-01"), customer="a:b", promises=(promise,))
    (broken,) = evaluate(plan, acct, [], D("2025-03-21")).broken_promises
    assert broken.key == "a%3Ab:promise:x%3Ay"


# --------------------------------------------------------------------------------------------
# Rule 2: holds


def test_nothing_is_due_while_on_hold_then_the_most_advanced_step_runs():
    acct = account(inv("A", "2025-01-31", number="F-1"), hold_until=D("2025-03-05"))
    for today in ("2025-01-26", "2025-02-15", "2025-03-04", "2025-03-05"):
        decision = evaluate(LADDER, acct, [], D(today))
        assert decision.action is None
        assert decision.skipped == ()
        assert decision.waiting == "on hold until 2025-03-05"

    decision = evaluate(LADDER, acct, [], D("2025-03-06"))
    assert decision.action is not None
    assert decision.action.step.name == "Firm"  # +30 = 2 Mar
    assert [(s.step_index, s.step, s.reason) for s in decision.skipped] == [
        (1, "Friendly", SUPERSEDED),
        (2, "Reminder", SUPERSEDED),
    ]


def test_a_past_hold_changes_nothing():
    acct = account(inv("A", "2025-01-31"), hold_until=D("2025-01-25"))
    decision = evaluate(LADDER, acct, [], D("2025-01-26"))
    assert decision.action is not None
    assert decision.action.step.name == "Friendly"


# --------------------------------------------------------------------------------------------
# Rule 3: reference invoice


def test_reference_is_the_earliest_due_date_then_issue_date_then_number():
    plan = make_plan(step("Reminder", 0))
    today = D("2025-04-01")

    def reference(*items: Item) -> str:
        decision = evaluate(plan, account(*items), [], today)
        assert decision.action is not None
        return decision.action.reference.id

    assert reference(inv("LATE", "2025-03-10"), inv("EARLY", "2025-03-01")) == "EARLY"
    assert (
        reference(
            inv("X", "2025-03-01", issue="2025-02-10", number="A-1"),
            inv("Y", "2025-03-01", issue="2025-02-01", number="Z-9"),
        )
        == "Y"
    )
    assert (
        reference(
            inv("X", "2025-03-01", issue="2025-02-01", number="A-2"),
            inv("Y", "2025-03-01", issue="2025-02-01", number="A-1"),
        )
        == "Y"
    )


def test_when_the_reference_is_paid_the_next_invoice_starts_over():
    plan = make_plan(step("First", 0), step("Second", 10))
    x = inv("X", "2025-03-01")
    y = inv("Y", "2025-03-05")
    decisions, past = run_days(plan, account(x, y), D("2025-03-01"), D("2025-03-03"))
    assert actions(decisions) == [(D("2025-03-01"), "First")]

    paid = account(x._replace(amount_due=Decimal("0.00")), y)
    decision = evaluate(plan, paid, past, D("2025-03-06"))
    assert decision.action is not None
    assert decision.action.reference.id == "Y"
    assert decision.action.step.name == "First"
    assert decision.action.key == "c1:p:First:Y:0"
    assert decision.skipped == ()

    decisions, _ = run_days(plan, paid, D("2025-03-06"), D("2025-03-31"), past)
    assert [
        (d.today, d.action.step.name, d.action.reference.id) for d in decisions if d.action
    ] == [
        (D("2025-03-06"), "First", "Y"),
        (D("2025-03-15"), "Second", "Y"),
    ]


# --------------------------------------------------------------------------------------------
# Rule 4: once per reference, no bursts after downtime


def test_after_40_days_of_downtime_only_the_most_advanced_step_runs():
    acct = account(inv("A", "2025-01-31"))
    history = record(LADDER, evaluate(LADDER, acct, [], D("2025-01-26")))
    assert [p.step for p in history] == ["Friendly"]

    # 26 Jan + 40 days = 7 Mar: Reminder (15 Feb) and Firm (2 Mar) are both due.
    decision = evaluate(LADDER, acct, history, D("2025-03-07"))
    assert decision.action is not None
    assert decision.action.step.name == "Firm"
    assert decision.action.step_index == 3
    assert decision.action.reason == "F-A due 2025-01-31 + 30 days"
    assert decision.skipped == (Skip(2, "Reminder", "A", SUPERSEDED, "c1:p:Reminder:A:0"),)

    added = record(LADDER, decision)
    assert [(p.step, p.skipped, p.date) for p in added] == [
        ("Reminder", True, D("2025-03-07")),
        ("Firm", False, D("2025-03-07")),
    ]
    history += added
    # Never backwards, never twice: the next thing is the call on 17 Mar.
    decisions, _ = run_days(LADDER, acct, D("2025-03-07"), D("2025-04-30"), history)
    assert actions(decisions) == [(D("2025-03-17"), "Call"), (D("2025-04-01"), "Notice")]
    assert all(not d.skipped for d in decisions)


def test_late_import_jumps_straight_to_the_last_due_step():
    decision = evaluate(LADDER, account(inv("A", "2025-01-31")), [], D("2025-04-10"))
    assert decision.action is not None
    assert decision.action.step.name == "Notice"
    assert [(s.step_index, s.key) for s in decision.skipped] == [
        (1, "c1:p:Friendly:A:0"),
        (2, "c1:p:Reminder:A:0"),
        (3, "c1:p:Firm:A:0"),
        (4, "c1:p:Call:A:0"),
    ]
    assert {s.reason for s in decision.skipped} == {SUPERSEDED}
    assert {s.reference for s in decision.skipped} == {"A"}


def test_a_step_runs_once_per_reference_and_history_of_other_plans_does_not_count():
    plan = make_plan(step("Only", 0))
    acct = account(inv("A", "2025-03-01"))
    done = [Past("p", "Only", "A", 0, D("2025-03-01"))]
    decision = evaluate(plan, acct, done, D("2025-03-02"))
    assert decision.action is None
    assert decision.waiting == "every step of the plan has run for F-A"

    other_plan = [Past("other", "Only", "A", 0, D("2025-03-01"))]
    again = evaluate(plan, acct, other_plan, D("2025-03-02"))
    assert again.action is not None
    assert again.action.step.name == "Only"

    other_reference = [Past("p", "Only", "Z", 0, D("2025-03-01"))]
    assert evaluate(plan, acct, other_reference, D("2025-03-02")).action is not None


def test_a_skipped_step_never_comes_back():
    plan = make_plan(step("One", 0), step("Two", 10))
    skipped = [Past("p", "One", "A", 0, D("2025-03-01"), skipped=True, customer_facing=False)]
    decisions, _ = run_days(
        plan, account(inv("A", "2025-03-01")), D("2025-03-01"), D("2025-04-01"), skipped
    )
    assert actions(decisions) == [(D("2025-03-11"), "Two")]


# --------------------------------------------------------------------------------------------
# Rule 5: minimum contact delay


def test_contact_from_another_plan_delays_a_customer_facing_step():
    plan = make_plan(step("Reminder", 0), delay=15)
    acct = account(inv("A", "2025-03-26", number="F-1"))
    history = [Past("campaign", "Summer", "Z", 0, D("2025-03-20"))]

    waiting = evaluate(plan, acct, history, D("2025-03-26"))
    assert waiting.action is None
    assert waiting.skipped == ()
    assert waiting.waiting == (
        "Reminder due since 2025-03-26 (F-1 due 2025-03-26), delayed until 2025-04-04 "
        "by the 15-day contact rule (last contact 2025-03-20)"
    )
    assert evaluate(plan, acct, history, D("2025-04-03")).action is None

    decision = evaluate(plan, acct, history, D("2025-04-04"))
    assert decision.action is not None
    assert decision.action.reason == (
        "F-1 due 2025-03-26, delayed by the 15-day contact rule (last contact 2025-03-20)"
    )


def test_account_last_contact_counts_for_campaigns_and_manual_messages():
    plan = make_plan(step("Reminder", 0), delay=10)
    acct = account(inv("A", "2025-03-26"), last_contact=D("2025-03-25"))
    assert evaluate(plan, acct, [], D("2025-04-03")).action is None
    assert "10-day contact rule" in evaluate(plan, acct, [], D("2025-04-03")).waiting
    decision = evaluate(plan, acct, [], D("2025-04-04"))
    assert decision.action is not None
    assert "contact rule" in decision.action.reason


def test_the_latest_of_history_and_account_contact_wins():
    plan = make_plan(step("Reminder", 0), delay=10)
    history = [Past("other", "X", "Z", 0, D("2025-03-28"))]
    acct = account(inv("A", "2025-03-26"), last_contact=D("2025-03-25"))
    assert evaluate(plan, acct, history, D("2025-04-06")).action is None
    assert evaluate(plan, acct, history, D("2025-04-07")).action is not None


def test_an_old_contact_neither_delays_nor_shows_in_the_reason():
    plan = make_plan(step("Reminder", 0), delay=10)
    acct = account(inv("A", "2025-03-26"), last_contact=D("2025-03-01"))
    decision = evaluate(plan, acct, [], D("2025-03-26"))
    assert decision.action is not None
    assert decision.action.reason == "F-A due 2025-03-26"


def test_tasks_are_neither_delayed_nor_counted_as_contact():
    plan = make_plan(step("Check", 0, "task"), step("Reminder", 1), delay=15)
    # A contact yesterday does not delay the task...
    delayed = account(inv("A", "2025-03-31"), last_contact=D("2025-03-30"))
    task = evaluate(plan, delayed, [], D("2025-03-31"))
    assert task.action is not None
    assert task.action.step.name == "Check"
    assert task.action.customer_facing is False
    assert task.action.reason == "F-A due 2025-03-31"

    # ... and the task itself is no contact: the email runs the next day.
    decisions, past = run_days(
        plan, account(inv("A", "2025-03-31")), D("2025-03-30"), D("2025-04-10")
    )
    assert actions(decisions) == [(D("2025-03-31"), "Check"), (D("2025-04-01"), "Reminder")]
    assert [p.customer_facing for p in past] == [False, True]


def test_skipped_steps_are_no_contact():
    plan = make_plan(step("Reminder", 0), delay=15)
    history = [Past("other", "X", "Z", 0, D("2025-03-30"), skipped=True)]
    decision = evaluate(plan, account(inv("A", "2025-03-31")), history, D("2025-03-31"))
    assert decision.action is not None


@pytest.mark.parametrize("channel", ["email", "sms", "letter", "call"])
def test_every_customer_facing_channel_waits_and_counts(channel):
    plan = make_plan(step("First", 0, channel), step("Second", 1, channel), delay=5)
    decisions, past = run_days(
        plan, account(inv("A", "2025-03-01")), D("2025-03-01"), D("2025-03-31")
    )
    assert actions(decisions) == [(D("2025-03-01"), "First"), (D("2025-03-06"), "Second")]
    assert all(p.customer_facing for p in past)


# --------------------------------------------------------------------------------------------
# Rule 6: one message, the invoices it lists, totals per currency

LEDGER = account(
    inv("R", "2025-03-01", amount="100.00"),
    inv("O1", "2025-03-15", amount="50.00", currency="GBP"),
    inv("O2", "2025-04-09", amount="20.50"),
    inv("T", "2025-04-10", amount="7.00"),  # due today: not overdue yet
    inv("F", "2025-04-20", amount="30.00"),
    inv("J", "2025-05-01", amount="1000", currency="JPY"),
)


@pytest.mark.parametrize(
    ("attach", "ids", "totals"),
    [
        ("none", ["R"], {"EUR": "100.00"}),
        ("reference", ["R"], {"EUR": "100.00"}),
        ("overdue", ["R", "O1", "O2"], {"EUR": "120.50", "GBP": "50.00"}),
        (
            "open",
            ["R", "O1", "O2", "T", "F", "J"],
            {"EUR": "157.50", "GBP": "50.00", "JPY": "1000"},
        ),
    ],
)
def test_the_step_chooses_the_invoices_and_totals_are_per_currency(attach, ids, totals):
    plan = make_plan(step("Reminder", 0, attach=attach))
    decision = evaluate(plan, LEDGER, [], D("2025-04-10"))
    assert decision.action is not None
    assert decision.action.reference.id == "R"
    assert [i.id for i in decision.action.invoices] == ids
    assert decision.action.totals_json() == totals
    assert list(decision.action.totals) == sorted(totals)


def test_overdue_always_lists_the_reference_even_before_it_is_due():
    plan = make_plan(step("Heads-up", -5, attach="overdue"))
    acct = account(inv("A", "2025-03-31"), inv("B", "2025-04-30"))
    decision = evaluate(plan, acct, [], D("2025-03-26"))
    assert decision.action is not None
    assert [i.id for i in decision.action.invoices] == ["A"]


def test_jpy_totals_have_no_decimals():
    plan = make_plan(step("Reminder", 0, attach="open"))
    acct = account(
        inv("A", "2025-03-01", amount="1500", currency="JPY"),
        inv("B", "2025-03-02", amount="250", currency="JPY"),
        inv("C", "2025-03-03", amount="0.5"),
    )
    decision = evaluate(plan, acct, [], D("2025-03-10"))
    assert decision.action is not None
    assert decision.action.totals_json() == {"EUR": "0.50", "JPY": "1750"}


# --------------------------------------------------------------------------------------------
# Rule 7: repeating the last step


def test_last_step_repeats_every_n_days_up_to_the_maximum():
    plan = make_plan(step("First", 0), step("Last", 10), every=7, most=2)
    decisions, past = run_days(
        plan, account(inv("A", "2025-03-01")), D("2025-03-01"), D("2025-05-31")
    )
    assert [
        (d.today, d.action.step.name, d.action.repetition, d.action.key)
        for d in decisions
        if d.action
    ] == [
        (D("2025-03-01"), "First", 0, "c1:p:First:A:0"),
        (D("2025-03-11"), "Last", 0, "c1:p:Last:A:0"),
        (D("2025-03-18"), "Last", 1, "c1:p:Last:A:1"),
        (D("2025-03-25"), "Last", 2, "c1:p:Last:A:2"),
    ]
    repeat = next(d for d in decisions if d.action and d.action.repetition == 1)
    assert repeat.action is not None
    assert repeat.action.step_index == 2
    assert repeat.action.reason == "repeat 1 of the last step, every 7 days"
    assert len(past) == 4


def test_unbounded_repeat_goes_on_until_paid():
    plan = parse_plan(
        {
            "code": "loop",
            "name": "Loop",
            "repeat_last_every_days": 10,
            "steps": [
                {
                    "name": "Last",
                    "trigger": {"days": 0},
                    "channel": "call",
                    "owners": ["owner"],
                    "body": "Call them",
                }
            ],
        }
    )
    decisions, _ = run_days(plan, account(inv("A", "2025-03-01")), D("2025-03-01"), D("2025-04-30"))
    # 1 Mar, 11 Mar, 21 Mar, 31 Mar, 10 Apr, 20 Apr, 30 Apr.
    assert [(d.today.isoformat(), d.action.repetition) for d in decisions if d.action] == [
        ("2025-03-01", 0),
        ("2025-03-11", 1),
        ("2025-03-21", 2),
        ("2025-03-31", 3),
        ("2025-04-10", 4),
        ("2025-04-20", 5),
        ("2025-04-30", 6),
    ]


def test_no_repeat_when_unset():
    plan = make_plan(step("First", 0), step("Last", 10))
    decisions, _ = run_days(plan, account(inv("A", "2025-03-01")), D("2025-03-01"), D("2025-12-31"))
    assert actions(decisions) == [(D("2025-03-01"), "First"), (D("2025-03-11"), "Last")]


def test_repeat_counts_from_the_actual_last_run_and_obeys_the_contact_delay():
    plan = make_plan(step("Last", 0), every=5, most=1, delay=8)
    acct = account(inv("A", "2025-03-01"), last_contact=D("2025-02-25"))
    decisions, _ = run_days(plan, acct, D("2025-03-01"), D("2025-04-30"))
    # First run delayed from 1 Mar to 5 Mar (25 Feb + 8); the repeat, due 10 Mar, waits to 13 Mar.
    assert [(d.today, d.action.repetition) for d in decisions if d.action] == [
        (D("2025-03-05"), 0),
        (D("2025-03-13"), 1),
    ]
    waiting = next(d for d in decisions if d.today == D("2025-03-10"))
    assert "repeat 1 of the last step" in waiting.waiting
    assert "8-day contact rule" in waiting.waiting


# --------------------------------------------------------------------------------------------
# Rule 8: idempotency keys


def test_keys_are_identical_for_the_same_inputs_and_differ_otherwise():
    base = ("c", "p", "s", "r", 0)
    assert execution_key(*base) == execution_key(*base)
    variants = [
        ("c2", "p", "s", "r", 0),
        ("c", "p2", "s", "r", 0),
        ("c", "p", "s2", "r", 0),
        ("c", "p", "s", "r2", 0),
        ("c", "p", "s", "r", 1),
    ]
    keys = {execution_key(*v) for v in [base, *variants]}
    assert len(keys) == 6


def test_separators_inside_components_cannot_collide():
    assert execution_key("a:b", "c", "s", "r", 0) != execution_key("a", "b:c", "s", "r", 0)
    assert execution_key("a", "b", "s:r", "x", 0) != execution_key("a", "b", "s", "r:x", 0)
    assert execution_key("a%3Ab", "c", "s", "r", 0) != execution_key("a:b", "c", "s", "r", 0)
    assert execution_key("a:b", "c", "s", "r", 0) == "a%3Ab:c:s:r:0"


def test_evaluate_builds_the_key_from_customer_plan_step_reference():
    plan = make_plan(step("Step:1", 0), code="p:x")
    acct = account(inv("i:1", "2025-03-01"), customer="a:b")
    decision = evaluate(plan, acct, [], D("2025-03-01"))
    assert decision.action is not None
    assert decision.action.key == execution_key("a:b", "p:x", "Step:1", "i:1", 0)
    assert decision.action.key == "a%3Ab:p%3Ax:Step%3A1:i%3A1:0"


@given(
    st.lists(
        st.tuples(
            st.text(max_size=4),
            st.text(max_size=4),
            st.text(max_size=4),
            st.text(max_size=4),
            st.integers(0, 3),
        ),
        min_size=2,
        max_size=2,
        unique=True,
    )
)
def test_different_executions_never_share_a_key(pair):
    first, second = pair
    assert execution_key(*first) != execution_key(*second)


# --------------------------------------------------------------------------------------------
# Rule 9: forecast


def _as_forecast(decisions: Sequence[Decision]) -> list[tuple[Any, ...]]:
    return [
        (
            d.today,
            d.customer,
            d.action.step_index,
            d.action.step.name,
            d.action.step.channel,
            d.action.reference.id,
            d.action.repetition,
            d.action.reason,
        )
        for d in decisions
        if d.action
    ]


def _forecast_tuples(items: Sequence[Any]) -> list[tuple[Any, ...]]:
    return [
        (
            f.date,
            f.customer,
            f.step_index,
            f.step,
            f.channel,
            f.reference_invoice,
            f.repetition,
            f.reason,
        )
        for f in items
    ]


def test_forecast_of_the_standard_plan_equals_the_daily_cycle():
    plan = standard_plan()
    acct = account(
        inv("A", "2025-01-31", issue="2025-01-01", amount="1000.00", number="F-1"),
        inv("B", "2025-02-28", issue="2025-01-29", amount="250.00", currency="GBP"),
        last_contact=D("2025-01-20"),
    )
    start, end = D("2025-01-01"), D("2025-04-30")
    items = forecast(plan, acct, [], start, end)
    decisions, _ = run_days(plan, acct, start, end)
    assert _forecast_tuples(items) == _as_forecast(decisions)

    # Contact 20 Jan + 15 = 4 Feb; then each step waits 15 days after the previous one.
    assert [(f.date, f.step) for f in items] == [
        (D("2025-02-04"), "Friendly reminder"),
        (D("2025-02-19"), "Payment reminder"),
        (D("2025-03-06"), "Firm reminder"),
        (D("2025-03-21"), "Account owner call"),
        (D("2025-04-05"), "Formal notice"),
    ]
    assert {f.reference_invoice for f in items} == {"A"}
    assert items[0].reason == (
        "F-1 due 2025-01-31 - 5 days, delayed by the 15-day contact rule (last contact 2025-01-20)"
    )
    assert items[1].reason == (
        "F-1 due 2025-01-31 + 15 days, delayed by the 15-day contact rule (last contact 2025-02-04)"
    )
    assert all("contact rule" in f.reason for f in items)


def test_forecast_without_delays_lists_the_trigger_dates():
    items = forecast(
        standard_plan(), account(inv("A", "2025-01-31")), [], D("2025-01-01"), D("2025-12-31")
    )
    assert [(f.date.isoformat(), f.step_index, f.channel) for f in items] == [
        ("2025-01-26", 1, "email"),
        ("2025-02-15", 2, "email"),
        ("2025-03-02", 3, "email"),
        ("2025-03-17", 4, "call"),
        ("2025-04-01", 5, "letter"),
    ]
    assert not any("contact rule" in f.reason for f in items)


def test_forecast_follows_holds_and_promises():
    plan = standard_plan()
    acct = account(
        inv("A", "2025-01-31"),
        hold_until=D("2025-02-20"),
        promises=(Promise("PR", ("A",), D("2025-03-10")),),
    )
    start, end = D("2025-01-01"), D("2025-05-31")
    items = forecast(plan, acct, [], start, end)
    decisions, _ = run_days(plan, acct, start, end)
    assert _forecast_tuples(items) == _as_forecast(decisions)
    # Hold to 20 Feb, promise to 10 Mar: the missed-payment notice goes out on 11 Mar and counts
    # as contact, so dunning resumes 15 days later, on 26 Mar, with the call (+45 = 17 Mar); the
    # letter (+60 = 1 Apr) waits until 26 Mar + 15 = 10 Apr.
    assert [d.today for d in decisions if d.broken_promises] == [D("2025-03-11")]
    assert [(f.date, f.step) for f in items] == [
        (D("2025-03-26"), "Account owner call"),
        (D("2025-04-10"), "Formal notice"),
    ]
    assert items[0].reason == (
        "F-A due 2025-01-31 + 45 days, delayed by the 15-day contact rule (last contact 2025-03-11)"
    )
    call = next(d for d in decisions if d.action)
    assert [s.step for s in call.skipped] == [
        "Friendly reminder",
        "Payment reminder",
        "Firm reminder",
    ]


def test_forecast_resumes_the_day_after_a_missed_payment_notice():
    plan = make_plan(step("Reminder", 0))
    acct = account(inv("A", "2025-01-01"), promises=(Promise("PR", ("A",), D("2025-01-01")),))
    items = forecast(plan, acct, [], D("2025-01-01"), D("2025-01-10"))
    # 2 Jan: the notice (the day's one message); 3 Jan: the reminder.
    assert [(f.date, f.step) for f in items] == [(D("2025-01-03"), "Reminder")]


def test_rerun_on_the_day_of_a_missed_payment_notice_creates_nothing():
    plan = make_plan(step("Reminder", 0))
    promise = Promise("PR", ("A",), D("2025-01-01"))
    acct = account(inv("A", "2025-01-01"), promises=(promise,))
    first = evaluate(plan, acct, [], D("2025-01-02"))
    assert first.broken_promises
    history = record(plan, first)
    again = evaluate(plan, notice_broken(acct, first), history, D("2025-01-02"))
    assert again.action is None


def test_no_missed_payment_notice_while_on_hold():
    plan = make_plan(step("Reminder", 0))
    promise = Promise("PR", ("A",), D("2025-01-01"))
    acct = account(inv("A", "2025-01-01"), promises=(promise,), hold_until=D("2025-02-01"))
    held = evaluate(plan, acct, [], D("2025-01-11"))
    assert held.broken_promises == ()
    assert held.waiting == "on hold until 2025-02-01"
    after = evaluate(plan, acct, [], D("2025-02-02"))
    assert [b.promise for b in after.broken_promises] == ["PR"]


def test_missed_payment_notice_leaves_out_disputed_invoices():
    plan = make_plan(step("Reminder", 0))
    promise = Promise("PR", ("A", "B"), D("2025-01-01"))
    disputed = inv("A", "2025-01-01")._replace(disputed=True)
    acct = account(disputed, inv("B", "2025-01-01"), promises=(promise,))
    [broken] = evaluate(plan, acct, [], D("2025-01-02")).broken_promises
    assert [i.id for i in broken.invoices] == ["B"]


# --------------------------------------------------------------------------------------------
# Properties

START = D("2025-01-01")
CURRENCIES = ("EUR", "GBP", "JPY")
SIM_DAYS = 120


@dataclass(frozen=True)
class Scenario:
    plan: Plan
    account: Account
    paid_on: dict[str, date]  # invoices paid in full on that day (amount due 0 from then on)
    history: tuple[Past, ...]

    def on(self, acct: Account, day: date) -> Account:
        if not self.paid_on:
            return acct
        return replace(
            acct,
            items=tuple(
                i._replace(amount_due=Decimal(0))
                if i.id in self.paid_on and self.paid_on[i.id] <= day
                else i
                for i in acct.items
            ),
        )


def days_from_start(low: int, high: int) -> st.SearchStrategy[date]:
    return st.integers(low, high).map(lambda n: START + timedelta(days=n))


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    count = draw(st.integers(1, 6))
    steps = [
        step(
            draw(st.sampled_from(["s", "s:"])) + str(n),
            draw(st.integers(-20, 70)),
            draw(st.sampled_from(CHANNELS)),
            trigger_from=draw(st.sampled_from(TRIGGER_FROMS)),
            attach=draw(st.sampled_from(ATTACHMENTS)),
        )
        for n in range(1, count + 1)
    ]
    if draw(st.booleans()):
        steps.sort(key=lambda s: s.trigger_days)
    tolerance = draw(
        st.dictionaries(
            st.sampled_from(CURRENCIES),
            st.sampled_from(["0", "1", "5", "50"]),
            max_size=3,
        )
    )
    return make_plan(
        *steps,
        code=draw(st.sampled_from(["std", "p:x"])),
        delay=draw(st.integers(0, 20)),
        tolerance=tolerance,
        every=draw(st.none() | st.integers(1, 20)),
        most=draw(st.none() | st.integers(1, 3)),
    )


@st.composite
def items(draw: st.DrawFn, n: int) -> Item:
    currency = draw(st.sampled_from(CURRENCIES))
    if currency == "JPY":
        amount = Decimal(draw(st.sampled_from([0, 1, 5, 50, 51, 1000, 250000])))
    else:
        cents = draw(st.sampled_from([0, 1, 100, 500, 501, 5000, 123456]))
        amount = Decimal(cents).scaleb(-2)
    issue = START + timedelta(days=draw(st.integers(-90, 90)))
    return Item(
        id=draw(st.sampled_from(["i", "i:"])) + str(n),
        number=draw(st.sampled_from(["F-1", "F-2", "F-3"])),  # ties exercise the id tie-break
        issue_date=issue,
        due_date=issue + timedelta(days=draw(st.integers(0, 60))),
        currency=currency,
        amount_due=amount,
        void=draw(st.integers(0, 9)) == 0,
        disputed=draw(st.integers(0, 9)) == 0,
        in_payment_plan=draw(st.integers(0, 9)) == 0,
    )


@st.composite
def scenarios(draw: st.DrawFn, payments: bool = True) -> Scenario:
    plan = draw(plans())
    ledger = tuple(draw(items(n)) for n in range(draw(st.integers(0, 8))))
    ids = [i.id for i in ledger]
    promises: tuple[Promise, ...] = ()
    if ids:
        promises = tuple(
            Promise(
                f"pr{n}",
                tuple(draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))),
                draw(days_from_start(-10, SIM_DAYS)),
                draw(st.booleans()),
            )
            for n in range(draw(st.integers(0, 2)))
        )
    paid_on: dict[str, date] = {}
    if payments and ids:
        paid_on = draw(st.dictionaries(st.sampled_from(ids), days_from_start(0, SIM_DAYS)))
    acct = Account(
        customer=draw(st.sampled_from(["c1", "a:b"])),
        items=ledger,
        hold_until=draw(st.none() | days_from_start(-5, SIM_DAYS)),
        last_contact=draw(st.none() | days_from_start(-30, 0)),
        promises=promises,
    )
    # Contacts made by other plans or campaigns before the simulation starts.
    history = tuple(
        Past(
            "campaign", f"c{n}", "x", 0, draw(days_from_start(-40, -1)), skipped=draw(st.booleans())
        )
        for n in range(draw(st.integers(0, 2)))
    )
    return Scenario(plan, acct, paid_on, history)


@dataclass
class Timeline:
    decisions: list[Decision]
    history: list[Past]
    recheck: list[Decision]  # the same day evaluated again after recording the decision


def simulate(scenario: Scenario, days: Sequence[date]) -> Timeline:
    """The daily cycle on the given days (any gaps are downtime), recording what was done."""
    past = list(scenario.history)
    acct = scenario.account
    decisions, recheck = [], []
    for day in days:
        today_acct = scenario.on(acct, day)
        decision = evaluate(scenario.plan, today_acct, past, day)
        decisions.append(decision)
        past += record(scenario.plan, decision)
        recheck.append(evaluate(scenario.plan, today_acct, past, day))
        acct = notice_broken(acct, decision)
    return Timeline(decisions, past, recheck)


def every_day(n: int = SIM_DAYS) -> list[date]:
    return [START + timedelta(days=k) for k in range(n)]


@st.composite
def days_with_downtime(draw: st.DrawFn) -> list[date]:
    """Run days in increasing order with random gaps (a worker down, a late import)."""
    gaps = draw(st.lists(st.integers(1, 45), min_size=1, max_size=12))
    day = START + timedelta(days=draw(st.integers(-10, 30)))
    days = [day]
    for gap in gaps:
        day += timedelta(days=gap)
        days.append(day)
    return days


PROPERTY_SETTINGS = settings(  # 200 examples, fewer under the quick profile
    max_examples=2 * settings.default.max_examples,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(scenarios(), st.booleans(), days_with_downtime())
def test_never_two_executions_with_one_key(scenario, daily, days):
    timeline = simulate(scenario, every_day() if daily else days)
    keys = [d.action.key for d in timeline.decisions if d.action]
    keys += [s.key for d in timeline.decisions for s in d.skipped]
    assert len(keys) == len(set(keys))
    # The key names exactly what ran: customer, plan, step, reference and repetition.
    for d in timeline.decisions:
        if d.action:
            a = d.action
            expected = execution_key(
                d.customer, scenario.plan.code, a.step.name, a.reference.id, a.repetition
            )
            assert a.key == expected
    # A step runs once per reference; only the last one repeats, with increasing numbers.
    runs = [
        (p.step, p.reference, p.repetition)
        for p in timeline.history
        if p.plan == scenario.plan.code and not p.skipped
    ]
    assert len(runs) == len(set(runs))
    last = scenario.plan.steps[-1].name
    assert all(rep == 0 for name, _, rep in runs if name != last)
    if scenario.plan.repeat_last_every_days is None:
        assert all(rep == 0 for _, _, rep in runs)
    elif scenario.plan.repeat_last_max is not None:
        assert all(rep <= scenario.plan.repeat_last_max for _, _, rep in runs)


@PROPERTY_SETTINGS
@given(scenarios(), st.booleans(), days_with_downtime())
def test_never_a_contact_closer_than_the_minimum_delay(scenario, daily, days):
    timeline = simulate(scenario, every_day() if daily else days)
    delay = timedelta(days=scenario.plan.min_contact_delay_days)
    contacts = [p.date for p in scenario.history if p.customer_facing and not p.skipped]
    if scenario.account.last_contact:
        contacts.append(scenario.account.last_contact)
    for d in timeline.decisions:
        if d.action and d.action.customer_facing:
            if contacts:
                assert d.today - max(contacts) >= delay
            contacts.append(d.today)
        if d.broken_promises:  # the missed-payment notice is a contact too
            contacts.append(d.today)
        if "contact rule" in d.waiting:
            # Only customer-facing steps wait for the contact rule; tasks never do.
            (waiting,) = [s for s in scenario.plan.steps if d.waiting.startswith(f"{s.name} due")]
            assert waiting.is_customer_facing


@PROPERTY_SETTINGS
@given(scenarios(), days_with_downtime())
def test_totals_never_mix_currencies(scenario, days):
    timeline = simulate(scenario, days)
    for d in timeline.decisions:
        if not d.action:
            continue
        listed = d.action.invoices
        assert d.action.reference in listed
        assert len({i.id for i in listed}) == len(listed)
        assert set(d.action.totals) == {i.currency for i in listed}
        for currency, total in d.action.totals.items():
            assert total == sum(
                (i.amount_due for i in listed if i.currency == currency), Decimal(0)
            )
        as_json = d.action.totals_json()
        assert set(as_json) == set(d.action.totals)
        for currency, text in as_json.items():
            decimals = 0 if currency == "JPY" else 2
            _whole, _, fraction = text.partition(".")
            assert len(fraction) == decimals
            assert Decimal(text) == d.action.totals[currency]
        # Every listed invoice is open (rule 1) and the reference is the first of them (rule 3).
        open_now = open_items(scenario.plan, scenario.on(scenario.account, d.today), d.today)
        assert set(i.id for i in listed) <= {i.id for i in open_now}
        assert d.action.reference == open_now[0]


@PROPERTY_SETTINGS
@given(scenarios(), st.booleans(), days_with_downtime())
def test_evaluating_the_same_day_twice_creates_nothing(scenario, daily, days):
    timeline = simulate(scenario, every_day() if daily else days)
    for first, again in zip(timeline.decisions, timeline.recheck, strict=True):
        assert again.action is None
        assert again.skipped == ()
        # A broken promise may be proposed again, but under the same key: nothing new.
        assert {b.key for b in again.broken_promises} <= {b.key for b in first.broken_promises}


def _done_index(plan: Plan, history: Sequence[Past], reference: str) -> int:
    index = {s.name: i for i, s in enumerate(plan.steps, start=1)}
    return max(
        (
            index[p.step]
            for p in history
            if p.plan == plan.code and p.reference == reference and p.step in index
        ),
        default=0,
    )


@PROPERTY_SETTINGS
@given(scenarios(), days_with_downtime(), st.integers(1, 120))
def test_catching_up_missed_days_gives_at_most_one_message(scenario, days, missed):
    timeline = simulate(scenario, days)
    today = days[-1] + timedelta(days=missed)
    acct = scenario.on(scenario.account, today)
    decision = evaluate(scenario.plan, acct, timeline.history, today)
    if decision.action is None:
        assert decision.skipped == ()
        return
    action = decision.action
    skipped = [s.step_index for s in decision.skipped]
    assert all(i < action.step_index for i in skipped)
    assert skipped == sorted(set(skipped))
    assert {s.reason for s in decision.skipped} <= {SUPERSEDED}
    assert {s.reference for s in decision.skipped} <= {action.reference.id}

    # Every unexecuted step due for the reference is either the action or superseded.
    steps = scenario.plan.steps
    done = _done_index(scenario.plan, timeline.history, action.reference.id)
    due = [
        i
        for i, s in enumerate(steps, start=1)
        if i > done and trigger_date(s, action.reference) <= today
    ]
    if due:
        assert action.repetition == 0
        assert [*skipped, action.step_index] == due
    else:
        assert action.step_index == len(steps)
        assert action.repetition >= 1
        assert skipped == []
    # And once recorded, nothing remains to do that day.
    after = evaluate(scenario.plan, acct, timeline.history + record(scenario.plan, decision), today)
    assert after.action is None
    assert after.skipped == ()


@PROPERTY_SETTINGS
@given(scenarios(), days_with_downtime())
def test_same_inputs_same_decision(scenario, days):
    timeline = simulate(scenario, days)
    for day in (days[0], days[-1], days[-1] + timedelta(days=7)):
        acct = scenario.on(scenario.account, day)
        first = evaluate(scenario.plan, acct, timeline.history, day)
        second = evaluate(scenario.plan, replace(acct), list(timeline.history), day)
        assert first == second
        # The order of the history does not matter either.
        assert evaluate(scenario.plan, acct, timeline.history[::-1], day) == first
    end = days[-1] + timedelta(days=60)
    assert forecast(scenario.plan, scenario.account, scenario.history, START, end) == forecast(
        scenario.plan, scenario.account, scenario.history, START, end
    )


@PROPERTY_SETTINGS
@given(scenarios(payments=False), st.integers(0, SIM_DAYS))
def test_forecast_equals_the_daily_cycle(scenario, length):
    end = START + timedelta(days=length)
    decisions, _ = run_days(scenario.plan, scenario.account, START, end, scenario.history)
    items_ = forecast(scenario.plan, scenario.account, scenario.history, START, end)
    assert _forecast_tuples(items_) == _as_forecast(decisions)
