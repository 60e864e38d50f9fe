"""Running a benchmark step as its own process and measuring it."""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def ledger_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of the benchmarks on the generated 1M-invoice ledger: its size and seed,
    where its CSV files are kept, and JSON output."""
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON only.")
    return parser


def embedded_env(work: Path) -> dict[str, str]:
    """The environment of a `relance` child on its own SQLite database under `work`, in-process
    (whatever the benchmark's own shell points at)."""
    env = {**os.environ, "RELANCE_VAR_DIR": str(work), "DJANGO_SETTINGS_MODULE": "relance.settings"}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "RELANCE_DEBUG"):
        env.pop(name, None)
    return env


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run a command as a child; return its wall time, its own peak RSS (bytes, from wait4's
    rusage, so one step's memory is not mixed with the benchmark's) and its stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(
                f"{' '.join(args)} failed ({proc.returncode}):\n{err.read().decode()[-2000:]}"
            )
        return elapsed, usage.ru_maxrss * 1024, out.read().decode()


def generated_ledger(
    out: Path, customers: int, invoices: int, seed: int, say: Callable[..., Any]
) -> Path:
    """The CSV files of a synthetic ledger, generated once (in its own process) and reused."""
    data = out / f"ledger-{customers}-{invoices}-{seed}"
    if not (data / "payments.csv").exists():
        say(f"generating {customers:,} customers / {invoices:,} invoices …")
        script = Path(__file__).resolve().parent / "generate.py"
        seconds, _, _ = run_measured(
            [
                sys.executable,
                str(script),
                "--customers",
                str(customers),
                "--invoices",
                str(invoices),
                "--seed",
                str(seed),
                "--out",
                str(data),
            ],
            dict(os.environ),
        )
        say(f"  generated in {seconds:.1f} s")
    return data


def profile_report(stats: Path, top: int) -> str:
    """The `top` functions of a cProfile dump, by cumulative then by own time."""
    import io
    import pstats

    text = io.StringIO()
    report = pstats.Stats(str(stats), stream=text)
    report.sort_stats("cumulative").print_stats(top)
    report.sort_stats("tottime").print_stats(top)
    return text.getvalue()


#: Business hours open all day, every day: the benchmarks queue messages for "today", and their
#: figures must not depend on the hour they run at.
ALWAYS_OPEN = (
    "UPDATE relance_company SET send_days = '1234567', send_from = '00:00:00', "
    "send_until = '23:59:59.999999'"
)


STANDARD_PLAN = Path(__file__).resolve().parent.parent / "relance" / "plans" / "standard.yaml"


def import_under_standard_plan(
    relance: str, db: Path, data: Path, env: dict[str, str], kinds: list[str], say: Any
) -> None:
    """A fresh database with the generated ledger's `kinds` imported, each import timed, every
    customer given the standard plan and the company sending at any hour (what the cycle and
    go-live benches start from)."""
    run_measured([str(relance), "init"], env)
    for kind in kinds:
        seconds, _, _ = run_measured(
            [str(relance), "import", kind, str(data / f"{kind}.csv"), "--json"], env
        )
        say(f"  {kind:<13} {seconds:6.1f} s")
    run_measured([str(relance), "plan", "load", str(STANDARD_PLAN), "--json"], env)
    con = sqlite3.connect(db)
    with con:
        con.execute(
            "UPDATE relance_customer "
            "SET plan_id = (SELECT id FROM relance_plan WHERE code = 'standard')"
        )
        con.execute(ALWAYS_OPEN)
    con.close()
