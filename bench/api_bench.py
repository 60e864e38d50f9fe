"""API benchmark: loading a ledger through the REST API against the CSV import of the same rows.

On a fresh SQLite database (embedded mode), in one process through Django's WSGI handler (no
network, so what is timed is relance: authentication, idempotency, validation, the upsert), it
loads N customers and 10 invoices each with `POST /api/v1/{customers,invoices}/batch` (1,000
rows a call, each with an Idempotency-Key), then reads every invoice back a page of 500 at a
time. The baseline, in the same run: `relance import` of the same rows as CSV into a second
company. Goal: the API within 2x of the import, whose checks it shares.

    .venv/bin/python bench/api_bench.py [--customers N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import embedded_env, run_measured  # noqa: E402

BIN = Path(sys.executable).parent

SCRIPT = """
import csv, io, json, time
from datetime import date, timedelta
from django.test import Client
from relance.models import Company, Invoice
from relance.services.integrations import api_tokens
from relance.services.ledger import imports

n = {customers}
customers = [{{"external_id": f"C{{i:06}}", "name": f"Customer {{i}}", "country": "FR"}}
             for i in range(n)]
invoices = []
for i in range(n):
    for k in range(10):
        issued = date(2026, 1, 1) + timedelta(days=(i * 7 + k * 31) % 300)
        invoices.append({{
            "external_id": f"F{{i:06}}-{{k}}", "customer_id": f"C{{i:06}}",
            "number": f"F{{i:06}}-{{k}}", "issue_date": issued.isoformat(),
            "due_date": (issued + timedelta(days=30)).isoformat(), "currency": "EUR",
            "total": f"{{100 + (i * 37 + k * 11) % 9000}}.{{(i + k) % 100:02}}",
        }})
home = Company.objects.get(code="default")
_, secret = api_tokens.create(home, "bench", "write")
client = Client(SERVER_NAME="localhost", headers={{"Authorization": f"Bearer {{secret}}"}})

client.get("/api/v1/customers")  # the first request builds the API: not what is measured
warm = json.dumps({{"rows": [{{"external_id": "W", "name": "w"}}]}})
client.post("/api/v1/customers/batch", warm, content_type="application/json")

def post_all(kind, rows):
    start = time.perf_counter()
    for first in range(0, len(rows), 1000):
        body = json.dumps({{"rows": rows[first:first + 1000]}})
        answer = client.post(f"/api/v1/{{kind}}/batch", body, content_type="application/json",
                             headers={{"Idempotency-Key": f"{{kind}}-{{first}}"}})
        assert answer.status_code == 200, answer.content[:500]
    return time.perf_counter() - start

api_customers = post_all("customers", customers)
api_invoices = post_all("invoices", invoices)
start = time.perf_counter()
replay = client.post("/api/v1/invoices/batch", json.dumps({{"rows": invoices[:1000]}}),
                     content_type="application/json", headers={{"Idempotency-Key": "invoices-0"}})
replay_seconds = time.perf_counter() - start
assert replay["Idempotent-Replayed"] == "true"
start, read, cursor = time.perf_counter(), 0, None
while True:
    query = "?limit=500" + (f"&cursor={{cursor}}" if cursor else "")
    page = client.get("/api/v1/invoices" + query).json()
    read += len(page["data"])
    cursor = page["next_cursor"]
    if not cursor:
        break
read_seconds = time.perf_counter() - start
assert read == len(invoices) == Invoice.objects.filter(company=home).count()

other = Company.objects.create(code="csv", name="CSV", country="FR", currency="EUR")
def as_csv(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode())
start = time.perf_counter()
assert imports.import_stream("customers", as_csv(customers), other).ok
csv_customers = time.perf_counter() - start
start = time.perf_counter()
assert imports.import_stream("invoices", as_csv(invoices), other).ok
csv_invoices = time.perf_counter() - start
print(json.dumps({{
    "customers": n, "invoices": len(invoices),
    "api_customers_s": api_customers, "api_invoices_s": api_invoices,
    "csv_customers_s": csv_customers, "csv_invoices_s": csv_invoices,
    "replay_s": replay_seconds, "read_s": read_seconds,
}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON only.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="relance-api-bench-"))
    env = embedded_env(work)
    relance = str(BIN / "relance")
    try:
        run_measured([relance, "init"], env)
        script = SCRIPT.format(customers=args.customers)
        _, rss, out = run_measured([relance, "manage", "shell", "-c", script], env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    raw = json.loads(out.strip().splitlines()[-1])
    api = raw["api_customers_s"] + raw["api_invoices_s"]
    csv_total = raw["csv_customers_s"] + raw["csv_invoices_s"]
    figures: dict[str, Any] = {
        "customers": raw["customers"],
        "invoices": raw["invoices"],
        "api_seconds": round(api, 2),
        "api_invoices_per_s": round(raw["invoices"] / raw["api_invoices_s"]),
        "csv_seconds": round(csv_total, 2),
        "ratio": round(api / csv_total, 2),
        "replay_ms": round(raw["replay_s"] * 1000, 1),
        "read_invoices_per_s": round(raw["invoices"] / raw["read_s"]),
        "peak_rss_mib": round(rss / 2**20),
        "seconds": {k: round(v, 3) for k, v in raw.items() if k.endswith("_s")},
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    verdict = "met" if figures["ratio"] <= 2 else "NOT met"
    print(
        f"API: {figures['customers']} customers and {figures['invoices']} invoices by batches of "
        f"1,000 in {figures['api_seconds']} s ({figures['api_invoices_per_s']} invoices/s); the "
        f"CSV import of the same rows {figures['csv_seconds']} s; ratio {figures['ratio']}x "
        f"(goal <= 2x {verdict}). A replayed batch (same Idempotency-Key) answers in "
        f"{figures['replay_ms']} ms; reading every invoice back by pages of 500: "
        f"{figures['read_invoices_per_s']} invoices/s; peak RSS {figures['peak_rss_mib']} MiB"
    )


if __name__ == "__main__":
    main()
