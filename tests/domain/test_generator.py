"""The synthetic ledger generator: contract columns, determinism, integrity, realism, laziness.

The demo and the benchmarks trust these files blindly, and the importer rejects a whole file for one
bad row, so the properties the importer checks (references, ISO dates, amounts, valid phones) are
asserted here on every row, not on a sample.
"""

from __future__ import annotations

import csv
import re
import runpy
import time
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from itertools import islice
from pathlib import Path

import phonenumbers
import pytest

from relance.demo.generator import (
    COLUMNS,
    LedgerSpec,
    contacts,
    credit_notes,
    customers,
    demo_specs,
    invoices,
    payments,
    write_csvs,
)

TODAY = date(2026, 11, 23)
GENERATORS = {
    "customers": customers,
    "contacts": contacts,
    "invoices": invoices,
    "credit-notes": credit_notes,
    "payments": payments,
}

# DESIGN §4, copied by hand on purpose: if either side changes, this test must be edited knowingly.
DESIGN_COLUMNS = {
    "customers": [
        "external_id",
        "name",
        "currency",
        "language",
        "time_zone",
        "country",
        "segment",
        "risk",
        "credit_limit",
        "pays_by_bank_transfer",
        "card_expiry",
        "owner_email",
        "sales_rep_email",
        "plan",
    ],
    "contacts": ["external_id", "customer_id", "name", "email", "phone", "roles"],
    "invoices": [
        "external_id",
        "customer_id",
        "number",
        "issue_date",
        "due_date",
        "currency",
        "total",
        "sales_rep_email",
        "status",
    ],
    "credit-notes": ["external_id", "customer_id", "invoice_id", "date", "currency", "amount"],
    "payments": ["external_id", "customer_id", "invoice_id", "date", "currency", "amount"],
}

AMOUNT = re.compile(r"^\d+\.\d{2}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ROLES = {"billing", "escalation", "legal", "primary"}


def ledger(spec: LedgerSpec) -> dict[str, list[dict[str, str]]]:
    return {kind: list(gen(spec)) for kind, gen in GENERATORS.items()}


@pytest.fixture(scope="module")
def demo() -> list[tuple[LedgerSpec, dict[str, list[dict[str, str]]]]]:
    return [(spec, ledger(spec)) for spec in demo_specs(TODAY)]


@pytest.fixture(scope="module")
def default_demo(demo) -> tuple[LedgerSpec, dict[str, list[dict[str, str]]]]:
    return demo[0]


def test_columns_are_exactly_the_design_contract(demo):
    assert {kind: list(cols) for kind, cols in COLUMNS.items()} == DESIGN_COLUMNS
    for _, rows in demo:
        for kind, kind_rows in rows.items():
            assert kind_rows, kind
            for row in kind_rows:
                assert list(row) == DESIGN_COLUMNS[kind]
                assert all(isinstance(value, str) for value in row.values())


def test_written_files_have_the_contract_header_and_the_generators_rows(tmp_path):
    spec = LedgerSpec(customers=40, seed=7, id_prefix="X-")
    paths = write_csvs(spec, tmp_path / "out")
    assert set(paths) == set(DESIGN_COLUMNS)
    for kind, path in paths.items():
        assert path == tmp_path / "out" / f"{kind}.csv"
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            assert reader.fieldnames == DESIGN_COLUMNS[kind]
            # The one-pass writer and the independent generators must agree row for row.
            assert list(reader) == list(GENERATORS[kind](spec))


def test_same_spec_same_bytes_and_rows(tmp_path):
    spec = LedgerSpec(customers=60, seed=3)
    assert ledger(spec) == ledger(spec)
    first = write_csvs(spec, tmp_path / "a")
    second = write_csvs(spec, tmp_path / "b")
    for kind in DESIGN_COLUMNS:
        assert first[kind].read_bytes() == second[kind].read_bytes()


def test_seed_and_company_change_the_ledger():
    base = LedgerSpec(customers=30)
    assert list(invoices(base)) != list(invoices(LedgerSpec(customers=30, seed=43)))
    assert list(customers(base)) != list(customers(LedgerSpec(customers=30, company="other")))


def test_a_customer_does_not_depend_on_how_many_follow():
    small, large = LedgerSpec(customers=25), LedgerSpec(customers=80)
    for gen in GENERATORS.values():
        rows_small = list(gen(small))
        assert rows_small == list(islice(gen(large), len(rows_small)))


def test_generators_are_lazy():
    huge = LedgerSpec(customers=10**7, invoices_per_customer=1000.0)
    started = time.perf_counter()
    for gen in GENERATORS.values():
        stream = gen(huge)
        first = next(stream)
        assert first["external_id"]
        next(stream)
    assert time.perf_counter() - started < 2.0


def test_external_ids_are_unique_prefixed_and_referenced(demo):
    all_ids: set[str] = set()
    for spec, rows in demo:
        customer_ids = {c["external_id"] for c in rows["customers"]}
        invoices_by_id = {i["external_id"]: i for i in rows["invoices"]}
        currency_of = {c["external_id"]: c["currency"] for c in rows["customers"]}
        for kind, kind_rows in rows.items():
            ids = [row["external_id"] for row in kind_rows]
            assert len(ids) == len(set(ids)), kind
            assert all(i.startswith(spec.id_prefix) for i in ids)
            assert not all_ids & set(ids), "two companies' files must never collide"
            all_ids |= set(ids)
            for row in kind_rows:
                if kind != "customers":
                    assert row["customer_id"] in customer_ids
        numbers = [i["number"] for i in rows["invoices"]]
        assert len(numbers) == len(set(numbers))
        for invoice in rows["invoices"]:
            assert invoice["currency"] == currency_of[invoice["customer_id"]]
        for kind in ("payments", "credit-notes"):
            for row in rows[kind]:
                assert row["currency"] == currency_of[row["customer_id"]]
                if row["invoice_id"]:
                    invoice = invoices_by_id[row["invoice_id"]]
                    assert invoice["customer_id"] == row["customer_id"]
                    assert invoice["currency"] == row["currency"]
                    assert invoice["status"] != "void"


def test_customers_look_real(demo):
    for spec, rows in demo:
        staff = f"@{spec.staff_domain}"
        rows_ = rows["customers"]
        for c in rows_:
            assert c["name"].strip()
            assert c["plan"] == ""
            assert c["language"] == ("fr" if c["country"] == "FR" else "en")
            assert (
                c["time_zone"]
                == {
                    "FR": "Europe/Paris",
                    "GB": "Europe/London",
                    "US": "America/New_York",
                }[c["country"]]
            )
            assert c["segment"] in {"smb", "mid-market", "enterprise", "public"}
            assert c["risk"] in {"low", "medium", "high"}
            assert c["credit_limit"] == "" or (
                AMOUNT.match(c["credit_limit"]) and Decimal(c["credit_limit"]) > 0
            )
            assert c["pays_by_bank_transfer"] in {"true", "false"}
            if c["pays_by_bank_transfer"] == "false":
                assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", c["card_expiry"])
                assert c["card_expiry"] >= spec.today.strftime("%Y-%m")
            else:
                assert c["card_expiry"] == ""
            assert c["owner_email"].endswith(staff)
            assert c["sales_rep_email"] == "" or c["sales_rep_email"].endswith(staff)
        currencies = Counter(c["currency"] for c in rows_)
        assert currencies.most_common(1)[0][0] == spec.currency
        assert 0.04 < currencies["USD"] / len(rows_) < 0.18
        assert len(currencies) == 3  # main, USD and a few in the other of EUR/GBP
        assert {c["country"] for c in rows_ if c["currency"] == "USD"} >= {"US"}
        assert len({c["name"] for c in rows_}) == len(rows_)  # no duplicate names in the demo
        assert len({c["owner_email"] for c in rows_}) == 4
        assert len({c["sales_rep_email"] for c in rows_} - {""}) == 6
        assert {c["segment"] for c in rows_} == {"smb", "mid-market", "enterprise", "public"}
        assert {c["credit_limit"] == "" for c in rows_} == {True, False}
        # Some cards on file expire within the next three months.
        year, month0 = divmod(spec.today.year * 12 + spec.today.month - 1 + 3, 12)
        soon = f"{year}-{month0 + 1:02d}"
        assert any(c["card_expiry"] and c["card_expiry"] <= soon for c in rows_)
    french, british = (rows["customers"][0]["name"] for _, rows in demo)
    assert french != british


def test_risk_predicts_payment_delay(default_demo):
    _, rows = default_demo
    risk_of = {c["external_id"]: c["risk"] for c in rows["customers"]}
    due_of = {i["external_id"]: date.fromisoformat(i["due_date"]) for i in rows["invoices"]}
    delays: dict[str, list[int]] = defaultdict(list)
    for p in rows["payments"]:
        if p["invoice_id"]:
            delay = (date.fromisoformat(p["date"]) - due_of[p["invoice_id"]]).days
            delays[risk_of[p["customer_id"]]].append(delay)
    mean = {risk: sum(d) / len(d) for risk, d in delays.items()}
    assert mean["low"] < mean["medium"] < mean["high"]
    assert mean["high"] > 30


def test_contacts_are_reachable(demo):
    for _, rows in demo:
        country_of = {c["external_id"]: c["country"] for c in rows["customers"]}
        per_customer: dict[str, list[dict[str, str]]] = defaultdict(list)
        for contact in rows["contacts"]:
            per_customer[contact["customer_id"]].append(contact)
        assert set(per_customer) == set(country_of)
        domains = set()
        for customer_id, people in per_customer.items():
            assert 1 <= len(people) <= 3
            assert any("billing" in p["roles"].split("|") for p in people)
            customer_domains = {p["email"].split("@")[1] for p in people}
            assert len(customer_domains) == 1
            domains |= customer_domains
            for person in people:
                assert set(person["roles"].split("|")) <= ROLES
                assert person["name"].strip()
                assert re.fullmatch(r"[a-z0-9.]+@[a-z0-9.-]+\.[a-z]+", person["email"])
                if person["phone"]:
                    number = phonenumbers.parse(person["phone"])
                    assert phonenumbers.is_valid_number(number), person["phone"]
                    assert phonenumbers.region_code_for_number(number) == country_of[customer_id]
                    assert person["phone"] == phonenumbers.format_number(
                        number, phonenumbers.PhoneNumberFormat.E164
                    )
        assert len(domains) == len(per_customer)  # each customer has its own domain
        assert sum(1 for c in rows["contacts"] if c["phone"]) > len(rows["contacts"]) / 2


def test_domains_stay_unique_past_the_name_space():
    # 12,000 customers is more than the French private name space: names repeat, domains must not.
    spec = LedgerSpec(customers=12_000)
    domain_of: dict[str, str] = {}
    for contact in contacts(spec):
        domain = contact["email"].split("@")[1]
        assert domain_of.setdefault(contact["customer_id"], domain) == domain
    assert len(domain_of) == 12_000
    assert len(set(domain_of.values())) == 12_000


def test_dates_and_amounts_are_well_formed(demo):
    for spec, rows in demo:
        invoices_by_id = {i["external_id"]: i for i in rows["invoices"]}
        window_start = date(spec.today.year - 2, spec.today.month, 1)
        for invoice in rows["invoices"]:
            issue = date.fromisoformat(invoice["issue_date"])
            due = date.fromisoformat(invoice["due_date"])
            assert ISO_DATE.match(invoice["issue_date"])
            assert ISO_DATE.match(invoice["due_date"])
            assert window_start <= issue <= spec.today
            assert (due - issue).days in {30, 45, 60}
            assert AMOUNT.match(invoice["total"])
            assert Decimal("50.00") <= Decimal(invoice["total"]) <= Decimal("50000.00")
            assert invoice["status"] in {"", "open", "void"}
            assert re.fullmatch(r"(F|INV-)\d{4}-\d{6}", invoice["number"])
            assert invoice["number"][-11:-7] == invoice["issue_date"][:4]
        paid: dict[str, Decimal] = defaultdict(Decimal)
        for kind in ("payments", "credit-notes"):
            for row in rows[kind]:
                assert ISO_DATE.match(row["date"])
                assert AMOUNT.match(row["amount"])
                amount = Decimal(row["amount"])
                assert amount > 0
                day = date.fromisoformat(row["date"])
                assert day <= spec.today
                if row["invoice_id"]:
                    invoice = invoices_by_id[row["invoice_id"]]
                    assert day > date.fromisoformat(invoice["issue_date"])
                    paid[row["invoice_id"]] += amount
                    if kind == "credit-notes":
                        assert amount <= Decimal(invoice["total"])
        # Settlements stay at the invoice total, except an occasional small overpayment.
        over = [
            paid[i] - Decimal(invoices_by_id[i]["total"])
            for i in paid
            if paid[i] > Decimal(invoices_by_id[i]["total"])
        ]
        assert all(excess <= 20 for excess in over)
        assert len(over) < len(paid) * 0.02
        # Partial payments: an invoice paid in two goes, each part below the total.
        counts = Counter(p["invoice_id"] for p in rows["payments"] if p["invoice_id"])
        assert any(n > 1 for n in counts.values())
        for p in rows["payments"]:
            if counts[p["invoice_id"]] > 1:
                total = Decimal(invoices_by_id[p["invoice_id"]]["total"])
                assert Decimal(p["amount"]) < total


def test_realistic_proportions(default_demo):
    _, rows = default_demo
    n_invoices = len(rows["invoices"])
    statuses = Counter(i["status"] for i in rows["invoices"])
    assert 0 < statuses["void"] < n_invoices * 0.03
    assert statuses["open"] > n_invoices / 2
    assert 0.01 < len(rows["credit-notes"]) / n_invoices < 0.06
    assert any(not cn["invoice_id"] for cn in rows["credit-notes"])
    assert sum(1 for cn in rows["credit-notes"] if cn["invoice_id"]) > len(rows["credit-notes"]) / 2
    unallocated = sum(1 for p in rows["payments"] if not p["invoice_id"])
    assert 0.04 < unallocated / len(rows["payments"]) < 0.16
    with_rep = sum(1 for i in rows["invoices"] if i["sales_rep_email"])
    assert 0.05 < with_rep / n_invoices < 0.3
    per_customer = Counter(i["customer_id"] for i in rows["invoices"])
    assert min(per_customer.values()) >= 1
    assert len(set(per_customer.values())) > 5  # counts vary between customers


def test_invoice_count_follows_the_requested_average():
    spec = LedgerSpec(customers=2_000, invoices_per_customer=5.0)
    n = sum(1 for _ in invoices(spec))
    assert 0.9 * 10_000 < n < 1.1 * 10_000


def test_aging_buckets_are_all_populated(default_demo):
    spec, rows = default_demo
    due = {i["external_id"]: Decimal(i["total"]) for i in rows["invoices"] if i["status"] != "void"}
    for row in rows["payments"] + rows["credit-notes"]:
        if row["invoice_id"]:
            due[row["invoice_id"]] -= Decimal(row["amount"])
    buckets: Counter[str] = Counter()
    for invoice in rows["invoices"]:
        amount = due.get(invoice["external_id"], Decimal(0))
        if amount <= 0:
            continue
        late = (spec.today - date.fromisoformat(invoice["due_date"])).days
        if late <= 0:
            bucket = "current"
        elif late <= 30:
            bucket = "1-30"
        elif late <= 60:
            bucket = "31-60"
        elif late <= 90:
            bucket = "61-90"
        elif late <= 120:
            bucket = "91-120"
        else:
            bucket = "120+"
        buckets[bucket] += 1
    assert set(buckets) == {"current", "1-30", "31-60", "61-90", "91-120", "120+"}
    assert all(n >= 5 for n in buckets.values()), buckets
    # Most invoices are settled: an aging report of a going concern, not of a bankrupt ledger.
    assert sum(buckets.values()) < len(due) / 2


def test_spec_rejects_what_it_cannot_generate():
    with pytest.raises(ValueError, match="country"):
        LedgerSpec(country="DE")
    with pytest.raises(ValueError, match="currency"):
        LedgerSpec(currency="eur")
    with pytest.raises(ValueError, match="invoices_per_customer"):
        LedgerSpec(invoices_per_customer=0)


def test_bench_script_writes_and_reports(tmp_path, capsys):
    script = Path(__file__).resolve().parents[2] / "bench" / "generate.py"
    main = runpy.run_path(str(script), run_name="bench_generate")["main"]
    out = tmp_path / "gen"
    args = ["--customers", "50", "--invoices", "400", "--company", "uk", "--out", str(out)]
    assert main(args) == 0
    report = capsys.readouterr().out
    for label in ("customers", "contacts", "invoices", "credit-notes", "payments", "seconds"):
        assert label in report
    assert "peak RSS" in report
    with (out / "customers.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 50
    assert rows[0]["external_id"].startswith("UK-")
    assert Counter(r["currency"] for r in rows).most_common(1)[0][0] == "GBP"
