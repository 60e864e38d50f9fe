"""KPI benchmark: `relance kpi` on the 1M-invoice ledger against one hand-written SQL aggregate.

Builds the benchmark ledger in SQLite (default 100k customers, 1M invoices with their payments and
credit notes, from bench/generate.py), then times, over the generator's last 90 days, the KPI
computation (services.analytics.kpi: receivables at the end of the period and the day before,
current, aging, credit sales; in process, after a warm-up run) and, as the limit, one plain SQL
query computing the same DSO with sqlite3 directly. Both DSOs must agree; goal: ratio <= 2x. It also
times the measures `relance kpi --more` adds (weighted days to pay, promise-kept rate…), and
the Analytics page's effectiveness table over the steps the standard plan's cycle runs 60 days
before the end (so the payments that followed are in the ledger), by step and by owner.

    .venv/bin/python bench/kpi_bench.py [--customers N] [--invoices N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import embedded_env, generated_ledger, ledger_arguments, run_measured  # noqa: E402

BIN = Path(sys.executable).parent
DAY = date(2026, 11, 23)  # the generator's `today`
PLAN = HERE.parent / "relance" / "plans" / "standard.yaml"
START = DAY - timedelta(days=89)

KPI = """
import json, time
from datetime import date
from relance.models import Company
from relance.services.analytics.kpi import kpis
start, end = date.fromisoformat({start!r}), date.fromisoformat({end!r})
companies = list(Company.objects.all())
kpis(start, end, companies)  # warm: connection, page cache
runs = []
for _ in range(3):
    t = time.perf_counter()
    found = kpis(start, end, companies)
    runs.append(time.perf_counter() - t)
from relance.services.analytics.kpi import measures
t = time.perf_counter()
for currency, figures in found.items():
    measures(start, end, companies, currency)
more = time.perf_counter() - t
print(json.dumps({{"seconds": min(runs), "more_seconds": more, "found": found}}))
"""

# Effectiveness of the steps a cycle ran 60 days before the end (payments came after them),
# against one grouped count of the same executions (no subqueries) as the floor.
EFFECT = """
import json, time
from datetime import date, timedelta
from django.db.models import Count
from relance.models import Execution
from relance.services.analytics import effectiveness
end = date.fromisoformat({end!r})
ran = Execution.objects.filter(date__gt=end - timedelta(days=90), date__lte=end)
found = {{}}
for by in ("step", "owner"):
    effectiveness.measure(ran, by)  # warm
    t = time.perf_counter()
    rows = effectiveness.measure(ran, by)
    found[by] = time.perf_counter() - t
t = time.perf_counter()
list(ran.values("plan_code", "step_name").annotate(n=Count("pk")))
floor = time.perf_counter() - t
paid = sum(r.paid[30] for r in rows)
print(json.dumps({{"executions": ran.count(), "seconds": found, "floor": floor,
                   "paid_30": str(paid)}}))
"""

# The limit: DSO per currency in one statement, as a person would write it by hand.
LIMIT = """
WITH owed AS (
    SELECT i.currency, i.total - COALESCE((
        SELECT SUM(a.amount) FROM relance_allocation a
        WHERE a.invoice_id = i.id AND a.date <= :end
    ), 0) AS due
    FROM relance_invoice i WHERE i.status = 'open' AND i.issue_date <= :end
), sales AS (
    SELECT currency, SUM(total) AS amount FROM relance_invoice
    WHERE status = 'open' AND issue_date BETWEEN :start AND :end GROUP BY currency
    UNION ALL
    SELECT currency, -SUM(amount) FROM relance_creditnote
    WHERE date BETWEEN :start AND :end GROUP BY currency
)
SELECT o.currency,
       SUM(o.due) * :days / (SELECT SUM(amount) FROM sales s WHERE s.currency = o.currency)
FROM owed o WHERE o.due > 0.00005 GROUP BY o.currency
"""


def _effectiveness(
    relance: str, env: dict[str, str], con: sqlite3.Connection, say: Any
) -> dict[str, Any]:
    """Run the standard plan's cycle 60 days before the end, then time effectiveness."""
    run_measured([relance, "plan", "load", str(PLAN), "--json"], env)
    with con:
        con.execute(
            "UPDATE relance_customer "
            "SET plan_id = (SELECT id FROM relance_plan WHERE code = 'standard')"
        )
    ran_on = DAY - timedelta(days=60)
    seconds, _, _ = run_measured(
        [relance, "run", "--date", ran_on.isoformat(), "--no-deliver", "--json"], env
    )
    say(f"  cycle of {ran_on}       {seconds:6.1f} s")
    script = EFFECT.format(end=DAY.isoformat())
    _, _, out = run_measured([relance, "manage", "shell", "-c", script], env)
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ledger_arguments(parser)
    args = parser.parse_args()
    say = (lambda *a: None) if args.json else print
    data = generated_ledger(args.out, args.customers, args.invoices, args.seed, say)
    work = Path(tempfile.mkdtemp(prefix="relance-kpi-bench-"))
    env = embedded_env(work)
    relance = str(BIN / "relance")
    try:
        say(f"building the ledger in {work} …")
        run_measured([relance, "init"], env)
        for kind in ("customers", "invoices", "credit-notes", "payments"):
            seconds, _, _ = run_measured(
                [relance, "import", kind, str(data / f"{kind}.csv"), "--json"], env
            )
            say(f"  imported {kind:<13} {seconds:6.1f} s")
        script = KPI.format(start=START.isoformat(), end=DAY.isoformat())
        _, rss, out = run_measured([relance, "manage", "shell", "-c", script], env)
        ours = json.loads(out.strip().splitlines()[-1])
        con = sqlite3.connect(work / "relance.sqlite3")
        params = {"start": START.isoformat(), "end": DAY.isoformat(), "days": 90}
        effect = _effectiveness(relance, env, con, say)
        con.execute(LIMIT, params).fetchall()  # warm the page cache as ours was
        runs, limit_rows = [], []
        for _ in range(3):
            start = time.perf_counter()
            limit_rows = con.execute(LIMIT, params).fetchall()
            runs.append(time.perf_counter() - start)
        con.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    limit = {currency: Decimal(str(dso)) for currency, dso in limit_rows if dso is not None}
    agree = all(
        abs(Decimal(str(ours["found"][c]["dso"])) - round(v, 1)) <= Decimal("0.1")
        for c, v in limit.items()
    )
    figures: dict[str, Any] = {
        "period": [START.isoformat(), DAY.isoformat()],
        "kpi_seconds": round(ours["seconds"], 3),
        "limit_seconds": round(min(runs), 3),
        "ratio": round(ours["seconds"] / min(runs), 2),
        "more_seconds": round(ours["more_seconds"], 3),
        "peak_rss_mib": round(rss / 2**20),
        "dso": {c: ours["found"][c]["dso"] for c in sorted(ours["found"])},
        "limit_dso": {c: float(round(v, 1)) for c, v in sorted(limit.items())},
        "same_dso": agree,
        "effectiveness": {
            "executions": effect["executions"],
            "by_step_seconds": round(effect["seconds"]["step"], 3),
            "by_owner_seconds": round(effect["seconds"]["owner"], 3),
            "grouped_count_seconds": round(effect["floor"], 3),
            "paid_within_30_days": effect["paid_30"],
        },
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    verdict = "met" if figures["ratio"] <= 2 else "NOT met"
    print(
        f"\nKPIs over {START} to {DAY} (every currency, DSO, best DSO, ADD, CEI, aging): "
        f"{figures['kpi_seconds']} s; one hand-written DSO query: {figures['limit_seconds']} s; "
        f"ratio {figures['ratio']}x (goal <= 2x {verdict}); DSO {figures['dso']}, the same as "
        f"the limit's: {agree}; peak RSS of the process {figures['peak_rss_mib']} MiB\n"
        f"the other measures (`relance kpi --more`: weighted days to pay, % current, promises "
        f"kept, dispute resolution, cash collected), every currency: {figures['more_seconds']} s"
    )
    e = figures["effectiveness"]
    print(
        f"effectiveness of the {e['executions']} steps a cycle ran 60 days before the end: "
        f"{e['by_step_seconds']} s by step, {e['by_owner_seconds']} s by owner; one grouped "
        f"count of the same steps {e['grouped_count_seconds']} s"
    )


if __name__ == "__main__":
    main()
