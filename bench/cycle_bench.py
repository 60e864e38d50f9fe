"""Dunning cycle benchmark: a synthetic ledger (default 100k customers, 1M open invoices) in SQLite.

Imports the ledger into a fresh SQLite database (customers, contacts, invoices; `--with-payments`
adds credit notes and payments, leaving far fewer invoices open), loads the standard plan and gives
it to every customer, then times, each in its own process:

* the cycle: `relance run --date D --no-deliver --json` (evaluate, write executions, outbox and
  action items) on as many worker processes as the machine has cores (the embedded default), with
  its peak RSS, then `relance deliver` as its own figure;
* the same first cycle in one process (RELANCE_CYCLE_WORKERS=1), on a copy of the ledger;
* the rerun of the same day, which must create nothing;
* the following day, where nothing changed but the date;
* the "limit": ONE hand-written SQL query (sqlite3, no ORM) computing the same set of due
  (customer, step) pairs a first run acts on; its pairs are compared with the cycle's actions;
* the "peer style": a naive per-customer ORM loop (one query per invoice for its amount due) on a
  sample of customers, scaled up to the whole ledger.

The ratios cycle/limit and peer/cycle are the figures to watch; absolute seconds depend on the
machine. Goal: cycle <= 10x the limit, peak RSS < 1 GiB, the following day far closer to the limit.

    .venv/bin/python bench/cycle_bench.py [--customers N] [--invoices N] [--date D] [--json]
    .venv/bin/python bench/cycle_bench.py --customers 10000 --invoices 100000 --profile
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
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import (  # noqa: E402
    embedded_env,
    generated_ledger,
    import_under_standard_plan,
    profile_report,
    run_measured,
)

ROOT = HERE.parent
BIN = Path(sys.executable).parent
DEFAULT_DAY = date(2026, 11, 23)  # the generator's `today`: the ledger is cut on that day

Pair = tuple[str, int]  # (customer external id, 1-based step index)


# --------------------------------------------------------------------------------------------------
# The limit: one hand-written SQL query
# --------------------------------------------------------------------------------------------------

#: Per customer with a plan (and not on hold): the reference invoice (rule 3: earliest due date,
#: then issue date, number, id, among invoices issued by :day, not void, not disputed, with an
#: amount due above the plan's tolerance for their currency, amount due = total - allocations dated
#: <= :day) and the most advanced active step whose trigger date is <= :day. On a fresh ledger
#: (no history, no promise) that is exactly what a first run executes.
#: The reference is found with SQLite's documented bare-column rule: with a single MIN() aggregate,
#: the other columns come from the row holding the minimum. The key orders as rule 3 does: the ISO
#: dates are fixed-width and a space sorts before any character of a number. (A ROW_NUMBER() window
#: gives the same pairs but took 2-4x longer, and the limit is meant to be the fastest honest SQL.)
LIMIT_SQL = """
WITH tolerance AS (
    SELECT p.id AS plan_id, j.key AS currency, CAST(j.value AS REAL) AS amount
    FROM relance_plan AS p, json_each(p.tolerance) AS j
),
settled AS (
    SELECT invoice_id, SUM(amount) AS amount
    FROM relance_allocation
    WHERE date <= :day
    GROUP BY invoice_id
),
reference AS (
    SELECT i.customer_id, c.plan_id, i.issue_date, i.due_date,
           MIN(i.due_date || i.issue_date || i.number || ' ' || i.external_id)
    FROM relance_invoice AS i
    JOIN relance_customer AS c ON c.id = i.customer_id
    LEFT JOIN tolerance AS t ON t.plan_id = c.plan_id AND t.currency = i.currency
    LEFT JOIN settled AS s ON s.invoice_id = i.id
    WHERE c.plan_id IS NOT NULL
      AND (c.hold_until IS NULL OR c.hold_until < :day)
      AND i.status <> 'void'
      AND i.issue_date <= :day
      AND i.total - COALESCE(s.amount, 0) > COALESCE(t.amount, 0)
      AND NOT EXISTS (
          SELECT 1 FROM relance_dispute AS d
          WHERE d.invoice_id = i.id AND d.opened_on <= :day
            AND (d.resolved_on IS NULL OR d.resolved_on > :day)
      )
    GROUP BY i.customer_id
)
SELECT c.external_id, MAX(st.position)
FROM reference AS r
JOIN relance_customer AS c ON c.id = r.customer_id
JOIN relance_step AS st ON st.plan_id = r.plan_id AND st.active
WHERE date(CASE st.trigger_from WHEN 'issue_date' THEN r.issue_date ELSE r.due_date END,
           printf('%+d days', st.trigger_days)) <= :day
GROUP BY r.customer_id
"""


def limit_pairs(db: Path, day: date, repeat: int = 3) -> tuple[float, set[Pair]]:
    """Best of `repeat` timings of LIMIT_SQL on a fresh connection each, and its pairs."""
    best = float("inf")
    pairs: set[Pair] = set()
    for _ in range(repeat):
        con = sqlite3.connect(db)
        start = time.perf_counter()
        rows = con.execute(LIMIT_SQL, {"day": day.isoformat()}).fetchall()
        best = min(best, time.perf_counter() - start)
        con.close()
        pairs = {(ext, int(index)) for ext, index in rows}
    return best, pairs


def ledger_counts(db: Path, day: date) -> dict[str, int]:
    """Customers with a plan, invoices, and invoices open on `day` (amount due > 0, not void)."""
    con = sqlite3.connect(db)
    try:
        customers = con.execute(
            "SELECT COUNT(*) FROM relance_customer WHERE plan_id IS NOT NULL"
        ).fetchone()[0]
        invoices = con.execute("SELECT COUNT(*) FROM relance_invoice").fetchone()[0]
        open_ = con.execute(
            """
            SELECT COUNT(*) FROM relance_invoice AS i
            LEFT JOIN (SELECT invoice_id, SUM(amount) AS amount FROM relance_allocation
                       WHERE date <= :day GROUP BY invoice_id) AS s ON s.invoice_id = i.id
            WHERE i.status <> 'void' AND i.issue_date <= :day
              AND i.total - COALESCE(s.amount, 0) > 0
            """,
            {"day": day.isoformat()},
        ).fetchone()[0]
    finally:
        con.close()
    return {"customers": customers, "invoices": invoices, "open_invoices": open_}


# --------------------------------------------------------------------------------------------------
# The peer style: a naive per-customer ORM loop (run in its own process with --peer)
# --------------------------------------------------------------------------------------------------


def peer_style(day: date, sample: int) -> dict[str, Any]:
    """What a typical app does: per customer, its plan and steps, its invoices, one query per
    invoice for the amount due, pick the reference, find the most advanced due step. No writes."""
    import django

    django.setup()
    from decimal import Decimal

    from django.db.models import Q

    from relance.models import Customer, Dispute

    start = time.perf_counter()
    pairs: list[Pair] = []
    sampled: list[str] = []
    customers = Customer.objects.filter(plan__isnull=False).order_by("pk")[:sample]
    seen = 0
    for customer in customers:
        seen += 1
        sampled.append(customer.external_id)
        plan = customer.plan
        assert plan is not None
        if customer.hold_until and customer.hold_until >= day:
            continue
        steps = list(plan.steps.filter(active=True).order_by("position"))
        disputed = set(
            Dispute.objects.filter(customer=customer, opened_on__lte=day)
            .filter(Q(resolved_on__isnull=True) | Q(resolved_on__gt=day))
            .values_list("invoice_id", flat=True)
        )
        open_invoices = []
        for invoice in customer.invoices.exclude(status="void").filter(issue_date__lte=day):
            tolerance = Decimal(plan.tolerance.get(invoice.currency, "0"))
            if invoice.pk not in disputed and invoice.amount_due(day) > tolerance:
                open_invoices.append(invoice)
        if not open_invoices:
            continue
        reference = min(
            open_invoices, key=lambda i: (i.due_date, i.issue_date, i.number, i.external_id)
        )
        due = [
            step.position
            for step in steps
            if (reference.issue_date if step.trigger_from == "issue_date" else reference.due_date)
            + timedelta(days=step.trigger_days)
            <= day
        ]
        if due:
            pairs.append((customer.external_id, max(due)))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "customers": seen, "pairs": pairs, "sampled": sampled}


# --------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------


def cycle(relance: str, day: date, env: dict[str, str]) -> tuple[float, int, dict[str, Any]]:
    """The cycle proper, `relance run --date D --no-deliver --json` (deciding and writing), then the
    delivery of what it queued, `relance deliver`, as its own figure: delivery is the channels'
    throughput (here files), not the engine's. Returns the cycle's seconds and the larger peak RSS;
    the report gets `_deliver_seconds`."""
    SOURCES.add(source_state())  # other people may commit while a long benchmark runs
    args = [relance, "run", "--date", day.isoformat(), "--json", "--no-deliver"]
    seconds, rss, out = run_measured(args, env)
    report = json.loads(out)
    delivery, rss2, _ = run_measured([relance, "deliver", "--date", day.isoformat(), "--json"], env)
    report["_deliver_seconds"] = delivery
    return seconds, max(rss, rss2), report


def workers_of_first_run(db: Path) -> int:
    """How many worker processes the first run composed its batches on (1: none)."""
    con = sqlite3.connect(db)
    try:
        (counts,) = con.execute("SELECT counts FROM relance_run ORDER BY id LIMIT 1").fetchone()
    finally:
        con.close()
    return int(json.loads(counts).get("workers", 1))


def one_process(work: Path, day: date, env: dict[str, str], pairs: set[Pair]) -> dict[str, Any]:
    """The first cycle again, on a copy of the ledger before it, without worker processes: what
    one core does. Its actions must be the same pairs."""
    var = work / "one-process"
    backup(work / "before-first-run.sqlite3", var / "relance.sqlite3")
    args = [str(BIN / "relance"), "run", "--date", day.isoformat(), "--json", "--no-deliver"]
    single = {**env, "RELANCE_VAR_DIR": str(var), "RELANCE_CYCLE_WORKERS": "1"}
    seconds, rss, out = run_measured(args, single)
    actions = json.loads(out)["actions"]
    found = {(a["customer"], a["step_index"]) for a in actions}
    shutil.rmtree(var, ignore_errors=True)
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(rss / 2**20, 1),
        "actions": len(actions),
        "same_pairs": found == pairs,
    }


SOURCES: set[str] = set()


def source_state() -> str:
    """The commit the figures are for, and whether relance/ had uncommitted changes (read-only)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "relance"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes in relance/" if dirty else "")


def backup(src: Path, dst: Path) -> None:
    """A consistent copy of a WAL-mode SQLite database."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def profile_cycle(snapshot: Path, day: date, work: Path, env: dict[str, str], top: int) -> str:
    """Run the first cycle again on a copy of the pre-run database, under cProfile, in one
    process (cProfile does not follow worker processes)."""
    var = work / "profile"
    backup(snapshot, var / "relance.sqlite3")
    stats = var / "cycle.pstats"
    code = (
        "import cProfile, sys; from relance.cli.main import main; "
        f"sys.argv = ['relance', 'run', '--date', '{day.isoformat()}', '--json', '--no-deliver']; "
        f"cProfile.run('main()', {str(stats)!r})"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "RELANCE_VAR_DIR": str(var), "RELANCE_CYCLE_WORKERS": "1"},
        capture_output=True,
        check=False,
    )
    if not stats.exists():
        raise SystemExit(f"profiled run failed:\n{proc.stderr.decode()[-2000:]}")
    return profile_report(stats, top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--date", type=date.fromisoformat, default=DEFAULT_DAY, dest="day")
    parser.add_argument("--sample", type=int, default=10_000, help="customers in the peer loop")
    parser.add_argument(
        "--with-payments",
        action="store_true",
        help="Also import credit notes and payments (most invoices are then paid, not open).",
    )
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--profile", action="store_true", help="Also profile the first cycle.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary database.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON only.")
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)  # internal
    args = parser.parse_args()

    if args.peer:
        print(json.dumps(peer_style(args.day, args.sample)))
        return

    say = (lambda *a: None) if args.json else print
    data = generated_ledger(args.out, args.customers, args.invoices, args.seed, say)
    work = Path(tempfile.mkdtemp(prefix="relance-cycle-bench-"))
    env = embedded_env(work)  # the embedded, in-process cycle
    relance = str(BIN / "relance")
    db = work / "relance.sqlite3"
    day, next_day = args.day, args.day + timedelta(days=1)
    figures: dict[str, Any] = {
        "date": day.isoformat(),
        "with_payments": args.with_payments,
    }
    profile_text = ""
    try:
        say(f"importing into {db} …")
        kinds = ["customers", "contacts", "invoices"]
        if args.with_payments:
            kinds += ["credit-notes", "payments"]
        import_under_standard_plan(relance, db, data, env, kinds, say)
        figures.update(ledger_counts(db, day))
        backup(db, work / "before-first-run.sqlite3")

        say(f"cycle {day} …")
        seconds, rss, report = cycle(relance, day, env)
        actions = report["actions"]
        figures["cycle"] = {
            "seconds": round(seconds, 2),
            "deliver_seconds": round(report.get("_deliver_seconds", 0.0), 2),
            "peak_rss_mib": round(rss / 2**20, 1),
            "actions": len(actions),
            "skipped": len(report["skipped"]),
            "queued_or_sent": sum(a["status"] in ("queued", "sent") for a in actions),
        }
        cycle_pairs = {(a["customer"], a["step_index"]) for a in actions}
        del report, actions  # hundreds of MB at 100k customers; only the pairs are needed
        figures["cycle"]["workers"] = workers_of_first_run(db)

        say(f"cycle {day} in one process, on a copy …")
        figures["one_process"] = one_process(work, day, env, cycle_pairs)

        say(f"rerun {day} …")
        seconds, rss, again = cycle(relance, day, env)
        figures["rerun"] = {
            "seconds": round(seconds, 2),
            "peak_rss_mib": round(rss / 2**20, 1),
            "actions": len(again["actions"]),
            "skipped": len(again["skipped"]),
        }

        say(f"following day {next_day} …")
        seconds, rss, following = cycle(relance, next_day, env)
        figures["next_day"] = {
            "seconds": round(seconds, 2),
            "peak_rss_mib": round(rss / 2**20, 1),
            "actions": len(following["actions"]),
            "skipped": len(following["skipped"]),
        }

        say("SQL limit …")
        limit, sql_pairs = limit_pairs(db, day)
        agree = len(cycle_pairs & sql_pairs)
        only_cycle = sorted(cycle_pairs - sql_pairs)
        only_sql = sorted(sql_pairs - cycle_pairs)
        figures["limit"] = {
            "seconds": round(limit, 3),
            "pairs": len(sql_pairs),
            "agreement_pct": round(100 * agree / max(len(cycle_pairs | sql_pairs), 1), 3),
            "only_in_cycle": len(only_cycle),
            "only_in_sql": len(only_sql),
            "examples_only_in_cycle": only_cycle[:5],
            "examples_only_in_sql": only_sql[:5],
        }

        sample = min(args.sample, figures["customers"])
        say(f"peer style on {sample:,} customers …")
        _, peer_rss, out = run_measured(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--peer",
                "--date",
                day.isoformat(),
                "--sample",
                str(sample),
            ],
            env,
        )
        peer = json.loads(out)
        peer_pairs = {(ext, index) for ext, index in peer["pairs"]}
        sampled = set(peer["sampled"])
        sampled_sql = {p for p in sql_pairs if p[0] in sampled}
        scale = figures["customers"] / max(peer["customers"], 1)
        figures["peer"] = {
            "sample_customers": peer["customers"],
            "sample_seconds": round(peer["seconds"], 2),
            "scaled_seconds": round(peer["seconds"] * scale, 1),
            "peak_rss_mib": round(peer_rss / 2**20, 1),
            "sample_pairs": len(peer_pairs),
            "sample_pairs_off": len(peer_pairs ^ sampled_sql),
        }

        figures["source"] = " / ".join(sorted(SOURCES))  # more than one: the code changed
        cyc = figures["cycle"]["seconds"]
        figures["ratios"] = {
            "cycle_to_limit": round(cyc / limit, 1),
            "peer_to_cycle": round(figures["peer"]["scaled_seconds"] / cyc, 1),
            "next_day_to_limit": round(figures["next_day"]["seconds"] / limit, 1),
            "rerun_to_limit": round(figures["rerun"]["seconds"] / limit, 1),
            "one_process_to_limit": round(figures["one_process"]["seconds"] / limit, 1),
        }
        if args.profile:
            say("profiling the first cycle on a copy …")
            profile_text = profile_cycle(work / "before-first-run.sqlite3", day, work, env, top=40)
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_table(figures)
        if profile_text:
            print(profile_text)
    if figures["rerun"]["actions"] or figures["rerun"]["skipped"]:
        raise SystemExit("FAIL: the rerun of the same day created actions")


def print_table(f: dict[str, Any]) -> None:
    c, one, r, n, lim, peer, ratio = (
        f["cycle"],
        f["one_process"],
        f["rerun"],
        f["next_day"],
        f["limit"],
        f["peer"],
        f["ratios"],
    )
    rows = [
        ("customers (with a plan)", f"{f['customers']:,}"),
        ("invoices / open on the day", f"{f['invoices']:,} / {f['open_invoices']:,}"),
        ("cycle date", f["date"] + (" (with payments)" if f["with_payments"] else "")),
        (
            "cycle s (decide + write)",
            f"{c['seconds']}   then delivery of the messages to files: {c['deliver_seconds']} s",
        ),
        ("  actions / superseded skips", f"{c['actions']:,} / {c['skipped']:,}"),
        ("  worker processes", f"{c['workers']} (cores: {os.cpu_count()})"),
        ("  peak RSS MiB", f"{c['peak_rss_mib']}"),
        ("SQL limit s (best of 3)", f"{lim['seconds']}"),
        ("ratio cycle / limit", f"{ratio['cycle_to_limit']}x   (goal <= 10x)"),
        (
            "same cycle in one process s",
            f"{one['seconds']}  ({ratio['one_process_to_limit']}x the limit; "
            f"{one['actions']:,} actions, same pairs: {one['same_pairs']})",
        ),
        (
            "limit pairs / agreement",
            f"{lim['pairs']:,} / {lim['agreement_pct']} % "
            f"(only cycle {lim['only_in_cycle']}, only SQL {lim['only_in_sql']})",
        ),
        (
            "peer style s (scaled)",
            f"{peer['scaled_seconds']}  ({peer['sample_customers']:,} customers in "
            f"{peer['sample_seconds']} s, {peer['sample_pairs_off']} pairs off the SQL)",
        ),
        ("ratio peer / cycle", f"{ratio['peer_to_cycle']}x"),
        ("rerun s (actions, must be 0)", f"{r['seconds']}  ({r['actions']} actions)"),
        ("ratio rerun / limit", f"{ratio['rerun_to_limit']}x"),
        ("next day s (actions)", f"{n['seconds']}  ({n['actions']} actions)"),
        ("ratio next day / limit", f"{ratio['next_day_to_limit']}x"),
        (
            "peak RSS MiB max (goal < 1024)",
            f"{max(c['peak_rss_mib'], one['peak_rss_mib'], r['peak_rss_mib'], n['peak_rss_mib'])}",
        ),
    ]
    print(f"\ndunning cycle on SQLite (relance at {f['source']})")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if lim["only_in_cycle"] or lim["only_in_sql"]:
        print(f"examples only in the cycle: {lim['examples_only_in_cycle']}")
        print(f"examples only in the SQL:   {lim['examples_only_in_sql']}")


if __name__ == "__main__":
    main()
