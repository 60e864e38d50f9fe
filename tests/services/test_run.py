"""services.dunning.run: the Run it opens and closes, delivery and the statuses it reports, and
the executor it hands the batches to."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from relance.models import ActionItem, Event, Execution, OutboxMessage, Run
from relance.services.dunning.run import InProcess, run

PLANS = Path(__file__).resolve().parents[2] / "relance" / "plans"
DAY = date(2026, 2, 5)


class Watched(InProcess):
    """In this process, noting what it was asked to do."""

    def __init__(self) -> None:
        self.delivered: list[date] = []

    def deliver(self, day: date) -> dict[str, str]:
        self.delivered.append(day)
        return super().deliver(day)


class HandedOff(Watched):
    """Delivers elsewhere, as Celery does: the outcome is not known when the report is made."""

    def deliver(self, day: date) -> None:  # type: ignore[override]
        self.delivered.append(day)


@pytest.fixture
def ledger(company, relance, write_csv):
    relance.json("plan", "load", PLANS / "standard.yaml")
    relance.json(
        "import",
        "customers",
        write_csv("c", ["external_id", "name", "plan"], [["C1", "Acme", "standard"]]),
    )
    relance.json(
        "import",
        "contacts",
        write_csv(
            "k", ["external_id", "customer_id", "email", "roles"], [["K1", "C1", "a@x.test", ""]]
        ),
    )
    invoice = ["I1", "C1", "F-1", "2026-01-01", "2026-02-01", "EUR", "100.00"]
    header = ["external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"]
    relance.json("import", "invoices", write_csv("i", header, [invoice]))


def rows() -> list[int]:
    return [m.objects.count() for m in (Run, Execution, OutboxMessage, ActionItem, Event)]


def test_a_dry_run_writes_nothing_and_sends_nothing(ledger):
    before, executor = rows(), Watched()
    done = run(DAY, dry_run=True, executor=executor)
    assert done.run is None
    assert [a["status"] for a in done.report.actions] == ["queued"]
    assert rows() == before
    assert executor.delivered == []


def test_a_run_is_recorded_delivered_and_says_what_left(ledger):
    executor = Watched()
    done = run(DAY, source="test", executor=executor)
    assert done.run == Run.objects.get()
    assert (done.run.source, done.run.date, done.run.finished_at is not None) == ("test", DAY, True)
    assert done.run.counts == {"actions": 1, "skipped": 0}
    assert Execution.objects.get().run_id == done.run.pk
    assert executor.delivered == [DAY]
    assert [a["status"] for a in done.report.actions] == ["sent"]
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT


def test_messages_stay_queued_when_delivery_is_left_or_handed_off(ledger):
    left = run(DAY, deliver=False)
    assert [a["status"] for a in left.report.actions] == ["queued"]
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.PLANNED
    OutboxMessage.objects.all().delete()
    Execution.objects.all().delete()
    elsewhere = HandedOff()
    handed = run(DAY, executor=elsewhere)
    assert elsewhere.delivered == [DAY]
    assert [a["status"] for a in handed.report.actions] == ["queued"]


def test_the_configured_executor_is_the_settings_one(ledger, settings):
    settings.RELANCE_CYCLE_EXECUTOR = f"{__name__}.HandedOff"
    done = run(DAY)
    assert [a["status"] for a in done.report.actions] == ["queued"]
