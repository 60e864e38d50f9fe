"""Delivery benchmark: outbox emails to a local SMTP sink, one worker and two, and PDF letters.

Starts an SMTP sink (aiosmtpd) in this process on a free port of 127.0.0.1, recording each message's
Message-ID and X-Relance-Key. Imports a small synthetic ledger (default 5k customers, 20k invoices)
into a fresh SQLite database, gives every customer the standard plan's email steps (`--full-plan`:
the whole plan, mostly letters on this ledger) and runs one cycle with `relance run --date D
--no-deliver`, so the outbox holds a few thousand planned emails (any letters and SMS of that cycle
are set aside, cancelled: they are not the figure here). Then, each in its own process with
RELANCE_SMTP_URL pointing at the sink:

* one worker: `relance deliver --date D --json`;
* the outbox reset to planned, two workers: two `relance deliver` processes started together
  (each claims as hostname:pid); on SQLite they contend for the write lock, on PostgreSQL
  (`--postgres URL`, a database created and dropped) they claim with SKIP LOCKED;
* an empty `relance deliver` (nothing left to send): the fixed cost of one run.

Each run is checked: messages received more than once (by Message-ID) and outbox emails left
unsent must be 0. The baseline, measured in the same run, is the sink's own speed: as many minimal
messages sent from this process over one smtplib connection; ratios relance/baseline are printed.

Then PDF letters: N one-page French A4 letters with 3 invoice lines rendered by
relance.documents.render_letter after one warm-up render, and merge_pdfs of them, in their own
process. Goal: >= 200 messages/s with 2 workers, 0 duplicates.

    .venv/bin/python bench/delivery_bench.py [--customers N] [--invoices N] [--letters N] [--json]
    .venv/bin/python bench/delivery_bench.py --postgres postgres://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import smtplib
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cycle_bench import source_state  # noqa: E402
from measure import ALWAYS_OPEN, generated_ledger, profile_report, run_measured  # noqa: E402

ROOT = HERE.parent
BIN = Path(sys.executable).parent
DEFAULT_DAY = date(2026, 11, 23)  # the generator's `today`: the ledger is cut on that day
PLAN = ROOT / "relance" / "plans" / "standard.yaml"
PG_DATABASE = "relance_bench_delivery"
GOAL_PER_S = 200

RESET_EMAILS = (
    "UPDATE relance_outboxmessage SET status = 'planned', attempts = 0, claimed_by = '', "
    "claimed_at = NULL, sent_at = NULL, subject = '', body = '' WHERE channel = 'email'"
)
#: The cycle's letters and SMS are not this benchmark's figure: cancelled, so `relance deliver`
#: only sends emails (and their time is not mixed in).
SET_ASIDE_OTHERS = (
    "UPDATE relance_outboxmessage SET status = 'cancelled', last_error = 'set aside by "
    "delivery_bench' WHERE channel <> 'email' AND status = 'planned'"
)


# --------------------------------------------------------------------------------------------------
# The SMTP sink
# --------------------------------------------------------------------------------------------------


class Sink:
    """An aiosmtpd handler that accepts everything and records, for each message, its Message-ID
    and X-Relance-Key (headers only are parsed). Called from the controller's thread, read from
    the benchmark's: guarded by a lock."""

    _END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parser = BytesHeaderParser(policy=compat32)
        self.message_ids: Counter[str] = Counter()
        self.keys: Counter[str] = Counter()
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        head = self._END_OF_HEADERS.split(content, maxsplit=1)[0]
        headers = self._parser.parsebytes(head + b"\r\n\r\n")
        message_id = (headers.get("Message-ID") or "").strip()
        key = (headers.get("X-Relance-Key") or "").strip()
        with self._lock:
            self.received += 1
            self.message_ids[message_id] += 1
            self.keys[key] += 1
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self.message_ids.clear()
            self.keys.clear()
            self.received = 0

    def snapshot(self) -> tuple[int, Counter[str], Counter[str]]:
        with self._lock:
            return self.received, Counter(self.message_ids), Counter(self.keys)


def free_port() -> int:
    """A port nothing listens on (aiosmtpd's Controller cannot be given port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sink_baseline(port: int, count: int) -> float:
    """The sink's raw speed: `count` minimal messages over one smtplib connection; seconds."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for i in range(count):
            client.sendmail(
                "bench@relance.invalid",
                ["sink@relance.invalid"],
                (
                    f"From: bench@relance.invalid\r\nTo: sink@relance.invalid\r\n"
                    f"Subject: {i}\r\nMessage-ID: <baseline-{i}@relance.invalid>\r\n"
                    f"X-Relance-Key: baseline-{i}\r\n\r\nbaseline message {i}\r\n"
                ).encode(),
            )
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------------
# The database: SQLite (default) or a PostgreSQL database created and dropped
# --------------------------------------------------------------------------------------------------


class Database:
    """Plain SQL on the benchmark's database (sqlite3 or psycopg), no ORM."""

    def __init__(self, vendor: str, target: str) -> None:
        self.vendor, self.target = vendor, target

    def execute(self, sql: str) -> None:
        if self.vendor == "sqlite":
            con = sqlite3.connect(self.target)
            try:
                with con:
                    con.execute(sql)
            finally:
                con.close()
        else:
            import psycopg

            with psycopg.connect(self.target) as pg:
                pg.execute(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.vendor == "sqlite":
            con = sqlite3.connect(self.target)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        import psycopg

        with psycopg.connect(self.target) as pg:
            return pg.execute(sql).fetchall()


def postgres_urls(url: str) -> tuple[str, str]:
    """The server's maintenance database (the URL's path, else `postgres`) and the bench's own."""
    parts = urlsplit(url)
    maintenance = urlunsplit(
        parts._replace(path=parts.path if parts.path.strip("/") else "/postgres")
    )
    if parts.path.strip("/") == PG_DATABASE:
        maintenance = urlunsplit(parts._replace(path="/postgres"))
    return maintenance, urlunsplit(parts._replace(path=f"/{PG_DATABASE}"))


def recreate_postgres(maintenance: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(maintenance, autocommit=True) as pg:
        pg.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        if not drop_only:
            pg.execute(f"CREATE DATABASE {PG_DATABASE}")


# --------------------------------------------------------------------------------------------------
# PDF letters (run in its own process with --render-letters)
# --------------------------------------------------------------------------------------------------

LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
    b'<rect width="120" height="40" rx="6" fill="#1F3A5F"/>'
    b'<text x="60" y="26" font-size="16" text-anchor="middle" fill="#fff">ATELIER NORD</text>'
    b"</svg>"
)

BODY = """Madame, Monsieur,

Sauf erreur de notre part, les factures détaillées ci-dessous restent impayées à ce jour.

Nous vous remercions de bien vouloir procéder à leur règlement sous huit jours :
- par virement, en rappelant la référence indiquée ci-dessous ;
- ou par chèque à l'ordre d'Atelier Nord SAS.

Nous vous prions d'agréer, Madame, Monsieur, l'expression de nos salutations distinguées."""


def render_letters(count: int) -> dict[str, Any]:
    """`count` one-page French A4 letters with 3 invoice lines, after one warm-up render (fonts,
    Pango, templates), then merge_pdfs of them."""
    from relance.documents import (
        InvoiceLine,
        Letter,
        Party,
        PaymentInstructions,
        Stationery,
        merge_pdfs,
        page_count,
        render_letter,
    )

    stationery = Stationery(
        company_name="Atelier Nord SAS",
        address_lines=("12 rue de la Paix", "75002 Paris"),
        registration_number="SIREN 812 345 678",
        vat_number="FR40812345678",
        email="compta@ateliernord.fr",
        phone="+33 1 42 68 53 00",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPPXXX",
        website="www.ateliernord.fr",
        logo=LOGO,
        legal_text="SAS au capital de 150 000 € — indemnité forfaitaire de recouvrement : 40 €.",
        paper="A4",
    )

    def letter(i: int) -> Letter:
        return Letter(
            stationery=stationery,
            recipient=Party(
                f"Boulangerie Dupont {i} SARL",
                (
                    "À l'attention de M. Jean Dupont",
                    f"{1 + i % 90} avenue Victor Hugo",
                    "69002 Lyon",
                ),
            ),
            place_and_date="Paris, le 23 novembre 2026",
            reference=f"Client C{i:05d} — Factures F-2026-0141 à F-2026-0188",
            subject="Relance pour factures impayées",
            body=BODY,
            invoices=(
                InvoiceLine(
                    f"F-2026-{i:04d}1",
                    "12/08/2026",
                    "11/09/2026",
                    "1 200,00 €",
                    "1 200,00 €",
                    73,
                    "24,60 €",
                    "40,00 €",
                ),
                InvoiceLine(
                    f"F-2026-{i:04d}2",
                    "03/09/2026",
                    "03/10/2026",
                    "480,00 €",
                    "180,00 €",
                    51,
                    "2,59 €",
                    "40,00 €",
                ),
                InvoiceLine(
                    f"F-2026-{i:04d}3",
                    "30/09/2026",
                    "30/10/2026",
                    "2 460,50 €",
                    "2 460,50 €",
                    24,
                    "16,65 €",
                    "40,00 €",
                ),
            ),
            totals=(("Intérêts et indemnités", "163,84 €"), ("Total dû EUR", "4 004,34 €")),
            payment=PaymentInstructions(
                "FR7630006000011234567890189", "AGRIFRPPXXX", f"C{i:05d}-R2"
            ),
            language="fr",
            signatory="Service recouvrement",
        )

    start = time.perf_counter()
    warm = render_letter(letter(0))
    warm_up = time.perf_counter() - start
    start = time.perf_counter()
    pdfs = [render_letter(letter(i + 1)) for i in range(count)]
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    merged = merge_pdfs(pdfs)
    merge_seconds = time.perf_counter() - start
    return {
        "warm_up_seconds": warm_up,
        "seconds": seconds,
        "letters": count,
        "pages": page_count(merged),
        "letter_pages": max(page_count(pdf) for pdf in [warm, *pdfs]),
        "bytes": sum(len(p) for p in pdfs),
        "merge_seconds": merge_seconds,
        "merged_bytes": len(merged),
    }


# --------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------


def email_plan(work: Path) -> Path:
    """The standard plan with its email steps only (the same code, names, triggers, templates).

    On the generator's ledger every customer has invoices months overdue, so the standard plan's
    first run picks its most advanced step, the letter, for nearly everyone: about 2.5 % of the
    actions are emails. Without the call and the letter, the firm reminder (with its CC) is the
    most advanced step and nearly every customer gets an email."""
    import yaml

    plan = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    plan["steps"] = [step for step in plan["steps"] if step.get("channel") == "email"]
    path = work / "standard-email-steps.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def deliver_together(
    relance: str, day: date, env: dict[str, str], workers: int
) -> tuple[float, list[tuple[float, int, dict[str, int]]]]:
    """`workers` `relance deliver` processes started together, each measured by run_measured in
    its own thread (wait4 on its own pid); the wall time from the first start to the last end."""
    args = [relance, "deliver", "--date", day.isoformat(), "--json"]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda _: run_measured(args, env), range(workers)))
    wall = time.perf_counter() - start
    return wall, [(seconds, rss, json.loads(out)) for seconds, rss, out in results]


def outbox_emails(db: Database) -> dict[str, Any]:
    rows = db.rows(
        "SELECT status, claimed_by, COUNT(*) FROM relance_outboxmessage "
        "WHERE channel = 'email' GROUP BY status, claimed_by"
    )
    statuses: Counter[str] = Counter()
    by_worker: Counter[str] = Counter()
    for status, worker, n in rows:
        statuses[status] += n
        if status == "sent":
            by_worker[worker] += n
    keys = {
        k[:200]
        for (k,) in db.rows(
            "SELECT key FROM relance_outboxmessage WHERE channel = 'email' AND status = 'sent'"
        )
    }
    return {"statuses": dict(statuses), "by_worker": sorted(by_worker.values()), "keys": keys}


def delivery_run(
    relance: str, day: date, env: dict[str, str], db: Database, sink: Sink, workers: int
) -> dict[str, Any]:
    """One measured delivery of every planned email by `workers` processes, checked."""
    wall, results = deliver_together(relance, day, env, workers)
    sent = sum(r[2].get("sent", 0) for r in results)
    received, message_ids, keys = sink.snapshot()
    outbox = outbox_emails(db)
    total = sum(outbox["statuses"].values())
    return {
        "workers": workers,
        "seconds": round(wall, 2),
        "sent": sent,
        "received": received,
        "messages_per_s": round(sent / wall, 1),
        "peak_rss_mib": round(max(r[1] for r in results) / 2**20, 1),
        "per_worker_sent": outbox["by_worker"],
        "per_worker_seconds": [round(r[0], 2) for r in results],
        "duplicates": sum(n - 1 for n in message_ids.values() if n > 1),
        "duplicate_keys": sum(n - 1 for n in keys.values() if n > 1),
        "not_sent": total - outbox["statuses"].get("sent", 0),
        "statuses": outbox["statuses"],
        "sent_not_received": len(outbox["keys"] - set(keys)),
        "failed_or_dead": sum(r[2].get("failed", 0) + r[2].get("dead", 0) for r in results),
    }


def prepare(
    relance: str, data: Path, plan: Path, day: date, env: dict[str, str], db: Database, say: Any
) -> dict[str, Any]:
    """Import the ledger, load the plan, give it to everyone, run the cycle without delivering."""
    run_measured([relance, "init"], env)
    for kind in ("customers", "contacts", "invoices"):
        seconds, _, _ = run_measured(
            [relance, "import", kind, str(data / f"{kind}.csv"), "--json"], env
        )
        say(f"  {kind:<13} {seconds:6.1f} s")
    run_measured([relance, "plan", "load", str(plan), "--json"], env)
    db.execute(
        "UPDATE relance_customer "
        "SET plan_id = (SELECT id FROM relance_plan WHERE code = 'standard')"
    )
    db.execute(ALWAYS_OPEN)
    seconds, _, out = run_measured(
        [relance, "run", "--date", day.isoformat(), "--json", "--no-deliver"], env
    )
    actions = len(json.loads(out)["actions"])
    say(f"  cycle         {seconds:6.1f} s ({actions:,} actions)")
    planned = dict(
        db.rows(
            "SELECT channel, COUNT(*) FROM relance_outboxmessage "
            "WHERE status = 'planned' GROUP BY channel"
        )
    )
    db.execute(SET_ASIDE_OTHERS)
    return {
        "customers": db.rows("SELECT COUNT(*) FROM relance_customer")[0][0],
        "invoices": db.rows("SELECT COUNT(*) FROM relance_invoice")[0][0],
        "cycle_seconds": round(seconds, 2),
        "actions": actions,
        "outbox_planned": planned,
        "emails": planned.get("email", 0),
    }


def measure_backend(
    vendor: str,
    relance: str,
    data: Path,
    plan: Path,
    day: date,
    env: dict[str, str],
    db: Database,
    sink: Sink,
    say: Any,
) -> dict[str, Any]:
    say(f"{vendor}: importing, plan, cycle {day} …")
    figures = prepare(relance, data, plan, day, env, db, say)
    if not figures["emails"]:
        raise SystemExit(f"{vendor}: the cycle planned no email; nothing to deliver")
    say(f"{vendor}: 1 worker, {figures['emails']:,} emails …")
    sink.clear()
    figures["one_worker"] = delivery_run(relance, day, env, db, sink, 1)
    db.execute(RESET_EMAILS)
    sink.clear()
    say(f"{vendor}: 2 workers …")
    figures["two_workers"] = delivery_run(relance, day, env, db, sink, 2)
    sink.clear()
    empty, rss, out = run_measured([relance, "deliver", "--date", day.isoformat(), "--json"], env)
    figures["empty_run"] = {
        "seconds": round(empty, 2),
        "peak_rss_mib": round(rss / 2**20, 1),
        "sent": json.loads(out).get("sent", 0),
    }
    return figures


def profile_one_worker(
    relance_env: dict[str, str], db: Database, day: date, stats: Path, top: int
) -> str:
    """One worker again (outbox reset), under cProfile; the top functions both ways."""
    db.execute(RESET_EMAILS)
    run_measured(
        [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(stats),
            "-m",
            "relance.cli.main",
            "deliver",
            "--date",
            day.isoformat(),
            "--json",
        ],
        relance_env,
    )
    return profile_report(stats, top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--date", type=date.fromisoformat, default=DEFAULT_DAY, dest="day")
    parser.add_argument("--letters", type=int, default=50, help="PDF letters to render")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="Also on PostgreSQL: the server (e.g. postgres://postgres@127.0.0.1:5432), where "
        f"database {PG_DATABASE} is created and dropped.",
    )
    parser.add_argument(
        "--full-plan",
        action="store_true",
        help="Load relance/plans/standard.yaml as it is (mostly letters: few emails to send) "
        "instead of its email steps only.",
    )
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument(
        "--profile", action="store_true", help="Also profile one worker on SQLite (cProfile)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the temporary directory.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON only.")
    parser.add_argument("--render-letters", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.render_letters:
        print(json.dumps(render_letters(args.letters)))
        return

    from aiosmtpd.controller import Controller

    say = (lambda *a: None) if args.json else print
    data = generated_ledger(args.out, args.customers, args.invoices, args.seed, say)
    work = Path(tempfile.mkdtemp(prefix="relance-delivery-bench-"))
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    base_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "relance.settings"}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_BACKEND", "RELANCE_EMAIL_CHANNEL"):
        base_env.pop(name, None)
    base_env["RELANCE_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    relance = str(BIN / "relance")
    plan = PLAN if args.full_plan else email_plan(work)
    figures: dict[str, Any] = {
        "date": args.day.isoformat(),
        "source": source_state(),
        "plan": "standard" if args.full_plan else "standard, email steps only",
        "cpus": os.cpu_count(),
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }
    profile_text = ""
    pg_created = False
    maintenance = ""
    try:
        sqlite_env = {**base_env, "RELANCE_VAR_DIR": str(work / "sqlite")}
        sqlite_db = Database("sqlite", str(work / "sqlite" / "relance.sqlite3"))
        figures["sqlite"] = measure_backend(
            "sqlite", relance, data, plan, args.day, sqlite_env, sqlite_db, sink, say
        )
        if args.profile:
            say("sqlite: profiling one worker …")
            sink.clear()
            profile_text = profile_one_worker(
                sqlite_env, sqlite_db, args.day, work / "deliver.pstats", top=25
            )
        if args.postgres:
            maintenance, bench_url = postgres_urls(args.postgres)
            recreate_postgres(maintenance)
            pg_created = True
            pg_env = {
                **base_env,
                "RELANCE_VAR_DIR": str(work / "postgres"),
                "DATABASE_URL": bench_url,
            }
            figures["postgresql"] = measure_backend(
                "postgresql",
                relance,
                data,
                plan,
                args.day,
                pg_env,
                Database("postgresql", bench_url),
                sink,
                say,
            )

        count = max(figures[v]["emails"] for v in ("sqlite", "postgresql") if v in figures)
        say(f"baseline: {count:,} minimal messages over one smtplib connection, best of 3 …")
        seconds = float("inf")
        for _ in range(3):
            sink.clear()
            seconds = min(seconds, sink_baseline(port, count))
        received, ids, _ = sink.snapshot()
        figures["baseline"] = {
            "messages": count,
            "received": received,
            "seconds": round(seconds, 2),
            "messages_per_s": round(count / seconds, 1),
            "duplicates": sum(n - 1 for n in ids.values() if n > 1),
        }
        for vendor in ("sqlite", "postgresql"):
            if vendor in figures:
                f = figures[vendor]
                f["ratios"] = {
                    f"{run}_to_baseline": round(
                        f[run]["messages_per_s"] / figures["baseline"]["messages_per_s"], 3
                    )
                    for run in ("one_worker", "two_workers")
                }
                f["ratios"]["two_to_one_worker"] = round(
                    f["two_workers"]["messages_per_s"] / f["one_worker"]["messages_per_s"], 2
                )

        say(f"PDF letters: {args.letters} …")
        _, rss, out = run_measured(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--render-letters",
                "--letters",
                str(args.letters),
            ],
            {**base_env, "RELANCE_VAR_DIR": str(work / "letters")},
        )
        letters = json.loads(out)
        figures["letters"] = {
            "letters": letters["letters"],
            "pages_per_letter": letters["letter_pages"],
            "warm_up_seconds": round(letters["warm_up_seconds"], 2),
            "seconds": round(letters["seconds"], 2),
            "letters_per_s": round(letters["letters"] / letters["seconds"], 1),
            "mb": round(letters["bytes"] / 1e6, 2),
            "merge_seconds": round(letters["merge_seconds"], 3),
            "merged_mb": round(letters["merged_bytes"] / 1e6, 2),
            "merged_pages": letters["pages"],
            "peak_rss_mib": round(rss / 2**20, 1),
        }
        figures["load_average_at_end"] = round(os.getloadavg()[0], 2)
        figures["goal_met"] = all(
            figures[v]["two_workers"]["messages_per_s"] >= GOAL_PER_S
            and figures[v]["two_workers"]["duplicates"] == 0
            and figures[v]["two_workers"]["not_sent"] == 0
            for v in ("sqlite", "postgresql")
            if v in figures
        )
    finally:
        controller.stop()
        if pg_created and not args.keep:
            recreate_postgres(maintenance, drop_only=True)
        if args.keep:
            say(f"kept {work}" + (f" and database {PG_DATABASE}" if pg_created else ""))
        else:
            shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_table(figures)
        if profile_text:
            print(profile_text)
    bad = [
        f"{vendor} {run}"
        for vendor in ("sqlite", "postgresql")
        if vendor in figures
        for run in ("one_worker", "two_workers")
        if figures[vendor][run]["duplicates"] or figures[vendor][run]["not_sent"]
    ]
    if bad:
        raise SystemExit(f"FAIL: duplicates or emails left unsent: {', '.join(bad)}")


def print_table(f: dict[str, Any]) -> None:
    base, letters = f["baseline"], f["letters"]
    for vendor in ("sqlite", "postgresql"):
        if vendor not in f:
            continue
        v = f[vendor]
        one, two, empty, ratio = v["one_worker"], v["two_workers"], v["empty_run"], v["ratios"]
        others = ", ".join(f"{n:,} {c}" for c, n in v["outbox_planned"].items() if c != "email")
        rows = [
            ("customers / invoices", f"{v['customers']:,} / {v['invoices']:,}"),
            (
                "cycle (--no-deliver) s",
                f"{v['cycle_seconds']}  ({v['actions']:,} actions; "
                f"{v['emails']:,} emails planned"
                + (f"; set aside {others}" if others else "")
                + ")",
            ),
        ]
        for label, run in (("1 worker", one), ("2 workers", two)):
            rows += [
                (
                    f"{label}: sent in s",
                    f"{run['sent']:,} in {run['seconds']}  (per worker: "
                    f"{', '.join(f'{n:,}' for n in run['per_worker_sent'])} sent, "
                    f"{', '.join(str(s) for s in run['per_worker_seconds'])} s)",
                ),
                (f"{label}: messages/s", f"{run['messages_per_s']}"),
                (f"{label}: peak RSS MiB", f"{run['peak_rss_mib']}"),
                (
                    f"{label}: duplicates / not sent",
                    f"{run['duplicates']} / {run['not_sent']}  (must be 0 / 0; received "
                    f"{run['received']:,}, sent but not received {run['sent_not_received']})",
                ),
            ]
        rows += [
            (
                "empty deliver s (fixed cost)",
                f"{empty['seconds']}  ({empty['peak_rss_mib']} MiB)",
            ),
            (
                "ratio relance / sink baseline",
                f"1 worker {ratio['one_worker_to_baseline']}, "
                f"2 workers {ratio['two_workers_to_baseline']}",
            ),
            ("ratio 2 workers / 1 worker", f"{ratio['two_to_one_worker']}x"),
        ]
        print(f"\noutbox delivery to a local SMTP sink on {vendor} (relance at {f['source']})")
        print(
            f"plan: {f['plan']}; {f['cpus']} CPUs, load average {f['load_average_at_start']} "
            f"at start, {f['load_average_at_end']} at end (the sink runs in this process)"
        )
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            print(f"{key:<{width}}  {value}")

    rows = [
        (
            "sink baseline (1 conn., best of 3)",
            f"{base['messages']:,} minimal messages in {base['seconds']} s = "
            f"{base['messages_per_s']} messages/s",
        ),
        (
            "PDF letters (FR A4, 3 lines)",
            f"{letters['letters']} in {letters['seconds']} s = {letters['letters_per_s']} "
            f"letters/s  ({letters['pages_per_letter']} page each, {letters['mb']} MB, warm-up "
            f"{letters['warm_up_seconds']} s)",
        ),
        (
            "merge_pdfs",
            f"{letters['merge_seconds']} s  ({letters['merged_pages']} pages, "
            f"{letters['merged_mb']} MB)",
        ),
        ("letters peak RSS MiB", f"{letters['peak_rss_mib']}"),
    ]
    print()
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    for vendor in ("sqlite", "postgresql"):
        if vendor in f:
            two = f[vendor]["two_workers"]
            met = (
                two["messages_per_s"] >= GOAL_PER_S
                and two["duplicates"] == 0
                and two["not_sent"] == 0
            )
            print(
                f"goal >= {GOAL_PER_S} messages/s with 2 workers, 0 duplicates ({vendor}): "
                f"{two['messages_per_s']} messages/s, {two['duplicates']} duplicates, "
                f"{two['not_sent']} not sent -> {'met' if met else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
