"""Staff app benchmark: the dashboard, customer and list pages on the 1M-invoice ledger, gunicorn.

Builds the benchmark ledger in SQLite (default 100k customers, 1M invoices, with their payments and
credit notes, from bench/generate.py), gives every customer the standard plan and runs the day's
cycle, so pages have timelines, actions and messages. Then it serves the staff app with gunicorn
on 127.0.0.1 and has 20 simulated users, each logged in as a credit controller of the company,
load in turn the dashboard, a random customer's page and the customers list (most late first),
pausing like a person between pages (`--think`: 2.5 to 7.5 s by default, the time to read a
page), then once more without pausing,
which measures what the machine can serve at most (saturation).

Printed: the first view of the day's dashboard (which computes and stores the day's figures), then
p50 / p95 / max per page and requests per second, next to a baseline measured in the same run under
the same load: the login page, which reads no ledger data. Goal: p95 < 200 ms for each page.

    .venv/bin/python bench/web_bench.py [--customers N] [--invoices N] [--users 20] [--requests 30]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import ALWAYS_OPEN, embedded_env, generated_ledger, ledger_arguments, run_measured  # noqa: E402

ROOT = HERE.parent
BIN = Path(sys.executable).parent
DAY = date(2026, 11, 23)  # the generator's `today`
PLAN = ROOT / "relance" / "plans" / "standard.yaml"
USER, PASSWORD = "bench-controller", "bench-pass-2026"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

SETUP_USER = f"""
from django.contrib.auth import get_user_model
from relance.models import Company, Membership
user = get_user_model().objects.create_user({USER!r}, "bench@example.test", {PASSWORD!r})
for company in Company.objects.all():
    Membership.objects.create(company=company, user=user, role="credit_controller")
"""


def build(work: Path, data: Path, env: dict[str, str], say: Any) -> dict[str, Any]:
    relance = str(BIN / "relance")
    figures: dict[str, Any] = {}
    run_measured([relance, "init"], env)
    for kind in ("customers", "contacts", "invoices", "credit-notes", "payments"):
        seconds, _, _ = run_measured(
            [relance, "import", kind, str(data / f"{kind}.csv"), "--json"], env
        )
        say(f"  imported {kind:<13} {seconds:6.1f} s")
    run_measured([relance, "plan", "load", str(PLAN), "--json"], env)
    con = sqlite3.connect(work / "relance.sqlite3")
    with con:
        con.execute(
            "UPDATE relance_customer "
            "SET plan_id = (SELECT id FROM relance_plan WHERE code = 'standard')"
        )
        con.execute(ALWAYS_OPEN)
    figures["customers"] = con.execute("SELECT COUNT(*) FROM relance_customer").fetchone()[0]
    figures["invoices"] = con.execute("SELECT COUNT(*) FROM relance_invoice").fetchone()[0]
    con.close()
    seconds, _, _ = run_measured(
        [relance, "run", "--date", DAY.isoformat(), "--no-deliver", "--json"], env
    )
    say(f"  cycle of {DAY}       {seconds:6.1f} s")
    run_measured([relance, "manage", "shell", "-c", SETUP_USER], env)
    return figures


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "relance.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{base}/login/", timeout=10)
            return server, base
        except requests.RequestException:  # not listening yet, or still importing
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start")


def logged_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login/").text
    token = CSRF.search(page)
    assert token, "no CSRF token on the login page"
    answer = session.post(
        f"{base}/login/",
        {"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{base}/login/"},
        allow_redirects=False,
    )
    assert answer.status_code == 302, f"login failed: {answer.status_code}"
    return session


def load(
    base: str,
    paths: dict[str, Any],
    users: int,
    per_user: int,
    think: tuple[float, float],
    signed_in: bool = True,
) -> dict[str, Any]:
    """Each user requests `per_user` pages in turn (a page = one of `paths`, by name)."""
    timings: dict[str, list[float]] = {name: [] for name in paths}
    errors: list[str] = []
    lock = threading.Lock()
    sessions = [logged_in(base) if signed_in else requests.Session() for _ in range(users)]

    def user(session: requests.Session, seed: int) -> None:
        rng = random.Random(seed)
        names = list(paths)
        time.sleep(rng.uniform(0, think[1]))  # people do not all click at the same instant
        for i in range(per_user):
            name = names[i % len(names)]
            path = paths[name](rng)
            start = time.perf_counter()
            answer = session.get(base + path, allow_redirects=False)
            elapsed = time.perf_counter() - start
            with lock:
                timings[name].append(elapsed)
                if answer.status_code != 200:
                    errors.append(f"{path}: {answer.status_code}")
            if think[1]:
                time.sleep(rng.uniform(*think))

    threads = [threading.Thread(target=user, args=(s, n)) for n, s in enumerate(sessions)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    count = sum(len(t) for t in timings.values())
    found: dict[str, Any] = {"requests_per_second": round(count / wall, 1), "errors": errors[:5]}
    for name, values in timings.items():
        ordered = sorted(values)
        found[name] = {
            "requests": len(values),
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1),
        }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ledger_arguments(parser)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=30, help="pages per user")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--think", type=float, default=5.0, help="mean pause between pages (s)")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary database.")
    args = parser.parse_args()
    say = (lambda *a: None) if args.json else print

    data = generated_ledger(args.out, args.customers, args.invoices, args.seed, say)
    work = Path(tempfile.mkdtemp(prefix="relance-web-bench-"))
    env = embedded_env(work)
    server = None
    try:
        say(f"building the ledger in {work} …")
        figures: dict[str, Any] = {"ledger": build(work, data, env, say)}
        con = sqlite3.connect(work / "relance.sqlite3")
        pks = [row[0] for row in con.execute("SELECT id FROM relance_customer")]
        con.close()
        server, base = serve(env, args.workers)
        session = logged_in(base)
        start = time.perf_counter()
        first = session.get(f"{base}/dashboard/")
        assert first.status_code == 200, first.status_code
        figures["dashboard_first_view_s"] = round(time.perf_counter() - start, 2)
        think = (args.think / 2, args.think * 1.5) if args.think else (0.0, 0.0)
        say(f"{args.users} users x {args.requests} pages, gunicorn with {args.workers} workers …")
        baseline = load(
            base, {"login": lambda rng: "/login/"}, args.users, args.requests, think, False
        )
        pages = {
            "dashboard": lambda rng: "/dashboard/",
            "customer": lambda rng: f"/customers/{rng.choice(pks)}/",
            "customers list": lambda rng: "/customers/?sort=late",
        }
        load(base, pages, args.users, 2 * len(pages), (0.0, 0.1))  # warm every worker up
        measured = load(base, pages, args.users, args.requests, think)
        flat_out = load(base, pages, args.users, max(args.requests // 3, 2), (0.0, 0.0))
        figures.update(
            users=args.users,
            workers=args.workers,
            think_s=args.think,
            baseline_login=baseline["login"],
            baseline_requests_per_second=baseline["requests_per_second"],
            dashboard=measured["dashboard"],
            customer=measured["customer"],
            requests_per_second=measured["requests_per_second"],
            errors=measured["errors"] + baseline["errors"],
            load_average=os.getloadavg(),
            saturation={
                "requests_per_second": flat_out["requests_per_second"],
                "dashboard_p95_ms": flat_out["dashboard"]["p95_ms"],
                "customer_p95_ms": flat_out["customer"]["p95_ms"],
                "customers_list_p95_ms": flat_out["customers list"]["p95_ms"],
            },
        )
        figures["customers list"] = measured["customers list"]
        for name in ("dashboard", "customer", "customers list"):
            figures[name]["p95_vs_login"] = round(
                figures[name]["p95_ms"] / max(figures["baseline_login"]["p95_ms"], 0.1), 1
            )
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"\nledger: {figures['ledger']['customers']:,} customers, "
        f"{figures['ledger']['invoices']:,} invoices"
    )
    print(
        f"dashboard, first view of the day (computes and stores the figures): "
        f"{figures['dashboard_first_view_s']} s"
    )
    login = figures["baseline_login"]
    print(f"baseline, the login page: p50 {login['p50_ms']} ms, p95 {login['p95_ms']} ms")
    for name in ("dashboard", "customer", "customers list"):
        f = figures[name]
        verdict = "met" if f["p95_ms"] < 200 else "NOT met"
        print(
            f"{name:<14}: p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms ({f['p95_vs_login']}x the "
            f"login page), max {f['max_ms']} ms over {f['requests']} requests; goal p95 < 200 ms "
            f"{verdict}"
        )
    print(
        f"{figures['requests_per_second']} requests/s; errors: {figures['errors'] or 'none'}; "
        f"load average {figures['load_average']}"
    )
    flat = figures["saturation"]
    print(
        f"without pauses (saturation): {flat['requests_per_second']} requests/s, p95 dashboard "
        f"{flat['dashboard_p95_ms']} ms, customer {flat['customer_p95_ms']} ms, customers list "
        f"{flat['customers_list_p95_ms']} ms"
    )


if __name__ == "__main__":
    main()
