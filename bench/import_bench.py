"""Import benchmark: a synthetic ledger (default 100k customers, 1M invoices) into a fresh SQLite.

Prints rows/s and peak RSS of each `relance import`, each run as its own process, next to the
"limit": the same rows parsed with the csv module and inserted with plain sqlite3 executemany into
a bare table with the same unique index, measured in the same run on the same machine. The ratio
import/limit is the figure to watch; absolute seconds depend on the machine.

    .venv/bin/python bench/import_bench.py [--customers N] [--invoices N] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import embedded_env, generated_ledger, ledger_arguments, run_measured  # noqa: E402

BIN = Path(sys.executable).parent


def count_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh) - 1


def limit_insert(path: Path, db: Path) -> float:
    """The floor: csv parsing plus executemany into a bare indexed table, one transaction."""
    start = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        cols = ", ".join(f'"{c}" TEXT' for c in header)
        con.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {cols})")
        con.execute('CREATE UNIQUE INDEX t_ext ON t ("external_id")')
        marks = ", ".join("?" for _ in header)
        names = ", ".join(f'"{c}"' for c in header)
        with con:
            con.executemany(f"INSERT INTO t ({names}) VALUES ({marks})", reader)
    con.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ledger_arguments(parser)
    args = parser.parse_args()

    say = (lambda *a: None) if args.json else print
    data = generated_ledger(args.out, args.customers, args.invoices, args.seed, say)

    work = Path(tempfile.mkdtemp(prefix="relance-bench-"))
    env = embedded_env(work)
    relance = str(BIN / "relance")
    figures: dict[str, dict[str, float]] = {}
    try:
        run_measured([relance, "init"], env)
        for kind in ("customers", "invoices", "payments"):
            path = data / f"{kind}.csv"
            rows = count_rows(path)
            seconds, rss, out = run_measured([relance, "import", kind, str(path), "--json"], env)
            created = json.loads(out)["created"]
            again, _, out2 = run_measured([relance, "import", kind, str(path), "--json"], env)
            rerun = json.loads(out2)
            limit = limit_insert(path, work / f"limit-{kind}.sqlite3")
            figures[kind] = {
                "rows": rows,
                "created": created,
                "seconds": round(seconds, 2),
                "rows_per_s": round(rows / seconds),
                "peak_rss_mib": round(rss / 2**20, 1),
                "limit_seconds": round(limit, 2),
                "ratio_to_limit": round(seconds / limit, 2),
                "reimport_seconds": round(again, 2),
                "reimport_created_updated": rerun["created"] + rerun["updated"],
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"\nimport into SQLite ({args.customers:,} customers, {args.invoices:,} invoices)")
    print(
        f"{'kind':<10} {'rows':>10} {'s':>7} {'rows/s':>9} {'RSS MiB':>8} "
        f"{'limit s':>8} {'ratio':>6} {'re-import s':>12} {'re-import writes':>17}"
    )
    for kind, f in figures.items():
        print(
            f"{kind:<10} {f['rows']:>10,} {f['seconds']:>7} {f['rows_per_s']:>9,} "
            f"{f['peak_rss_mib']:>8} {f['limit_seconds']:>8} {f['ratio_to_limit']:>6} "
            f"{f['reimport_seconds']:>12} {f['reimport_created_updated']:>17}"
        )
    goal = figures["invoices"]["seconds"]
    print(
        f"\ngoal: 1M invoices < 60 s with bounded memory -> {goal} s, "
        f"{figures['invoices']['peak_rss_mib']} MiB peak"
    )


if __name__ == "__main__":
    main()
