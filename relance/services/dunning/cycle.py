"""The daily dunning cycle: snapshot a batch of customers, ask the engine, write what it decided.

One transaction per batch holds the executions, outbox messages, action items and timeline events
of that batch together. Before reading history the batch's customers are locked (PostgreSQL:
`FOR NO KEY UPDATE`, waited for in primary-key order; SQLite: the write lock an IMMEDIATE
transaction takes), and every execution carries a unique key inserted with ON CONFLICT DO NOTHING:
a second run, a second worker or a resumed crash can only find the work done and create nothing.

This module is the batch loop and the step a person sends now; the rooms it calls are which plan
applies (plan_choice), whom a step reaches (recipients), the decisions turned into rows
(composing) and the rows written (batches).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import transaction

from relance.domain import engine, reasons
from relance.domain.errors import Refusal
from relance.domain.money import Money, Totals
from relance.models import Execution
from relance.services.dunning import triage
from relance.services.dunning.batches import Batch, CycleReport, without_cycle_collector, write
from relance.services.dunning.composing import Composer
from relance.services.dunning.plan_choice import plans_of
from relance.services.dunning.recipients import OwnerLookup
from relance.services.ledger import snapshots
from relance.services.organisation import journal


def compose(
    customer_ids: list[int],
    day: date,
    run_id: int | None = None,
    *,
    policy: tuple[str, date | None] | None = None,
) -> Batch:
    """Read a batch of customers, ask the engine, and turn its decisions into rows. Inside the
    caller's transaction: the one that writes them, or a worker's read snapshot.

    `policy` (the go-live projection): a first-run policy used instead of the company's stored
    one; the customers are then read without locks and outside any transaction, since nothing
    is written (services.dunning.golive)."""
    # Locked (PostgreSQL), blocking, not SKIP LOCKED: a customer locked by an import or an edit
    # must be waited for, not silently left out of the day; two cycles lock in the same order.
    customers = snapshots.debtors(customer_ids, lock=policy is None, policy=policy)
    plans = snapshots.PlanCache()
    snaps = snapshots.load(customers, day, history_days=plans.max_delay())
    chosen = plans_of(snaps, plans, day)
    composer = Composer(day, run_id, OwnerLookup())
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
            reasons.reason(reasons.SENT_NOW, who=who),
        )
        composer = Composer(day, None, OwnerLookup())
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
