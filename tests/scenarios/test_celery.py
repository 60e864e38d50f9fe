"""The same day, in-process and fanned out over a real Celery worker on Redis: the same result.

Two identical ledgers in databases of their own (SQLite files, or PostgreSQL databases when the
suite runs on PostgreSQL). `relance run --date D --json` runs the cycle in its own process on one;
on the other it runs with CELERY_BROKER_URL set, so each batch is a task a real worker executes
and the outbox is delivered by a task too.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis
from scenario_support import (
    DAY,
    RELANCE,
    build_in,
    channel_files,
    clone_database,
    drop_database,
    duplicates,
    environment,
    new_database,
    outcome,
    query,
    sends,
)

BROKER = "redis://127.0.0.1:6379/13"  # a database of its own on the shared Redis
CELERY = str(Path(RELANCE).parent / "celery")
CUSTOMERS = 1200  # two batches of the cycle's default 1,000: two tasks
NAMES = ("worker.log", "celery.json", "celery.err")


@pytest.fixture
def broker() -> Iterator[str]:
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    yield BROKER
    client.flushdb()
    client.close()


@pytest.fixture
def ledgers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two identical ledgers: one built, one cloned from it."""
    urls: list[str] = []
    try:
        urls.append(new_database(tmp_path, "inprocess"))
        build_in(urls[0], tmp_path / "build", CUSTOMERS, tmp_path / "csv")
        urls.append(clone_database(urls[0], tmp_path, "celery"))
        yield urls[0], urls[1]
    finally:
        for url in urls:
            drop_database(url)


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def actions(report: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {(a["customer"], a["step"], a["reference_invoice"], a["key"]) for a in report["actions"]}


def skipped(report: dict[str, Any]) -> Counter[tuple[Any, ...]]:
    return Counter(
        (s["customer"], s["step"], s["step_index"], s["reference_invoice"], s["reason"])
        for s in report["skipped"]
    )


def worker_log(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-4000:]


def test_the_same_day_in_process_and_over_celery(ledgers, broker, tmp_path):
    local, remote = ledgers
    local_var, remote_var = tmp_path / "local", tmp_path / "remote"
    remote_env = environment(remote, remote_var, CELERY_BROKER_URL=broker)
    command = [RELANCE, "run", "--date", DAY, "--json"]
    log = tmp_path / "worker.log"
    with ExitStack() as stack:
        # Files, not pipes: nobody reads them while the processes run, and the report is large.
        files = [stack.enter_context((tmp_path / name).open("w+")) for name in NAMES]
        worker = subprocess.Popen(
            [
                *(CELERY, "-A", "relance.tasks.celery", "worker", "--pool=solo", "-c", "1"),
                *("--loglevel=warning", "--without-gossip", "--without-mingle"),
                *("--without-heartbeat", "-n", f"relance-scenario-{os.getpid()}@%h"),
            ],
            env=remote_env,
            cwd=tmp_path,
            stdout=files[0],
            stderr=subprocess.STDOUT,
        )
        stack.callback(stop, worker)
        over_celery = subprocess.Popen(
            command, env=remote_env, cwd=tmp_path, stdout=files[1], stderr=files[2]
        )
        stack.callback(stop, over_celery)
        in_process = subprocess.run(
            command,
            env=environment(local, local_var),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert in_process.returncode == 0, in_process.stderr
        deadline = time.monotonic() + 90
        while over_celery.poll() is None:
            if worker.poll() is not None:
                pytest.fail(f"the Celery worker exited {worker.returncode}:\n{worker_log(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"`relance run` over Celery not done in 90 s:\n{worker_log(log)}")
            time.sleep(0.1)
        assert over_celery.returncode == 0, (tmp_path / "celery.err").read_text()
        here = json.loads(in_process.stdout)
        there = json.loads((tmp_path / "celery.json").read_text())

        # The same report: same steps for the same customers and invoices under the same keys.
        assert here["date"] == there["date"] == DAY
        assert len(here["actions"]) > 300
        assert sum(skipped(here).values()) > 300
        for report in (here, there):
            assert duplicates([a["key"] for a in report["actions"]]) == []
        assert actions(here) == actions(there)
        assert skipped(here) == skipped(there)
        # Every other field too, but the status: in-process delivery has already sent the
        # messages when the report prints, over Celery a task delivers them afterwards.
        assert {json.dumps({**a, "status": None}, sort_keys=True) for a in here["actions"]} == {
            json.dumps({**a, "status": None}, sort_keys=True) for a in there["actions"]
        }
        assert {a["status"] for a in here["actions"]} == {"sent", "open"}
        assert {a["status"] for a in there["actions"]} == {"queued", "open"}

        # The same database: executions, messages, action items, and a finished run.
        mine, theirs = outcome(local, DAY), outcome(remote, DAY)
        assert set(mine["executions"]) == set(theirs["executions"])
        assert len(mine["executions"]) == len(theirs["executions"])
        queued = {a["key"] for a in there["actions"] if a["status"] == "queued"}
        assert {k for k, *_ in mine["messages"]} == {k for k, *_ in theirs["messages"]} == queued
        assert len(mine["items"]) == len(theirs["items"])
        finished = "SELECT count(*) FROM relance_run WHERE finished_at IS NOT NULL"
        assert query(local, finished) == query(remote, finished) == [(1,)]

        # The worker's delivery task sends each message once, as the in-process run did.
        pending = "SELECT count(*) FROM relance_outboxmessage WHERE status <> %s"
        deadline = time.monotonic() + 60
        while query(remote, pending, ("sent",))[0][0]:
            assert worker.poll() is None, f"the worker died delivering:\n{worker_log(log)}"
            assert time.monotonic() < deadline, "the outbox was not delivered within 60 s"
            time.sleep(0.2)
        assert query(local, pending, ("sent",)) == [(0,)]
        for var in (local_var, remote_var):
            assert Counter(s["key"] for s in sends(var / "outbox")) == Counter(
                dict.fromkeys(queued, 1)
            )
            assert channel_files(var / "outbox") == dict.fromkeys(queued, 1)
        assert {s["pid"] for s in sends(remote_var / "outbox")} == {worker.pid}
