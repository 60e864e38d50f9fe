"""Import benchmark: a synthetic ledger (default 100k customers, 1M invoices) into a fresh SQLite.

Prints rows/s and peak RSS of each `relance import`, each run as its own process, next to the
"limit": the same rows parsed with the csv module and inserted with plain sqlite3 executemany into
a bare table with the same unique index, measured in the same run on the same machine. The ratio
import/limit is the figure to watch; absolute seconds depend on the machine.

Then the invoices again, each into its own fresh database: through the reader relance had
before the tabular reader (`legacy_csv`, relance's own UTF-8 CSV only), and from the same rows
written as an XLSX workbook (xlsxwriter, constant memory; typed dates and numbers), so the
tabular reader's CSV and XLSX figures are compared with the old path in the same run, on CPU
time (user + system) as wall time on a shared machine varies more than the difference.
At the default size the whole run takes about 13 minutes on 2 cores (the ledger is generated
once into --out and kept, and so is its XLSX, written in about 50 s).

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
REPEATS = 2  # runs of each reader in the comparison, the best kept


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


def legacy_import(kind: str, path: str) -> None:
    """In a child process: import `path` through the reader relance had before the tabular one."""
    import django

    django.setup()
    from relance.services.ledger.imports import import_file
    from relance.services.organisation.companies import get_company

    result = import_file(kind, path, get_company(None), legacy_csv=True)
    print(json.dumps(result.as_json()))


def write_xlsx(csv_path: Path, xlsx_path: Path) -> float:
    """The CSV's rows as an XLSX sheet as an accounting tool writes it: dates and amounts typed."""
    import datetime as dt

    import xlsxwriter

    start = time.perf_counter()
    book = xlsxwriter.Workbook(str(xlsx_path), {"constant_memory": True})
    sheet = book.add_worksheet("Invoices")
    dated = book.add_format({"num_format": "dd/mm/yyyy"})
    with csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        sheet.write_row(0, 0, header)
        dates = {header.index(c) for c in ("issue_date", "due_date") if c in header}
        amounts = {header.index(c) for c in ("total",) if c in header}
        for r, row in enumerate(reader, start=1):
            for c, value in enumerate(row):
                if c in dates and value:
                    sheet.write_datetime(r, c, dt.datetime.fromisoformat(value), dated)
                elif c in amounts and value:
                    sheet.write_number(r, c, float(value))
                elif value:
                    sheet.write_string(r, c, value)
    book.close()
    return time.perf_counter() - start


def _children_cpu() -> float:
    """CPU seconds (user + system) of the children waited for so far: on a shared machine a
    child's CPU time varies much less than its wall time."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compare_readers(data: Path, relance: str) -> dict[str, dict[str, float]]:
    """Invoices through the old CSV path, the tabular reader's CSV and its XLSX, each into a
    fresh database holding the customers."""
    invoices = data / "invoices.csv"
    xlsx = data / "invoices.xlsx"
    written = write_xlsx(invoices, xlsx) if not xlsx.exists() else 0.0
    runs = {
        "csv, old reader": [sys.executable, __file__, "_legacy", "invoices", str(invoices)],
        "csv, tabular reader": [relance, "import", "invoices", str(invoices), "--json"],
        "xlsx, tabular reader": [relance, "import", "invoices", str(xlsx), "--json"],
    }
    found: dict[str, dict[str, float]] = {}
    for _ in range(REPEATS):  # interleaved, best of each: the machine may be shared
        for name, command in runs.items():
            work = Path(tempfile.mkdtemp(prefix="relance-bench-"))
            env = embedded_env(work)
            try:
                run_measured([relance, "init"], env)
                run_measured([relance, "import", "customers", str(data / "customers.csv")], env)
                before = _children_cpu()
                seconds, rss, out = run_measured(command, env)
                cpu = _children_cpu() - before
            finally:
                shutil.rmtree(work, ignore_errors=True)
            best = found.get(name)
            if best is None or cpu < best["cpu_seconds"]:
                found[name] = {
                    "seconds": round(seconds, 2),
                    "cpu_seconds": round(cpu, 2),
                    "peak_rss_mib": round(rss / 2**20, 1),
                    "created": json.loads(out)["created"],
                }
    base = found["csv, old reader"]["cpu_seconds"]
    for figures in found.values():
        figures["ratio_to_old"] = round(figures["cpu_seconds"] / base, 2)
    found["xlsx, tabular reader"]["xlsx_write_seconds"] = round(written, 2)
    found["xlsx, tabular reader"]["xlsx_mib"] = round(xlsx.stat().st_size / 2**20, 1)
    return found


def main() -> None:
    if sys.argv[1:2] == ["_legacy"]:
        legacy_import(sys.argv[2], sys.argv[3])
        return
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
    readers = compare_readers(data, relance)

    if args.json:
        print(json.dumps({**figures, "invoice_readers": readers}, indent=2))
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
    print(
        f"\ninvoices by reader, each into a fresh database ({args.invoices:,} rows; best of "
        f"{REPEATS} interleaved runs)"
    )
    print(f"{'reader':<22} {'s':>8} {'CPU s':>8} {'RSS MiB':>8} {'x old (CPU)':>12}")
    for name, f in readers.items():
        print(
            f"{name:<22} {f['seconds']:>8} {f['cpu_seconds']:>8} {f['peak_rss_mib']:>8} "
            f"{f['ratio_to_old']:>12}"
        )
    xlsx = readers["xlsx, tabular reader"]
    print(
        f"goal: CSV through the tabular reader within 1.5x the old path -> "
        f"{readers['csv, tabular reader']['ratio_to_old']}x; the XLSX ({xlsx['xlsx_mib']} MiB, "
        f"written in {xlsx['xlsx_write_seconds']} s) is loaded whole by calamine"
    )


if __name__ == "__main__":
    main()
