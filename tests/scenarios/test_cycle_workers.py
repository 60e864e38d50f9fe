"""The embedded cycle on several cores (services/dunning/workers).

Worker processes compose batches while one process writes (SQLite) or each writes its own
(PostgreSQL): the database must end exactly as after a run in one process. On SQLite a worker's
read snapshot may predate a commit made meanwhile by someone else; the batches composed before it
are composed again under the write lock, so such a commit is never ignored.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from scenario_support import (
    DAY,
    PYTHON,
    build_in,
    checked,
    clone_database,
    cycle_command,
    drop_database,
    duplicates,
    environment,
    kill_when,
    new_database,
    outcome,
    query,
    start,
)

CUSTOMERS = 300
BATCH = 20


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[str]:
    """A generated ledger in a database of its own (the suite's kind: SQLite or PostgreSQL)."""
    url = new_database(tmp_path, "ledger")
    build_in(url, tmp_path / "build", CUSTOMERS, tmp_path / "csv")
    yield url
    drop_database(url)


def cycle_in(url: str, var: Path, workers: int) -> None:
    env = environment(url, var, RELANCE_CYCLE_WORKERS=str(workers))
    checked(
        subprocess.run(
            cycle_command(DAY, BATCH, "cycle"),
            env=env,
            cwd=var.parent,
            capture_output=True,
            text=True,
            timeout=300,
        )
    )


def test_two_workers_write_what_one_process_writes(ledger, tmp_path):
    alone = clone_database(ledger, tmp_path, "alone")
    try:
        cycle_in(alone, tmp_path / "alone", workers=1)
        cycle_in(ledger, tmp_path / "two", workers=2)
        expected, found = outcome(alone, DAY), outcome(ledger, DAY)
        counts = "SELECT CAST(counts AS TEXT) FROM relance_run"
        runs = [json.loads(c) for (c,) in query(alone, counts) + query(ledger, counts)]
    finally:
        drop_database(alone)
    assert len(expected["executions"]) > 100
    assert sorted(found["executions"]) == sorted(expected["executions"])
    assert sorted(m[:4] for m in found["messages"]) == sorted(m[:4] for m in expected["messages"])
    assert len(found["items"]) == len(expected["items"]) > 0
    assert [r.get("workers", 1) for r in runs] == [1, 2]
    assert runs[0]["actions"] == runs[1]["actions"]


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_a_worker_killed_mid_run_ends_the_run_and_the_day_run_again_completes(tmp_path):
    """A worker that dies (SIGKILL, the out-of-memory killer) must not leave the run waiting for
    it forever: the run fails, keeps what it wrote, and the same day run again completes it."""
    url = new_database(tmp_path, "killed")
    try:
        build_in(url, tmp_path / "build", 1500, tmp_path / "csv")
        reference = clone_database(url, tmp_path, "reference")
        cycle_in(reference, tmp_path / "reference", workers=1)
        expected = outcome(reference, DAY)
        drop_database(reference)

        env = environment(url, tmp_path / "var", RELANCE_CYCLE_WORKERS="2")
        run = start(cycle_command(DAY, 20, "cycle"), env, tmp_path)
        written = "SELECT count(*) FROM relance_execution"
        kill_when(
            run,
            lambda: query(url, written)[0][0] >= 60,
            "with spans written",
            victim=lambda: children(run.pid)[0],
        )
        assert run.wait(timeout=60) != 0
        assert "BrokenProcessPool" in run.errors.read_text()  # type: ignore[attr-defined]
        partial = outcome(url, DAY)
        assert 60 <= len(partial["executions"]) < len(expected["executions"])

        cycle_in(url, tmp_path / "again", workers=2)
        final = outcome(url, DAY)
    finally:
        drop_database(url)
    assert duplicates([row[0] for row in final["executions"]]) == []
    assert sorted(final["executions"]) == sorted(expected["executions"])
    assert sorted(m[0] for m in final["messages"]) == sorted(m[0] for m in expected["messages"])


# Runs a cycle on two workers over ranges of 5 customers; once the first range is written and the
# workers have had time to compose the ranges submitted ahead, another connection puts the
# customers of the third range on hold. Prints who was held and who was acted on.
STALE = """
import json, os, sqlite3, sys, time
from datetime import date
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
import django
django.setup()
from relance.models import Customer
from relance.services.dunning import workers
from relance.services.ledger import snapshots
path, day = sys.argv[1], date.fromisoformat(sys.argv[2])
spans = snapshots.customers_in_batches(day, 5)
held = spans[2]
names = dict(Customer.objects.filter(pk__in=held).values_list("pk", "external_id"))
parts = workers.reports(spans, day, None, dry_run=False, run_id=None)
acted = [a["customer"] for a in next(parts).actions]
time.sleep(2)
other = sqlite3.connect(path)
with other:
    marks = ", ".join("?" * len(held))
    hold = f"UPDATE relance_customer SET hold_until = '2099-12-31' WHERE id IN ({marks})"
    other.execute(hold, held)
other.close()
acted += [a["customer"] for part in parts for a in part.actions]
print(json.dumps({"held": sorted(names.values()), "acted": acted}))
"""


def test_a_commit_made_while_workers_compose_is_not_ignored(tmp_path):
    """SQLite's mechanism, on an SQLite file whichever database the suite runs on."""
    path = tmp_path / "stale.sqlite3"
    url = f"sqlite:///{path}"
    build_in(url, tmp_path / "build", 60, tmp_path / "csv")
    before = clone_database(url, tmp_path, "before")
    env = environment(url, tmp_path / "var", RELANCE_CYCLE_WORKERS="2")
    done = checked(
        subprocess.run(
            [PYTHON, "-c", STALE, str(path), DAY],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
    )
    found = json.loads(done.stdout)
    held, acted = set(found["held"]), found["acted"]

    cycle_in(before, tmp_path / "before", workers=1)
    everyone = {
        c
        for (c,) in query(
            before,
            "SELECT c.external_id FROM relance_execution e"
            " JOIN relance_customer c ON c.id = e.customer_id",
        )
    }
    assert held & everyone  # without the hold, some would have been dunned
    assert held.isdisjoint(acted)
    assert sorted(acted) == sorted(everyone - held)
