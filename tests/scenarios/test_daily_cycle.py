"""Day-by-day scenarios through the DESIGN §4 contract: `relance run`, forecast, statement, holds,
disputes, promises, partial payments, credit notes, currencies, catch-up and repeated runs."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from relance.models import ActionItem, Event, Execution, OutboxMessage, Promise

ROOT = Path(__file__).resolve().parents[2]
STANDARD = ROOT / "relance" / "plans" / "standard.yaml"
CUSTOMERS = [
    "external_id",
    "name",
    "currency",
    "country",
    "owner_email",
    "plan",
    "address_line1",
    "postal_code",
    "city",
]
CONTACTS = ["external_id", "customer_id", "name", "email", "roles"]
INVOICES = ["external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"]
SETTLEMENTS = ["external_id", "customer_id", "invoice_id", "date", "currency", "amount"]
DUE = date(2026, 3, 1)  # due date of I1; standard plan: -5, +15, +30, +45 (call), +60 (letter)


@pytest.fixture
def ledger(company, relance, write_csv):
    relance.json("plan", "load", STANDARD)
    relance.json(
        "import",
        "customers",
        write_csv(
            "customers",
            CUSTOMERS,
            [
                [
                    "C1",
                    "Boulangerie Dupont",
                    "EUR",
                    "FR",
                    "claire@ar.test",
                    "standard",
                    "8 avenue Victor Hugo",
                    "69002",
                    "Lyon",
                ],
                ["C2", "Harbour Ltd", "GBP", "GB", "claire@ar.test", "standard", "", "", ""],
            ],
        ),
    )
    relance.json(
        "import",
        "contacts",
        write_csv(
            "contacts",
            CONTACTS,
            [
                ["K1", "C1", "Marie", "marie@dupont.test", "billing"],
                ["K2", "C1", "Paul", "paul@dupont.test", "escalation|legal"],
                ["K3", "C2", "Tom", "tom@harbour.test", "primary"],
            ],
        ),
    )
    relance.json(
        "import",
        "invoices",
        write_csv(
            "invoices",
            INVOICES,
            [
                ["I1", "C1", "F-1", "2026-01-30", DUE.isoformat(), "EUR", "1000.00"],
                ["I2", "C1", "F-2", "2026-02-10", "2026-03-12", "EUR", "500.00"],
                ["I3", "C1", "F-3", "2026-02-12", "2026-03-14", "USD", "300.00"],
                ["I4", "C2", "INV-4", "2026-02-20", "2026-03-22", "GBP", "250.00"],
            ],
        ),
    )
    return relance


def run(relance, day: date) -> dict:
    return relance.json("run", "--date", day.isoformat())


def days(start: date, end: date):
    while start <= end:
        yield start
        start += timedelta(days=1)


def test_a_quarter_day_by_day(ledger, settings, tmp_path, mailoutbox, company):
    settings.RELANCE_OUTBOX_DIR = tmp_path / "outbox"
    company.letter_statement = True  # letters carry a statement of the account
    company.save()
    timeline: list[tuple[str, str, int, str, str]] = []
    for day in days(date(2026, 2, 1), date(2026, 6, 30)):
        out = run(ledger, day)
        assert out["date"] == day.isoformat()
        for a in out["actions"]:
            timeline.append(
                (
                    day.isoformat(),
                    a["customer"],
                    a["step_index"],
                    a["status"],
                    a["reference_invoice"],
                )
            )
        assert run(ledger, day) == {"date": day.isoformat(), "actions": [], "skipped": []}
    c1 = [(d, i, s) for d, c, i, s, _ in timeline if c == "C1"]
    assert c1 == [
        ("2026-02-24", 1, "sent"),  # I1 due 03-01 - 5
        ("2026-03-16", 2, "sent"),  # + 15
        ("2026-03-31", 3, "sent"),  # + 30
        ("2026-04-15", 4, "open"),  # + 45: the owner's call, an action item
        ("2026-04-30", 5, "queued"),  # + 60: formal notice letter, in the print run
    ]
    c2 = [(d, i, s) for d, c, i, s, _ in timeline if c == "C2"]
    assert c2 == [
        ("2026-03-17", 1, "sent"),
        ("2026-04-06", 2, "sent"),
        ("2026-04-21", 3, "sent"),
        ("2026-05-06", 4, "open"),
        ("2026-05-21", 5, "failed"),  # a letter, but C2 has no postal address (below)
    ]
    # C2 has no billing contact: the primary contact receives the messages.
    message = OutboxMessage.objects.filter(customer__external_id="C2").first()
    assert message.to == ["tom@harbour.test"]
    assert OutboxMessage.objects.filter(status="sent").count() == 6
    assert len(mailoutbox) == 6  # the emails (the test settings keep them in memory)
    letter = OutboxMessage.objects.get(channel="letter", customer__external_id="C1")
    assert letter.status == "printing"
    assert letter.to == ["paul@dupont.test", "marie@dupont.test"]  # role:legal, role:billing
    no_address = OutboxMessage.objects.get(channel="letter", customer__external_id="C2")
    assert no_address.status == "dead"
    assert "no postal address for customer C2" in no_address.last_error
    [run_] = ledger.json("letters", "list")["runs"]
    assert (run_["letters"], run_["status"]) == (1, "open")
    pdf = tmp_path / "run.pdf"
    ledger.json("letters", "download", run_["id"], "-o", pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "Boulangerie Dupont",
        "l'attention de Marie",
        "8 avenue Victor Hugo",
        "69002 Lyon",
        "F-1",
        "Mise en demeure",
        "Relevé de compte",
    ):
        assert expected in text, expected
    posted = ledger.json("letters", "posted", run_["id"], "--by", "claire@ar.test")
    assert posted["status"] == "posted"
    letter.refresh_from_db()
    assert (letter.status, letter.sent_at is not None) == ("sent", True)
    assert ledger("letters", "posted", run_["id"], "--by", "x").exit_code == 1  # only once
    call = ActionItem.objects.get(customer__external_id="C1")
    assert call.kind == "call"
    assert [u.email for u in call.assignees.all()] == ["claire@ar.test"]
    assert "F-1" in call.body


def test_run_json_contract_groups_invoices_with_totals_per_currency(ledger):
    out = run(ledger, date(2026, 4, 1))  # first run: catch-up to the firm reminder (+30)
    assert len(out["actions"]) == 2
    action = next(a for a in out["actions"] if a["customer"] == "C1")
    assert action == {
        "customer": "C1",
        "plan": "standard",
        "step": "Firm reminder",
        "step_index": 3,
        "channel": "email",
        "mode": "auto",
        "status": "sent",
        "reference_invoice": "I1",
        "invoices": ["I1", "I2", "I3"],
        "totals": {"EUR": "1500.00", "USD": "300.00"},
        "recipients": ["marie@dupont.test"],
        "cc": ["paul@dupont.test"],
        "key": action["key"],
    }
    skipped = [s for s in out["skipped"] if s["customer"] == "C1"]
    assert skipped == [
        {
            "customer": "C1",
            "step": "Friendly reminder",
            "step_index": 1,
            "reference_invoice": "I1",
            "reason": "superseded",
        },
        {
            "customer": "C1",
            "step": "Payment reminder",
            "step_index": 2,
            "reference_invoice": "I1",
            "reason": "superseded",
        },
    ]
    message = OutboxMessage.objects.get(key=action["key"])
    assert "F-2" in message.body
    assert "Madame, Monsieur" in message.body  # C1 reads French: the library's French text
    # The superseded steps are recorded on the execution that superseded them.
    firm = Execution.objects.get(key=action["key"])
    assert firm.superseded == [
        {"step": "Friendly reminder", "step_index": 1},
        {"step": "Payment reminder", "step_index": 2},
    ]
    assert Execution.objects.count() == 2  # C2 is at its first step


def test_dry_run_reports_but_writes_nothing(ledger):
    out = ledger.json("run", "--date", "2026-04-01", "--dry-run")
    assert len(out["actions"]) == 2
    assert {a["status"] for a in out["actions"]} == {"queued"}
    assert not Execution.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert len(run(ledger, date(2026, 4, 1))["actions"]) == 2


def test_partial_payment_and_credit_note_change_the_reference_and_amounts(ledger, write_csv):
    ledger.json(
        "import",
        "payments",
        write_csv(
            "p",
            SETTLEMENTS,
            [
                ["P1", "C1", "I1", "2026-03-10", "EUR", "1000.00"],
                ["P2", "C1", "I2", "2026-03-10", "EUR", "200.00"],
            ],
        ),
    )
    ledger.json(
        "import",
        "credit-notes",
        write_csv(
            "cn",
            SETTLEMENTS,
            [
                ["CN1", "C1", "I3", "2026-03-10", "USD", "300.00"],
            ],
        ),
    )
    out = run(ledger, date(2026, 4, 12))  # I1 paid; I2 (due 03-12) is the reference now: +30
    action = next(a for a in out["actions"] if a["customer"] == "C1")
    assert (action["reference_invoice"], action["step_index"]) == ("I2", 3)
    assert action["totals"] == {"EUR": "300.00"}  # I3 fully credited, I2 partly paid


def test_tolerance_keeps_tiny_residues_out_of_dunning(ledger, write_csv):
    ledger.json(
        "import",
        "payments",
        write_csv(
            "p",
            SETTLEMENTS,
            [
                ["P1", "C2", "I4", "2026-03-10", "GBP", "246.00"],  # 4.00 left, tolerance 5.00
            ],
        ),
    )
    out = run(ledger, date(2026, 4, 30))
    assert [a["customer"] for a in out["actions"]] == ["C1"]


def test_hold_dispute_and_promise_pause_dunning(ledger):
    ledger.json("hold", "C2", "--until", "2026-05-31")
    ledger.json("dispute", "open", "I1", "--on", "2026-03-01", "--reason", "wrong quantity")
    out = run(ledger, date(2026, 3, 20))
    assert [(a["customer"], a["reference_invoice"]) for a in out["actions"]] == [("C1", "I2")]
    assert ledger("dispute", "open", "I1", "--on", "2026-03-02").exit_code == 1  # already open
    ledger.json("dispute", "resolve", "I1", "--on", "2026-03-25")
    ledger.json(
        "promise",
        "add",
        "C1",
        "--invoices",
        "I1,I2",
        "--pay-by",
        "2026-04-20",
        "--on",
        "2026-03-26",
    )
    for day in days(date(2026, 3, 21), date(2026, 4, 20)):
        acted = [(a["customer"], a["reference_invoice"]) for a in run(ledger, day)["actions"]]
        assert all(ref == "I3" for _, ref in acted), (day, acted)  # only the USD invoice
    broken = run(ledger, date(2026, 4, 21))
    notice = [a for a in broken["actions"] if a["customer"] == "C1"]
    assert [a["step"] for a in notice] == ["Missed payment notice"]
    assert notice[0]["invoices"] == ["I1", "I2"]
    assert Promise.objects.get().status == "broken"
    assert run(ledger, date(2026, 4, 22))["actions"] == []  # once, and the contact delay holds
    assert Event.objects.filter(kind="promise.broken").count() == 1
    assert run(ledger, date(2026, 6, 1))["actions"][0]["customer"] in {"C1", "C2"}


def test_kept_promise(ledger, write_csv):
    ledger.json(
        "promise", "add", "C2", "--invoices", "I4", "--pay-by", "2026-04-10", "--on", "2026-04-01"
    )
    ledger.json(
        "import",
        "payments",
        write_csv(
            "p",
            SETTLEMENTS,
            [
                ["P1", "C2", "I4", "2026-04-09", "GBP", "250.00"],
            ],
        ),
    )
    out = run(ledger, date(2026, 4, 11))
    assert all(a["customer"] != "C2" for a in out["actions"])
    assert Promise.objects.get().status == "kept"


def test_message_for_an_invoice_paid_before_delivery_is_cancelled(ledger, write_csv):
    out = ledger.json("run", "--date", "2026-03-16", "--dry-run")
    assert out["actions"]
    from relance.services.dunning import outbox
    from relance.services.dunning.run import run as run_cycle

    run_cycle(date(2026, 3, 16), deliver=False)  # planned, not delivered yet
    ledger.json(
        "import",
        "payments",
        write_csv(
            "p",
            SETTLEMENTS,
            [
                ["P1", "C1", "", "2026-03-16", "EUR", "1500.00"],
                ["P2", "C1", "I3", "2026-03-16", "USD", "300.00"],
            ],
        ),
    )
    report = outbox.deliver_due(as_of=date(2026, 3, 16))
    by_customer = {
        m.customer.external_id: m.status for m in OutboxMessage.objects.select_related("customer")
    }
    assert by_customer == {"C1": "cancelled"}
    assert report.count("cancelled") == 1


def test_forecast_stored_as_the_calendar(ledger):
    from relance.models import ForecastEntry

    out = ledger.json("forecast", "--from", "2026-02-20", "--to", "2026-03-31")
    stored = ledger.json("forecast", "--from", "2026-02-20", "--to", "2026-03-31", "--store")
    assert stored == {"stored": len(out["items"])}
    rows = ForecastEntry.objects.select_related("customer").order_by("day", "customer__external_id")
    assert [(r.day.isoformat(), r.customer.external_id, r.step_index) for r in rows] == [
        (i["date"], i["customer"], i["step_index"]) for i in out["items"]
    ]


def test_forecast_and_statement_contracts(ledger, write_csv):
    out = ledger.json("forecast", "--from", "2026-02-20", "--to", "2026-03-31")
    items = [
        (i["date"], i["customer"], i["step_index"], i["reference_invoice"]) for i in out["items"]
    ]
    assert items == [
        ("2026-02-24", "C1", 1, "I1"),
        ("2026-03-16", "C1", 2, "I1"),
        ("2026-03-17", "C2", 1, "I4"),
        ("2026-03-31", "C1", 3, "I1"),
    ]
    assert set(out["items"][0]) == {
        "date",
        "customer",
        "step",
        "step_index",
        "channel",
        "reference_invoice",
        "reason",
        "reason_code",  # what the reason is about, stable (domain.reasons)
    }
    assert "F-1 due 2026-03-01 - 5 days" in out["items"][0]["reason"]
    ledger.json(
        "import",
        "payments",
        write_csv(
            "p",
            SETTLEMENTS,
            [
                ["P1", "C1", "I1", "2026-03-10", "EUR", "400.00"],
            ],
        ),
    )
    statement = ledger.json("statement", "C1", "--date", "2026-03-20")
    assert statement["customer"] == "C1"
    assert statement["date"] == "2026-03-20"
    assert statement["invoices"][0] == {
        "id": "I1",
        "number": "F-1",
        "currency": "EUR",
        "total": "1000.00",
        "amount_due": "600.00",
        "days_late": 19,
        # The default company is French (L441-10): ECB rate in force on 1 January 2026 (2.15 %)
        # + 10 points: 600.00 x 12.15 % x 19 / 365 = 3.7948; and the fixed €40 indemnity.
        "late_interest": "3.79",
        "fixed_indemnity": "40.00",
    }
    assert statement["totals"] == {"EUR": "1100.00", "USD": "300.00"}


def test_forecast_mentions_the_contact_rule(ledger):
    run(ledger, date(2026, 3, 10))  # C1: friendly reminder caught up (I1 due 03-01, -5)
    out = ledger.json("forecast", "--from", "2026-03-11", "--to", "2026-04-30")
    c1 = [i for i in out["items"] if i["customer"] == "C1"]
    assert c1[0]["date"] == "2026-03-25"  # +15 would be 03-16: 15 days after the 03-10 contact
    assert "15-day contact rule" in c1[0]["reason"]


def test_timelines_show_executions_skips_payments_and_disputes(ledger, write_csv):
    from relance.models import Customer, Invoice
    from relance.services.analytics.timeline import customer_timeline, invoice_timeline

    run(ledger, date(2026, 3, 20))
    ledger.json("dispute", "open", "I2", "--on", "2026-03-21")
    ledger.json(
        "import",
        "payments",
        write_csv(
            "p",
            SETTLEMENTS,
            [
                ["P1", "C1", "I1", "2026-03-22", "EUR", "100.00"],
            ],
        ),
    )
    kinds = [e["kind"] for e in customer_timeline(Customer.objects.get(external_id="C1"))]
    for kind in (
        "invoice.issued",
        "step.executed",
        "step.skipped",
        "dispute.opened",
        "payment.received",
    ):
        assert kind in kinds
    i1 = [e["kind"] for e in invoice_timeline(Invoice.objects.get(external_id="I1"))]
    assert i1[0] == "invoice.issued"
    assert "payment.received" in i1
    assert "step.executed" in i1
    assert "dispute.opened" not in i1


def test_bad_dates_and_unknown_ids_are_clear_errors(ledger):
    assert ledger("run", "--date", "2026-02-30").exit_code == 2
    assert ledger("hold", "C404", "--until", "2026-05-01").exit_code == 1
    result = ledger(
        "promise", "add", "C1", "--invoices", "I4", "--pay-by", "2026-05-01", "--on", "2026-04-01"
    )
    assert result.exit_code == 1
    assert "no invoice I4" in result.stderr
    assert json.loads(ledger("run", "--date", "2026-01-01", "--json").stdout)["actions"] == []


def test_two_companies_with_the_same_external_ids_are_dunned_apart(ledger, write_csv):
    ledger.json("company", "add", "uk", "--name", "UK", "--country", "GB", "--currency", "GBP")
    ledger.json(
        "import",
        "customers",
        write_csv(
            "uk-c",
            CUSTOMERS[:6],
            [
                ["C1", "Boulangerie UK", "GBP", "GB", "claire@ar.test", "standard"],
            ],
        ),
        "--company",
        "uk",
    )
    ledger.json(
        "import",
        "contacts",
        write_csv(
            "uk-k",
            CONTACTS,
            [
                ["K1", "C1", "Ann", "ann@uk.test", "billing"],
            ],
        ),
        "--company",
        "uk",
    )
    ledger.json(
        "import",
        "invoices",
        write_csv(
            "uk-i",
            INVOICES,
            [
                ["I1", "C1", "UK-1", "2026-01-30", DUE.isoformat(), "GBP", "80.00"],
            ],
        ),
        "--company",
        "uk",
    )
    out = run(ledger, date(2026, 2, 24))
    c1 = [a for a in out["actions"] if a["customer"] == "C1"]
    assert len(c1) == 2
    assert len({a["key"] for a in c1}) == 2
    assert {a["recipients"][0] for a in c1} == {"marie@dupont.test", "ann@uk.test"}


def test_running_an_earlier_date_after_a_later_one_creates_nothing_twice(ledger):
    later = run(ledger, date(2026, 3, 20))
    assert later["actions"]
    earlier = run(ledger, date(2026, 2, 24))
    assert {a["key"] for a in earlier["actions"]}.isdisjoint(a["key"] for a in later["actions"])
    assert Execution.objects.values("key").distinct().count() == Execution.objects.count()
