"""Write a synthetic receivables ledger to CSV and report how long it took and how much memory.

Run it to produce benchmark input for the importer, and to keep the generator honest: a million
invoices should take seconds and a flat few tens of MB, because everything is streamed.

    .venv/bin/python bench/generate.py --customers 100000 --invoices 1000000 --out /tmp/gen
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path

from relance.demo.generator import LedgerSpec, write_csvs_counted

# Company presets matching the demo: the `default` company is French, `uk` is British.
_PRESETS = {"default": ("FR", "EUR", "FR-"), "uk": ("GB", "GBP", "UK-")}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000, help="number of customers")
    parser.add_argument(
        "--invoices",
        type=int,
        default=None,
        help="target total of invoices (sets the per-customer average; default 10 per customer)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--company", default="default", help="company code (default, uk, ...)")
    parser.add_argument("--country", default=None, help="FR, GB or US (default from --company)")
    parser.add_argument("--currency", default=None, help="main currency (default from --company)")
    parser.add_argument("--months", type=int, default=18, help="months of invoice history")
    parser.add_argument(
        "--today", type=date.fromisoformat, default=LedgerSpec.today, help="YYYY-MM-DD"
    )
    parser.add_argument(
        "--id-prefix", default=None, help="external id prefix (default per company)"
    )
    parser.add_argument("--out", type=Path, required=True, help="directory for the CSV files")
    args = parser.parse_args(argv)
    if args.customers < 1:
        parser.error("--customers must be >= 1")
    if args.invoices is not None and args.invoices < args.customers:
        parser.error("--invoices must be >= --customers (every customer has an invoice)")
    return args


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    country, currency, prefix = _PRESETS.get(args.company, ("FR", "EUR", ""))
    per_customer = 10.0 if args.invoices is None else args.invoices / args.customers
    spec = LedgerSpec(
        company=args.company,
        country=args.country or country,
        currency=args.currency or currency,
        customers=args.customers,
        invoices_per_customer=per_customer,
        months=args.months,
        today=args.today,
        seed=args.seed,
        id_prefix=prefix if args.id_prefix is None else args.id_prefix,
    )
    started = time.perf_counter()
    written = write_csvs_counted(spec, args.out)
    seconds = time.perf_counter() - started
    total = 0
    for kind, (path, rows) in written.items():
        total += rows
        print(f"{kind:<13} {rows:>10,} rows  {path}")
    print(f"{'total':<13} {total:>10,} rows")
    print(f"seconds       {seconds:10.2f}  ({total / seconds:,.0f} rows/s)")
    print(f"peak RSS      {_peak_rss_mib():10.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
