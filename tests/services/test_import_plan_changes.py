"""The customers an import job moves to another dunning plan: computed before and after inside
the import's transaction (a check reports them and saves nothing), for a customers file that
changes a segment or the plan column, and for a ledger file that changes what a rule on the
balance reads; the customers whose plan stays are not listed, and the CLI's JSON is untouched."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from relance.models import Customer, ImportJob, Invoice, Plan
from relance.services.dunning import plan_changes
from relance.services.dunning import plans as plan_service
from relance.services.ledger import import_jobs, imports
from tests import clock

PLANS = Path(__file__).resolve().parents[2] / "relance" / "plans"


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.RELANCE_IMPORT_DIR = tmp_path / "imports"
    settings.RELANCE_IMPORT_EXECUTOR = "relance.services.ledger.import_jobs.Inline"


@pytest.fixture
def plans(company):
    for name in ("standard", "high-risk", "white-glove"):
        plan_service.load_plans((PLANS / f"{name}.yaml").read_text(encoding="utf-8"))
    return company


def rules(company, *rows):
    plan_service.save_rules(list(rows), company=company)


EVERYONE = {"name": "Everyone else", "plan": "standard"}
KEY_ACCOUNTS = {"name": "Key accounts", "plan": "white-glove", "when": {"segment": ["enterprise"]}}
OVER_LIMIT = {"name": "Over the limit", "plan": "high-risk", "when": {"min_credit_limit_use": 80}}


@pytest.fixture
def send(company, django_capture_on_commit_callbacks):
    user = get_user_model().objects.create(username="claire", email="claire@ar.test")

    def send(kind, data, *, dry_run=False):
        upload = io.BytesIO(data)
        upload.name = f"{kind}.csv"
        with django_capture_on_commit_callbacks(execute=True):
            job = import_jobs.submit(company, kind, upload, user, dry_run=dry_run)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE, job.errors or job.message
        return job

    return send


@pytest.fixture
def customers(plans, new_customer):
    """C1 and C2 (small businesses) with a credit limit of 1,000 EUR, C3 on an explicit plan."""
    found = {}
    for ext, name in (("C1", "Boulangerie Dupont"), ("C2", "Garage Martin"), ("C3", "Atelier")):
        customer = new_customer(plans, ext, name)
        customer.segment = "smb"
        customer.credit_limit = Decimal("1000.00")
        found[ext] = customer
    found["C3"].plan = Plan.objects.get(company=plans, code="white-glove")
    Customer.objects.bulk_update(found.values(), ["segment", "credit_limit", "plan"])
    return found


def test_a_check_lists_the_customer_a_new_segment_moves_and_saves_nothing(send, customers, plans):
    rules(plans, KEY_ACCOUNTS, EVERYONE)
    job = send(
        "customers",
        b"external_id,name,segment\n"
        b"C1,Boulangerie Dupont,enterprise\n"
        b"C2,Garage Martin SARL,smb\n"  # renamed: same plan, not listed
        b"C3,Atelier,enterprise\n"  # explicit plan: the segment changes nothing
        b"C4,Nouveau client,enterprise\n",  # created: counted as such, not here
        dry_run=True,
    )
    assert job.plan_change_count == 1
    assert job.plan_changes == [
        {
            "customer": "C1",
            "name": "Boulangerie Dupont",
            "before": "standard",
            "after": "white-glove",
        }
    ]
    assert Customer.objects.get(external_id="C1").segment == "smb"
    assert not Customer.objects.filter(external_id="C4").exists()


def test_the_plan_column_changes_the_plan_and_no_plan_is_null(send, customers, plans):
    job = send(
        "customers",
        b"external_id,name,plan\nC1,Boulangerie Dupont,high-risk\nC2,Garage Martin,\nC3,Atelier,\n",
    )
    # no rules at all: C1 gets a plan, C3 loses its own, C2 had none and still has none
    assert not job.dry_run
    assert job.plan_change_count == 2
    assert job.plan_changes == [
        {"customer": "C1", "name": "Boulangerie Dupont", "before": None, "after": "high-risk"},
        {"customer": "C3", "name": "Atelier", "before": "white-glove", "after": None},
    ]
    assert Customer.objects.get(external_id="C1").plan.code == "high-risk"


def test_removing_an_explicit_plan_hands_the_customer_back_to_the_rules(send, customers, plans):
    rules(plans, KEY_ACCOUNTS, EVERYONE)
    job = send("customers", b"external_id,name,plan\nC3,Atelier,\n", dry_run=True)
    assert [(c["before"], c["after"]) for c in job.plan_changes] == [("white-glove", "standard")]


def _invoices(*rows: tuple[str, str, str]) -> bytes:
    issued = clock.today() - timedelta(days=10)
    due = issued + timedelta(days=30)
    lines = ["external_id,customer_id,number,issue_date,due_date,currency,total"]
    lines += [f"{ext},{cust},F-{ext},{issued},{due},EUR,{total}" for ext, cust, total in rows]
    return ("\n".join(lines) + "\n").encode()


def test_invoices_that_push_a_customer_over_a_balance_rule_move_it(send, customers, plans):
    rules(plans, OVER_LIMIT, EVERYONE)
    invoices = _invoices(("I1", "C1", "500.00"), ("I2", "C1", "400.00"), ("I3", "C2", "100.00"))
    check = send("invoices", invoices, dry_run=True)
    assert check.plan_change_count == 1
    assert check.plan_changes == [
        {"customer": "C1", "name": "Boulangerie Dupont", "before": "standard", "after": "high-risk"}
    ]
    assert not Invoice.objects.exists()
    real = send("invoices", invoices)
    assert real.plan_changes == check.plan_changes
    assert Invoice.objects.count() == 3
    # the same file again changes nothing, hence no plan
    assert send("invoices", invoices, dry_run=True).plan_change_count == 0
    # a payment brings C1 back under the limit
    paid = clock.today()
    payments = (
        f"external_id,customer_id,invoice_id,date,currency,amount\nP1,C1,I1,{paid},EUR,500.00\n"
    )
    job = send("payments", payments.encode(), dry_run=True)
    assert [(c["customer"], c["before"], c["after"]) for c in job.plan_changes] == [
        ("C1", "high-risk", "standard")
    ]


def test_an_invoice_moved_to_another_customer_concerns_both(send, customers, plans):
    rules(plans, OVER_LIMIT, EVERYONE)
    send("invoices", _invoices(("I1", "C1", "900.00")))
    job = send("invoices", _invoices(("I1", "C2", "900.00")), dry_run=True)
    assert [(c["customer"], c["before"], c["after"]) for c in job.plan_changes] == [
        ("C1", "high-risk", "standard"),
        ("C2", "standard", "high-risk"),
    ]


def test_a_ledger_file_is_not_looked_at_when_no_rule_reads_the_ledger(customers, plans):
    rules(plans, KEY_ACCOUNTS, EVERYONE)
    assert not plan_changes.PlanChanges(plans, "invoices").watching
    rules(plans, OVER_LIMIT, EVERYONE)
    assert plan_changes.PlanChanges(plans, "payments").watching
    assert not plan_changes.PlanChanges(plans, "contacts").watching


def test_the_job_keeps_the_first_thousand_and_counts_them_all(send, plans, monkeypatch):
    monkeypatch.setattr(plan_changes, "KEPT", 3)
    Customer.objects.bulk_create(
        Customer(company=plans, external_id=f"C{i:02}", name=f"Client {i}", currency="EUR")
        for i in range(5)
    )
    rows = "".join(f"C{i:02},Client {i},standard\n" for i in range(5))
    job = send("customers", b"external_id,name,plan\n" + rows.encode(), dry_run=True)
    assert job.plan_change_count == 5
    assert [c["customer"] for c in job.plan_changes] == ["C00", "C01", "C02"]


def test_a_failed_import_lists_no_plan_change(
    company, customers, plans, django_capture_on_commit_callbacks
):
    upload = io.BytesIO(b"external_id,name,plan\nC1,Boulangerie Dupont,high-risk\nC9,,\n")
    upload.name = "customers.csv"
    with django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.submit(company, "customers", upload, None, dry_run=True)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert (job.plan_change_count, job.plan_changes) == (0, [])


def test_the_cli_and_api_dry_run_json_has_no_plan_changes(customers, plans):
    result = imports.import_rows(
        "customers", [{"external_id": "C1", "name": "X", "plan": "high-risk"}], plans, dry_run=True
    )
    assert "plan" not in " ".join(result.as_json())
