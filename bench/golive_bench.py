"""Go-live projection benchmark: what the go-live page computes, on the synthetic ledger.

Imports the generated ledger (default 100k customers, 1M open invoices) into a fresh SQLite
database as bench/cycle_bench.py does (customers, contacts, invoices, the standard plan given to
every customer), then times, each in its own process with its peak RSS:

* the projection: `services.dunning.golive.project(company, D, "step1")`, what the go-live page
  shows, nothing written;
* the baseline, measured in the same run: the first cycle itself in one process,
  `relance run --date D --no-deliver` with RELANCE_CYCLE_WORKERS=1, on a copy of the ledger. The
  projection is the cycle's own composing without the writes, so projection/cycle is the figure
  to watch (about 1: it costs what a first cycle costs, which is why the page must not compute it
  in a web worker's request at this size).

`--before REV` also times the projection of another revision of relance/ (e.g. the commit before
a change) on the same database, extracted with `git archive`.

    .venv/bin/python bench/golive_bench.py [--customers N] [--invoices N] [--before REV] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import (  # noqa: E402
    embedded_env,
    generated_ledger,
    import_under_standard_plan,
    ledger_arguments,
    run_measured,
)

ROOT = HERE.parent
BIN = Path(sys.executable).parent
DEFAULT_DAY = date(2026, 11, 23)  # the generator's `today`


def project_here(source: Path, day: date, policy: str) -> None:
    """The child: the projection of the default company, timed inside the process (Django's
    start-up left out), as JSON on stdout."""
    sys.path.insert(0, str(source))
    import django

    django.setup()
    from relance.models import Company
    from relance.services.dunning import golive

    company = Company.objects.get(code="default")
    start = time.perf_counter()
    found = golive.project(company, day, policy)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "actions": found.actions, "customers": found.customers}))


def projection(source: Path, day: date, env: dict[str, str]) -> dict[str, Any]:
    args = [sys.executable, str(Path(__file__).resolve()), "--child", str(source)]
    args += ["--date", day.isoformat()]
    wall, rss, out = run_measured(args, env)
    found = json.loads(out)
    return {
        "seconds": round(found["seconds"], 2),
        "process_seconds": round(wall, 2),
        "peak_rss_mib": round(rss / 2**20, 1),
        "actions": found["actions"],
        "customers": found["customers"],
    }


def backup(src: Path, dst: Path) -> None:
    """A consistent copy of a WAL-mode SQLite database."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def revision(rev: str, work: Path) -> Path:
    """relance/ as of `rev`, extracted under `work` (never a git worktree)."""
    target = work / f"source-{rev}"
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "relance"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = ledger_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--date", type=date.fromisoformat, default=DEFAULT_DAY, dest="day")
    parser.add_argument("--before", help="also time the projection of this git revision")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # internal
    args = parser.parse_args()
    if args.child:
        project_here(args.child, args.day, "step1")
        return

    say = (lambda *a: None) if args.json else print
    data = generated_ledger(args.out, args.customers, args.invoices, args.seed, say)
    work = Path(tempfile.mkdtemp(prefix="relance-golive-bench-"))
    env = embedded_env(work)
    relance = str(BIN / "relance")
    db = work / "relance.sqlite3"
    figures: dict[str, Any] = {
        "customers": args.customers,
        "invoices": args.invoices,
        "date": args.day.isoformat(),
        "load_before": load_average(),
    }
    try:
        say(f"importing into {db} …")
        import_under_standard_plan(
            relance, db, data, env, ["customers", "contacts", "invoices"], say
        )

        say("projection …")
        figures["projection"] = projection(ROOT, args.day, env)
        if args.before:
            say(f"projection as of {args.before} …")
            figures["projection_before"] = projection(revision(args.before, work), args.day, env)

        say("baseline: the first cycle in one process, on a copy …")
        var = work / "cycle"
        backup(db, var / "relance.sqlite3")
        cycle_env = {**env, "RELANCE_VAR_DIR": str(var), "RELANCE_CYCLE_WORKERS": "1"}
        run = [relance, "run", "--date", args.day.isoformat(), "--no-deliver", "--json"]
        seconds, rss, out = run_measured(run, cycle_env)
        figures["first_cycle"] = {
            "seconds": round(seconds, 2),
            "peak_rss_mib": round(rss / 2**20, 1),
            "actions": len(json.loads(out)["actions"]),
        }
        figures["ratio_projection_to_cycle"] = round(
            figures["projection"]["seconds"] / max(seconds, 1e-9), 2
        )
        figures["load_after"] = load_average()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print()
    print(f"go-live projection, {args.customers:,} customers / {args.invoices:,} invoices")
    rows = [("projection (step1)", figures["projection"])]
    if "projection_before" in figures:
        rows.append((f"projection as of {args.before}", figures["projection_before"]))
    rows.append(("first cycle, 1 process", figures["first_cycle"]))
    for name, f in rows:
        print(f"  {name:<32} {f['seconds']:8.2f} s  {f['peak_rss_mib']:8.1f} MiB  {f['actions']:,}")
    print(f"  projection / first cycle        {figures['ratio_projection_to_cycle']:8.2f}")
    print(f"  load average before / after     {figures['load_before']} / {figures['load_after']}")


if __name__ == "__main__":
    main()
