"""One batch of the cycle as rows, and how they are written.

A batch's executions, outbox messages, action items and timeline events are written together in
the caller's transaction. Every execution carries a unique key inserted with ON CONFLICT DO
NOTHING, and whatever hangs off a key already taken is dropped: a second run, a second worker or a
resumed crash can only find the work done and create nothing.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

from django.db.models import Model

from relance.domain import priority
from relance.models import ActionItem, Execution, OutboxMessage, Promise
from relance.services.organisation import journal
from relance.services.sql import Inserter


@dataclass
class CycleReport:
    """What one run created (DESIGN §4 `relance run --json`)."""

    date: date
    actions: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    paused: list[str] = field(default_factory=list)  # codes of companies not live: left out

    def merge(self, other: CycleReport) -> None:
        self.actions += other.actions
        self.skipped += other.skipped
        self.paused += other.paused

    def as_json(self) -> dict[str, Any]:
        found = {"date": self.date.isoformat(), "actions": self.actions, "skipped": self.skipped}
        if self.paused:  # only then: the output scripts read stays as it was
            found["paused"] = self.paused
        return found


Owners = tuple[set[int], set[int], set[int]]  # users, groups, aliases an action item goes to


@cache
def inserter(model: type[Model]) -> Inserter:
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


def write(batch: Batch) -> None:
    """Insert a composed batch, in the caller's transaction. An execution key already taken
    (another worker, an earlier run of a later date) means that work was done: everything
    hanging off it is dropped, not failed."""
    executions, outbox = inserter(Execution), inserter(OutboxMessage)
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
