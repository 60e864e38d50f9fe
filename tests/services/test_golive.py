"""Go-live (issue 19 item 6): a company not live is left out of the cycle, the go-live projection
is the cycle's own composing, reading only, switching on records `company.live`, and the first-run
policies reach the cycle through the snapshots and the triage."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relance.models import Company, Event, Execution, Membership, OutboxMessage, Run
from relance.services.dunning import golive, triage
from relance.services.dunning.run import InProcess, run
from relance.services.ledger import snapshots
from relance.services.organisation.companies import upsert_company

PLANS = Path(__file__).resolve().parents[2] / "relance" / "plans"
DAY = date(2026, 9, 1)
HEADER = ["external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"]


@pytest.fixture
def ledger(company, relance, write_csv):
    """C1 owes an invoice 243 days late (by age: the formal notice) and has a contact; C2 owes
    one 20 days late and has no contact at all."""
    relance.json("plan", "load", PLANS / "standard.yaml")
    customers = [["C1", "Acme", "standard"], ["C2", "Bolt", "standard"]]
    relance.json("import", "customers", write_csv("c", ["external_id", "name", "plan"], customers))
    relance.json(
        "import",
        "contacts",
        write_csv(
            "k",
            ["external_id", "customer_id", "email", "roles"],
            [["K1", "C1", "a@x.test", "billing"]],
        ),
    )
    invoices = [
        ["I1", "C1", "F-1", "2025-12-01", "2026-01-01", "EUR", "100.00"],
        ["I2", "C2", "F-2", "2026-07-12", "2026-08-12", "EUR", "50.00"],
    ]
    relance.json("import", "invoices", write_csv("i", HEADER, invoices))
    return company


def paused(company: Company) -> Company:
    Company.objects.filter(pk=company.pk).update(automatic_sending=False, first_run="step1")
    company.refresh_from_db()
    return company


def test_cli_and_existing_companies_are_live_by_age(company):
    assert (company.automatic_sending, company.first_run) == (True, "by_age")
    made, _ = upsert_company("acme", name="Acme", country="FR", currency="EUR")
    assert (made.automatic_sending, made.first_run, made.first_run_before) == (True, "by_age", None)


def test_the_staff_apps_way_makes_a_company_not_live_starting_at_step_1(db):
    made, created = upsert_company(
        "acme",
        name="Acme",
        country="FR",
        currency="EUR",
        automatic_sending=False,
        first_run="step1",
    )
    assert created
    assert (made.automatic_sending, made.first_run) == (False, "step1")


def test_a_company_not_live_is_left_out_of_the_cycle_and_named(ledger):
    paused(ledger)
    done = run(DAY, executor=InProcess())
    assert done.report.actions == []
    assert done.report.paused == ["default"]
    assert done.report.as_json()["paused"] == ["default"]
    assert not Execution.objects.exists()
    assert not OutboxMessage.objects.exists()
    # Asked for by name, no Run row either: the day stays to do once it goes live.
    alone = run(DAY, company_id=ledger.pk, executor=InProcess())
    assert alone.run is None
    assert alone.report.paused == ["default"]
    assert not Run.objects.filter(company=ledger).exists()


def test_a_live_companys_report_is_unchanged(ledger):
    done = run(DAY, dry_run=True, executor=InProcess())
    assert set(done.report.as_json()) == {"date", "actions", "skipped"}


def test_the_projection_is_the_first_cycle_under_the_policy_and_writes_nothing(ledger):
    paused(ledger)
    events = Event.objects.count()
    step1 = golive.project(ledger, DAY, "step1")
    assert step1.actions == 2
    assert step1.customers == 2
    # Both invoices are overdue: their first step is the plan's first from the due date on.
    assert [(s["step_index"], s["step"], s["channel"], s["count"]) for s in step1.by_step] == [
        (2, "Payment reminder", "email", 2)
    ]
    assert step1.by_channel == {"email": 2}
    # C2 has no contact: named; C1's message rendered as it will be read.
    assert [(u["customer"], u["name"]) for u in step1.unreachable] == [("C2", "Bolt")]
    assert step1.unreachable_count == 1
    [sample] = step1.samples
    assert sample["customer"] == "C1"
    assert "F-1" in sample["body"]
    # By age C1 would get the formal notice at once: listed whatever the policy chosen.
    [notice] = step1.notices
    assert (notice["customer"], notice["invoice"], notice["step"]) == ("C1", "F-1", "Formal notice")
    assert notice["days_late"] == 243
    by_age = golive.project(ledger, DAY, "by_age")
    assert {s["step"] for s in by_age.by_step} == {"Formal notice", "Payment reminder"}
    # Nothing written, the company as it was.
    assert not Execution.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert Event.objects.count() == events
    ledger.refresh_from_db()
    assert (ledger.automatic_sending, ledger.first_run) == (False, "step1")


def test_the_projection_only_reads_and_holds_no_lock(ledger):
    """The policy asked reaches the composing in memory: no UPDATE of the company row, no
    transaction opened (on SQLite an IMMEDIATE one would block every other writer for as long
    as a large ledger takes to read), no row locked."""
    paused(ledger)
    with CaptureQueriesContext(connection) as seen:
        found = golive.project(ledger, DAY, "by_age")
    assert {s["step"] for s in found.by_step} == {"Formal notice", "Payment reminder"}
    statements = [q["sql"].lstrip().split()[0].upper() for q in seen.captured_queries]
    assert set(statements) == {"SELECT"}, statements
    assert not any(
        "FOR UPDATE" in q["sql"] or "FOR NO KEY" in q["sql"] for q in seen.captured_queries
    )
    ledger.refresh_from_db()
    assert ledger.first_run == "step1"


def test_ignore_before_leaves_the_old_invoice_out_of_the_projection(ledger):
    found = golive.project(ledger, DAY, "ignore_before", date(2026, 6, 1))
    assert [(s["step"], s["count"]) for s in found.by_step] == [("Payment reminder", 1)]


def test_a_policy_is_checked_naming_the_field(ledger):
    with pytest.raises(golive.ValidationError) as refused:
        golive.project(ledger, DAY, "ignore_before")
    assert "first_run_before" in refused.value.message_dict
    with pytest.raises(golive.ValidationError):
        golive.go_live(ledger, "sometimes", source="cli")


def test_going_live_switches_sending_on_and_the_first_cycle_starts_at_step_1(ledger):
    paused(ledger)
    admin = get_user_model().objects.create_user("ada")
    Membership.objects.create(company=ledger, user=admin, role=Membership.Role.ADMIN)
    event = golive.go_live(ledger, "step1", actor=admin, source="web")
    ledger.refresh_from_db()
    assert ledger.automatic_sending
    assert ledger.first_run == "step1"
    assert (event.kind, event.company, event.actor) == ("company.live", ledger, admin)
    assert event.data == {"policy": "step1", "before": None, "was_live": False}
    assert golive.history(ledger) == [event]
    done = run(DAY, executor=InProcess(), deliver=False)
    assert {(a["customer"], a["step"]) for a in done.report.actions} == {
        ("C1", "Payment reminder"),
        ("C2", "Payment reminder"),
    }
    assert {s["step"] for s in done.report.skipped} == {"Friendly reminder"}
    # The day after, C1's next step waits for the plan's own delay from its first run.
    snap = snapshots.load(snapshots.debtors([_pk("C1")]), DAY, history_days=0)[0]
    assert snap.account.started == (("standard", DAY),)
    later = run(date(2026, 9, 2), executor=InProcess(), deliver=False)
    assert later.report.actions == []


def _pk(external_id: str) -> int:
    from relance.models import Customer

    return Customer.objects.get(external_id=external_id).pk


@pytest.mark.parametrize("role", ["credit_controller", "read_only", "sales_rep"])
def test_only_an_admin_switches_sending_on_from_the_web(ledger, role):
    paused(ledger)
    user = get_user_model().objects.create_user("bob")
    Membership.objects.create(company=ledger, user=user, role=role)
    with pytest.raises(golive.GoLiveRefused, match="administrator"):
        golive.go_live(ledger, "step1", actor=user, source="web")
    ledger.refresh_from_db()
    assert not ledger.automatic_sending
    assert not Event.objects.filter(kind="company.live").exists()


def test_triage_leaves_out_invoices_the_policy_ignores(ledger):
    assert _pk("C1") in triage.customers_to_look_at(DAY, ledger.pk)
    Company.objects.filter(pk=ledger.pk).update(
        first_run="ignore_before", first_run_before=date(2026, 6, 1)
    )
    found = triage.customers_to_look_at(DAY, ledger.pk)
    assert _pk("C1") not in found
    assert _pk("C2") in found


def test_the_tick_runs_no_cycle_for_a_company_not_live_but_staff_sends_still_leave(ledger):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from relance.services.dunning import cycle
    from relance.services.dunning.scheduling import tick

    paused(ledger)
    # A person sends C1 a step by hand: allowed, they chose that message.
    done = cycle.step_now(_pk("C1"), "Payment reminder", DAY)
    assert done["status"] == "queued"
    assert tick(datetime(2026, 9, 1, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))) is None
    assert not Run.objects.exists()
    assert list(Execution.objects.values_list("step_name", flat=True)) == ["Payment reminder"]
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT
