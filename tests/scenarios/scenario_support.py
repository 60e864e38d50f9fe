"""Helpers for the scenario tests: generated ledgers, databases of their own, subprocesses.

Not a test module. The scenario tests import it (pytest puts this folder on sys.path), and
subprocesses run its `main()` to build a ledger in the database their DATABASE_URL names:

    python tests/scenarios/scenario_support.py build CUSTOMERS DIRECTORY

Databases of their own are fresh SQLite files, or fresh PostgreSQL databases when the suite runs on
PostgreSQL (as in tests/cli/test_console_script.py); `clone` copies one (SQLite backup API,
PostgreSQL `CREATE DATABASE … TEMPLATE`) so two runs can start from identical ledgers.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import time as clock_time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PYTHON = sys.executable
RELANCE = str(Path(sys.executable).parent / "relance")
STANDARD_PLAN = ROOT / "relance" / "plans" / "standard.yaml"
DAY = "2026-11-23"  # LedgerSpec's default `today`: the generated ledgers are as of that day


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres")


# --------------------------------------------------------------------------------------------------
# Ledgers
# --------------------------------------------------------------------------------------------------


def build_ledger(customers: int, directory: Path, seed: int = 7) -> dict[str, int]:
    """Import a generated ledger into the current Django database and put every customer on the
    shipped `standard` plan. Returns the rows imported per kind."""
    from relance.demo.generator import KINDS, LedgerSpec, write_csvs
    from relance.models import Company, Customer, Plan
    from relance.services.dunning.plans import load_plans
    from relance.services.ledger.imports import import_file
    from relance.services.organisation.companies import ensure_default_company, get_company

    ensure_default_company()
    company = get_company("default")
    spec = dataclasses.replace(LedgerSpec(), customers=customers, seed=seed)
    files = write_csvs(spec, directory)
    counts = {}
    for kind in KINDS:
        result = import_file(kind, files[kind], company)
        assert result.ok, (kind, result.errors[:3])
        counts[kind] = result.created
    load_plans(STANDARD_PLAN.read_text(encoding="utf-8"))
    Customer.objects.update(plan=Plan.objects.get(code="standard", company=company))
    # Messages may leave at any hour: these ledgers are dated today, and the tests must not
    # depend on the hour they run at (business hours have tests of their own).
    Company.objects.update(send_days="1234567", send_from=clock_time(0), send_until=clock_time.max)
    return counts


def main(argv: list[str]) -> None:
    """`build CUSTOMERS DIRECTORY`: migrate the DATABASE_URL database and import a ledger."""
    command, customers, directory = argv
    assert command == "build", argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    print(build_ledger(int(customers), Path(directory)))


# --------------------------------------------------------------------------------------------------
# Databases of their own
# --------------------------------------------------------------------------------------------------


def _admin_url() -> str:
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"


def new_database(tmp_path: Path, label: str) -> str:
    """The URL of a new, empty database (SQLite file under tmp_path, or PostgreSQL database)."""
    if not on_postgres():
        return f"sqlite:///{tmp_path / f'{label}.sqlite3'}"
    import psycopg

    name = f"relance_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin_url(), autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + name


def clone_database(url: str, tmp_path: Path, label: str) -> str:
    """A new database holding a copy of `url` (nobody may be connected to `url` meanwhile)."""
    if url.startswith("sqlite"):
        target = tmp_path / f"{label}.sqlite3"
        with sqlite3.connect(url.removeprefix("sqlite:///")) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return f"sqlite:///{target}"
    import psycopg

    source = url.rsplit("/", 1)[1]
    name = f"relance_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin_url(), autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return url.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    if not url.startswith("postgres"):
        return  # SQLite files go with tmp_path
    import psycopg

    with psycopg.connect(_admin_url(), autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read a database of its own from the test process, outside Django's connections."""
    if url.startswith("sqlite"):
        con = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
        try:
            return con.execute(sql.replace("%s", "?"), params).fetchall()
        finally:
            con.close()
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        return con.execute(sql, params).fetchall()


# --------------------------------------------------------------------------------------------------
# A channel that keeps count
# --------------------------------------------------------------------------------------------------

RECORDING_CHANNEL = "scenario_support.RecordingChannel"


class RecordingChannel:
    """The file channel, plus one line per `send` call appended to <outbox dir>/sent.log.

    The file channel itself cannot tell a message sent twice from one sent once (a second send
    replaces the file); this log can, across threads and processes (one O_APPEND write a line).
    SCENARIO_SEND_SECONDS makes each send that slow (a remote service), after the message left.
    """

    def send(self, delivery: Any) -> Any:
        import json
        import threading

        from django.conf import settings

        from relance.channels.file import FileChannel
        from relance.models import OutboxMessage

        directory = Path(settings.RELANCE_OUTBOX_DIR)
        sent = FileChannel(directory).send(delivery)
        # The worker holding the claim, read from the database: who sent it, as the outbox saw.
        worker = (
            OutboxMessage.objects.filter(pk=delivery.outbox_id)
            .values_list("claimed_by", flat=True)
            .first()
        )
        line = json.dumps(
            {
                "key": delivery.key,
                "id": delivery.outbox_id,
                "worker": worker,
                "pid": os.getpid(),
                "thread": threading.current_thread().name,
            }
        )
        log = os.open(directory / "sent.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(log, (line + "\n").encode())
        finally:
            os.close(log)
        if delay := float(os.environ.get("SCENARIO_SEND_SECONDS", 0)):
            import time

            time.sleep(delay)
        return sent


def sends(outbox: Path) -> list[dict[str, Any]]:
    """Every `send` call the recording channel saw, in order."""
    import json

    log = outbox / "sent.log"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def channel_files(outbox: Path) -> dict[str, int]:
    """How many files the file channel wrote per outbox key."""
    import json

    found: Counter[str] = Counter()
    for path in outbox.glob("*/*.json"):
        found[json.loads(path.read_text(encoding="utf-8"))["key"]] += 1
    return dict(found)


# --------------------------------------------------------------------------------------------------
# Subprocesses
# --------------------------------------------------------------------------------------------------


def environment(url: str, var: Path, **extra: str) -> dict[str, str]:
    """A subprocess's environment: its own database and var directory, the recording channel,
    no broker unless `extra` names one."""
    env = {**os.environ, "DATABASE_URL": url, "RELANCE_VAR_DIR": str(var)}
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "RELANCE_OUTBOX_DIR"):
        env.pop(name, None)
    for channel in ("EMAIL", "SMS", "LETTER"):
        env[f"RELANCE_{channel}_CHANNEL"] = RECORDING_CHANNEL
    env.update(extra)
    path = [str(ROOT), str(HERE), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
    return env


def checked(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"{done.args!r} exited {done.returncode}:\n{done.stderr[-4000:]}"
    return done


def build_in(url: str, var: Path, customers: int, directory: Path) -> None:
    """Migrate the database `url` and import a generated ledger into it, in a subprocess."""
    checked(
        subprocess.run(
            [PYTHON, str(HERE / "scenario_support.py"), "build", str(customers), str(directory)],
            env=environment(url, var),
            cwd=var.parent,
            capture_output=True,
            text=True,
            timeout=300,
        )
    )


# One cycle in-process with small batches (`cycle`), and/or delivery of the outbox (`deliver`,
# or `deliver-after-lease`: as if the claim lease of a dead worker had run out).
SCRIPT = """
import os, sys
from datetime import date, timedelta
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
import django
django.setup()
from django.conf import settings
from django.utils import timezone
from relance.services.dunning.run import run
from relance.services.dunning.outbox import deliver_due
day, batch, steps = date.fromisoformat(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
if "cycle" in steps:
    run(day, batch_size=batch, deliver=False)
if "deliver" in steps:
    deliver_due(as_of=day, batch=batch)
if "deliver-after-lease" in steps:
    later = timezone.now() + timedelta(seconds=settings.RELANCE_CLAIM_LEASE_SECONDS + 1)
    deliver_due(as_of=day, batch=batch, now=later)
"""


def cycle_command(day: str, batch: int, *steps: str) -> list[str]:
    """`python -c` running `steps` (cycle, deliver, deliver-after-lease) with batches of `batch`."""
    return [PYTHON, "-c", SCRIPT, day, str(batch), *steps]


def start(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """Start in the background; stderr goes to a file (a pipe nobody reads could fill up)."""
    errors = cwd / f"stderr-{time.monotonic_ns()}.txt"
    with errors.open("w") as file:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=file, text=True
        )
    process.errors = errors  # type: ignore[attr-defined]
    return process


def wait(process: subprocess.Popen[str]) -> None:
    process.wait(timeout=120)
    assert process.returncode == 0, process.errors.read_text()[-4000:]  # type: ignore[attr-defined]


def finish(command: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]


def kill_when(
    process: subprocess.Popen[str],
    ready: Callable[[], bool],
    what: str,
    victim: Callable[[], int] | None = None,
) -> None:
    """SIGKILL the process (or the one `victim()` names) as soon as `ready()`; the process must
    still be running then."""
    import pytest

    deadline = time.monotonic() + 60
    while not ready():
        if process.poll() is not None:
            errors = process.errors.read_text()[-4000:]  # type: ignore[attr-defined]
            pytest.fail(f"ended ({process.returncode}) before it was killed, {what}:\n{errors}")
        assert time.monotonic() < deadline, f"not {what} after 60 s"
        time.sleep(0.01)
    if victim is not None:
        os.kill(victim(), signal.SIGKILL)
        return
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


# --------------------------------------------------------------------------------------------------
# What a database holds after a cycle
# --------------------------------------------------------------------------------------------------


def duplicates(values: list[Any]) -> list[Any]:
    return [v for v, n in Counter(values).items() if n > 1]


def outcome(url: str, day: str) -> dict[str, Any]:
    """Executions of `day`, and every outbox message and action item, in the database `url`."""
    executions = query(
        url,
        "SELECT e.key, c.external_id, e.step_name, e.reference_external_id, e.status, e.reason,"
        " e.customer_facing, CAST(e.superseded AS TEXT) FROM relance_execution e"
        " JOIN relance_customer c ON c.id = e.customer_id WHERE e.date = %s",
        (day,),
    )
    messages = query(url, "SELECT key, status, claimed_by, attempts, id FROM relance_outboxmessage")
    items = query(url, "SELECT execution_id FROM relance_actionitem")
    return {"executions": executions, "messages": messages, "items": items}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(sys.argv[1:])
