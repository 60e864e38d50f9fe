"""The embedded cycle on every core of this machine.

Triage, reading the ledger and asking the engine are most of a cycle's work and change
nothing, so worker processes, forked from this one, do them a span of customers at a time.

* PostgreSQL takes many writers: each worker runs its spans whole (`cycle.process_span`), its
  customers locked as in a Celery worker.
* SQLite takes one: workers compose a span in a read snapshot and hand its rows back, and this
  process writes them under the write lock, provided no other connection has committed since
  that snapshot could have been taken. `PRAGMA data_version` tells: it changes when another
  connection commits, never for this connection's own writes. When one did (an import, an edit
  in the web app), every span composed before is composed again here, under the lock, so no
  decision rests on a stale read.

Only where forking is safe and useful: more than one core and one span, a single-threaded
process that may have children (not a Celery worker's) outside any transaction, and a database
other processes can open (not SQLite's in-memory test database).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction

from relance.services.dunning import batches, cycle
from relance.services.dunning.cycle import Span


def how_many(spans: list[Span]) -> int:
    """Worker processes for these spans of customers: 1 means none, this process does it."""
    usable = (
        "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon  # e.g. a Celery worker's child
        and threading.active_count() == 1
        and not connection.in_atomic_block
        and not _in_memory()
    )
    return min(settings.RELANCE_CYCLE_WORKERS, len(spans)) if usable else 1


def _in_memory() -> bool:
    sqlite: Any = connection  # the SQLite backend's own method
    return connection.vendor == "sqlite" and bool(sqlite.is_in_memory_db())


def reports(
    spans: list[Span], day: date, company_id: int | None, *, dry_run: bool, run_id: int | None
) -> Iterator[batches.CycleReport]:
    """The report of each span of customers, in their order, as it is written. A worker that
    dies (killed, out of memory) ends the run with BrokenProcessPool: what was written stays,
    and running the day again completes it."""
    connections.close_all()  # a forked child must open its own connection, never share one
    workers = how_many(spans)
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )
    try:
        pool.submit(os.getpid).result()  # forks every worker now, before this process reconnects
        if connection.vendor == "sqlite":
            yield from _written_here(pool, workers, spans, day, company_id, dry_run, run_id)
        else:
            tasks = [(span, day, company_id, dry_run, run_id) for span in spans]
            yield from pool.map(_process, tasks)
    finally:
        pool.shutdown(cancel_futures=True)


def _written_here(
    pool: ProcessPoolExecutor,
    workers: int,
    spans: list[Span],
    day: date,
    company_id: int | None,
    dry_run: bool,
    run_id: int | None,
) -> Iterator[batches.CycleReport]:
    """SQLite: workers compose, this process writes (see the module's docstring). A few spans
    are composed ahead, enough to keep every worker busy while one is written."""
    version = _data_version()
    generation = 0  # bumped whenever another connection is seen to have committed
    todo = iter(spans)
    ahead: deque[tuple[Span, int, Future[batches.Batch]]] = deque()

    def submit() -> None:
        if (span := next(todo, None)) is not None:
            task = pool.submit(_compose, span, day, company_id, run_id)
            ahead.append((span, generation, task))

    for _ in range(2 * workers):
        submit()
    while ahead:
        span, submitted, task = ahead.popleft()
        composed = task.result()
        submit()
        with batches.without_cycle_collector(), transaction.atomic():
            now = _data_version()
            if now != version:
                version, generation = now, generation + 1
            if submitted != generation:  # its snapshot may predate that commit
                composed = cycle.compose_span(span, day, company_id, run_id)
            batches.write(composed)
            if dry_run:
                transaction.set_rollback(True)
        yield composed.report


def _data_version() -> tuple[int, int]:
    """This connection's view of other connections' commits. The connection's identity comes
    with it: a new connection counts afresh, and must not be compared with the old one."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA data_version")
        (version,) = cursor.fetchone()
    return id(connection.connection), version


def _start_worker(parent: int) -> None:
    """In each worker: SQLite transactions are read snapshots here, not the write lock the
    settings ask for; and the worker goes when its parent does (killed, it cannot say so)."""
    if connection.vendor == "sqlite":
        options = connection.settings_dict["OPTIONS"]
        connection.settings_dict["OPTIONS"] = {**options, "transaction_mode": "DEFERRED"}
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _compose(span: Span, day: date, company_id: int | None, run_id: int | None) -> batches.Batch:
    with batches.without_cycle_collector(), transaction.atomic():
        return cycle.compose_span(span, day, company_id, run_id)


def _process(task: tuple[Span, date, int | None, bool, int | None]) -> batches.CycleReport:
    span, day, company_id, dry_run, run_id = task
    return cycle.process_span(span, day, company_id, dry_run=dry_run, run_id=run_id)
