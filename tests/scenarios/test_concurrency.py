"""Exactly-once under concurrency and crashes (DESIGN §3 rule 8).

Two workers running the same day at once, two outbox workers delivering at once, a cycle killed
with SIGKILL half-way then run again, a delivery killed half-way then resumed after the claim lease:
every step the engine decides is executed once, every message is sent once (the file channel holds
one copy even of the message in flight when its worker died), nothing is lost. Runs on SQLite
(writers queue on the IMMEDIATE write lock) and on PostgreSQL (`FOR UPDATE SKIP LOCKED` shares the
batches and the outbox between workers).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.db.models import Count
from scenario_support import (
    DAY,
    RECORDING_CHANNEL,
    build_in,
    build_ledger,
    channel_files,
    clone_database,
    cycle_command,
    drop_database,
    duplicates,
    environment,
    finish,
    kill_when,
    new_database,
    outcome,
    query,
    sends,
    start,
    wait,
)

from relance.models import ActionItem, Customer, Execution, OutboxMessage, Run
from relance.services.analytics.timeline import customer_timeline
from relance.services.dunning.batches import CycleReport
from relance.services.dunning.outbox import DeliveryReport, channel_for, deliver_due
from relance.services.dunning.run import run

TODAY = date.fromisoformat(DAY)


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same instant; each thread closes its own
    database connections. Re-raises the first failure."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=work, args=(i, call), name=f"worker-{i + 1}")
        for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), f"{thread.name} is still running after 120 s"
    if errors:
        raise errors[0]
    return results


def skipped_entries(report: CycleReport) -> list[tuple[Any, ...]]:
    return [(s["customer"], s["step"], s["reference_invoice"], s["reason"]) for s in report.skipped]


@pytest.fixture
def recording_outbox(settings, tmp_path: Path) -> Iterator[Path]:
    """Deliveries in this process go to the recording file channel under tmp_path."""
    outbox = tmp_path / "outbox"
    settings.RELANCE_OUTBOX_DIR = outbox
    settings.RELANCE_CHANNELS = dict.fromkeys(("email", "sms", "letter"), RECORDING_CHANNEL)
    channel_for.cache_clear()
    yield outbox
    channel_for.cache_clear()


@pytest.fixture
def shared_database(transactional_db, tmp_path: Path) -> Iterator[None]:
    """The test database, shared by threads that write.

    On PostgreSQL that is the test database itself. SQLite's in-memory test database is a shared
    cache whose table locks ignore the busy timeout (a second writer fails at once with "database
    table is locked"), which is not how relance runs: threads then get a WAL file database, as in
    production, holding a copy of the test database's schema.
    """
    memory = connections["default"]
    if memory.vendor != "sqlite" or not memory.is_in_memory_db():
        yield
        return
    memory.ensure_connection()
    path = tmp_path / "shared.sqlite3"
    target = sqlite3.connect(path)
    memory.connection.backup(target)
    target.close()
    saved = connections.settings["default"]
    connections.settings["default"] = {**saved, "NAME": str(path)}
    connections["default"] = connections.create_connection("default")
    try:
        yield
    finally:
        connections["default"].close()
        connections.settings["default"] = saved
        connections["default"] = memory


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_day_and_two_outbox_workers(
    shared_database, recording_outbox, tmp_path
):
    build_ledger(200, tmp_path / "csv")
    # What one run alone does on this very ledger: a dry run decides and writes everything, then
    # rolls it all back.
    alone = run(TODAY, dry_run=True).report
    assert not Execution.objects.exists()
    expected_actions = {a["key"]: a for a in alone.actions}
    expected_skipped = Counter(skipped_entries(alone))
    assert len(expected_actions) == len(alone.actions) > 50
    assert sum(expected_skipped.values()) > 50
    queued = {a["key"] for a in alone.actions if a["status"] == "queued"}
    manual = {a["key"] for a in alone.actions if a["status"] == "open"}
    assert queued
    assert manual

    # Two workers, same day, released together; small batches so they meet on the same rows.
    first, second = together(
        lambda: run(TODAY, batch_size=10, source="worker-1", deliver=False).report,
        lambda: run(TODAY, batch_size=10, source="worker-2", deliver=False).report,
    )
    keys = [a["key"] for a in first.actions + second.actions]
    assert duplicates(keys) == []  # no step reported by both workers
    assert set(keys) == set(expected_actions)
    assert Counter(skipped_entries(first) + skipped_entries(second)) == expected_skipped
    for action in first.actions + second.actions:  # the same decisions as a run alone
        assert action == expected_actions[action["key"]]

    executed = Execution.objects.filter(date=TODAY, status=Execution.Status.EXECUTED)
    assert set(executed.values_list("key", flat=True)) == set(expected_actions)
    assert Execution.objects.count() == len(expected_actions)
    recorded = Counter(  # superseded steps live on the execution that superseded them
        (customer, s["step"], reference, "superseded")
        for customer, reference, superseded in Execution.objects.values_list(
            "customer__external_id", "reference_external_id", "superseded"
        )
        for s in superseded
    )
    assert recorded == expected_skipped
    assert not executed.values("customer").annotate(n=Count("id")).filter(n__gt=1).exists()
    # Messages: one per queued step, tied to its execution; manual work: one item per step.
    messages = list(OutboxMessage.objects.values_list("key", "execution__key"))
    assert duplicates([k for k, _ in messages]) == []
    assert {k for k, _ in messages} == queued
    assert all(k == execution_key for k, execution_key in messages)
    assert set(ActionItem.objects.values_list("execution__key", flat=True)) == manual
    assert ActionItem.objects.count() == len(manual)
    # The timeline tells each step once, whichever worker wrote it.
    told = Counter(
        entry["kind"]
        for customer in Customer.objects.all()
        for entry in customer_timeline(customer)
        if entry["kind"].startswith("step.")
    )
    assert told == {
        "step.executed": len(expected_actions),
        "step.skipped": sum(expected_skipped.values()),
    }
    runs = Run.objects.filter(date=TODAY)
    assert runs.count() == 2
    assert all(r.finished_at for r in runs)
    assert sum(r.counts["actions"] for r in runs) == len(expected_actions)

    # Two outbox workers at once: every message claimed by one of them and sent exactly once.
    one, two = together(
        lambda: deliver_due(as_of=TODAY, worker="outbox-1", batch=10),
        lambda: deliver_due(as_of=TODAY, worker="outbox-2", batch=10),
    )
    assert isinstance(one, DeliveryReport)
    assert set(one.statuses) & set(two.statuses) == set()  # nothing claimed by both
    assert set(one.statuses) | set(two.statuses) == queued
    assert set(one.statuses.values()) | set(two.statuses.values()) == {"sent"}
    stored = {
        k: (s, w, n)
        for k, s, w, n in OutboxMessage.objects.values_list(
            "key", "status", "claimed_by", "attempts"
        )
    }
    for report, worker in ((one, "outbox-1"), (two, "outbox-2")):
        for key in report.statuses:
            assert stored[key] == ("sent", worker, 1)
    log = sends(recording_outbox)
    assert Counter(s["key"] for s in log) == Counter(dict.fromkeys(queued, 1))
    assert all(s["worker"] in ("outbox-1", "outbox-2") for s in log)
    assert channel_files(recording_outbox) == dict.fromkeys(queued, 1)

    # And the day run a third time, delivered again: nothing new, nothing resent.
    again = run(TODAY, batch_size=10, deliver=False).report
    assert (again.actions, again.skipped) == ([], [])
    assert deliver_due(as_of=TODAY, worker="outbox-3").statuses == {}
    assert len(sends(recording_outbox)) == len(queued)


# --------------------------------------------------------------------------------------------------
# SIGKILL half-way, in subprocesses on databases of their own
# --------------------------------------------------------------------------------------------------

CUSTOMERS = 1500  # about 570 executions in 60 batches: 3 s on SQLite, 8 s on PostgreSQL
BATCH = 25
KILL_AFTER = 150  # executions committed, a dozen batches or so


class Databases:
    """Databases of this test's own (fresh SQLite files, or fresh PostgreSQL databases), dropped
    at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.urls: list[str] = []

    def new(self, label: str) -> str:
        self.urls.append(new_database(self.tmp_path, label))
        return self.urls[-1]

    def clone(self, url: str, label: str) -> str:
        self.urls.append(clone_database(url, self.tmp_path, label))
        return self.urls[-1]


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[Databases]:
    found = Databases(tmp_path)
    yield found
    for url in found.urls:
        drop_database(url)


def by_customer(executions: list[tuple[Any, ...]]) -> dict[str, set[tuple[Any, ...]]]:
    found: dict[str, set[tuple[Any, ...]]] = {}
    for row in executions:
        found.setdefault(row[1], set()).add(row)
    return found


def test_a_cycle_then_a_delivery_killed_half_way_then_run_again(databases, tmp_path):
    ledger = databases.new("killed")
    build_in(ledger, tmp_path / "build", CUSTOMERS, tmp_path / "csv")
    reference = databases.clone(ledger, "reference")
    var, env = tmp_path / "var", environment(ledger, tmp_path / "var")
    outbox = var / "outbox"

    # The clean run, alone on an identical ledger, in the background meanwhile.
    clean = start(
        cycle_command(DAY, BATCH, "cycle", "deliver"),
        environment(reference, tmp_path / "reference"),
        tmp_path,
    )
    victim = start(cycle_command(DAY, BATCH, "cycle", "deliver"), env, tmp_path)
    executions = "SELECT count(*) FROM relance_execution"
    kill_when(
        victim, lambda: query(ledger, executions)[0][0] >= KILL_AFTER, "half-way in the cycle"
    )
    wait(clean)
    expected = outcome(reference, DAY)
    assert len(expected["executions"]) > 400
    assert {status for _, status, *_ in expected["messages"]} == {"sent"}
    queued = {key for key, *_ in expected["messages"]}
    assert len(queued) > 150

    # What the killed run left: whole batches or nothing, every customer complete, none sent.
    partial = outcome(ledger, DAY)
    assert KILL_AFTER <= len(partial["executions"]) < len(expected["executions"])
    wanted = by_customer(expected["executions"])
    for customer, rows in by_customer(partial["executions"]).items():
        assert rows == wanted[customer]
    executed = {row[0] for row in partial["executions"]}
    assert {key for key, *_ in partial["messages"]} == queued & executed
    assert {status for _, status, *_ in partial["messages"]} == {"planned"}
    assert sends(outbox) == []
    assert query(ledger, "SELECT count(*) FROM relance_run WHERE finished_at IS NULL") == [(1,)]

    # The same day again, to the end: the same as the clean run, nothing twice.
    finish(cycle_command(DAY, BATCH, "cycle"), env, tmp_path)
    final = outcome(ledger, DAY)
    assert duplicates([row[0] for row in final["executions"]]) == []
    assert set(final["executions"]) == set(expected["executions"])
    acted = Counter(row[1] for row in final["executions"] if row[4] == "executed")
    assert max(acted.values()) == 1  # at most one executed step per customer that day
    assert duplicates([key for key, *_ in final["messages"]]) == []
    assert {key for key, *_ in final["messages"]} == queued
    assert len(final["items"]) == len(expected["items"])
    statuses = "SELECT status, count(*) FROM relance_execution GROUP BY status"
    assert sorted(query(ledger, statuses)) == sorted(query(reference, statuses))
    finished = "SELECT count(*) FROM relance_run WHERE finished_at IS NOT NULL"
    assert query(ledger, finished) == [(1,)]

    # Delivery killed half-way: the messages it had claimed stay claimed until the lease runs
    # out, then another worker delivers them; nothing is lost and the file channel, which the
    # outbox key identifies, holds one copy of each.
    slow = {**env, "SCENARIO_SEND_SECONDS": "0.02"}  # so the kill lands inside a batch
    deliverer = start(cycle_command(DAY, BATCH, "deliver"), slow, tmp_path)
    kill_when(deliverer, lambda: len(sends(outbox)) >= 4.5 * BATCH, "half-way in the delivery")
    stuck = query(ledger, "SELECT key FROM relance_outboxmessage WHERE status = %s", ("claimed",))
    first = Counter(s["key"] for s in sends(outbox))
    assert 4.5 * BATCH <= len(first) < len(queued)
    assert max(first.values()) == 1
    assert 0 < len(stuck) <= BATCH  # what is left of the batch the dead worker held
    finish(cycle_command(DAY, BATCH, "deliver"), env, tmp_path)  # the lease still runs
    unsent = "SELECT key FROM relance_outboxmessage WHERE status <> %s"
    assert sorted(query(ledger, unsent, ("sent",))) == sorted(stuck)
    finish(cycle_command(DAY, BATCH, "deliver-after-lease"), env, tmp_path)
    delivered = outcome(ledger, DAY)["messages"]
    assert {(status, attempts) for _, status, _, attempts, _ in delivered} == {("sent", 1)}
    assert channel_files(outbox) == dict.fromkeys(queued, 1)
    total = Counter(s["key"] for s in sends(outbox))
    assert set(total) == queued
    # Sent twice: exactly the messages the dead worker had sent but not yet marked sent.
    assert {key for key, n in total.items() if n > 1} == set(first) & {key for (key,) in stuck}
    assert max(total.values()) <= 2
