"""Outbox delivery (claims, retries, dead letters), the Actions inbox, and plan assignment rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from relance.domain.delivery import Delivery, DeliveryError, Sent
from relance.models import ActionItem, Customer, Event, OutboxMessage
from relance.services.dunning import outbox
from relance.services.dunning.actions import ActionRefused, close, inbox
from relance.services.dunning.run import run as run_cycle

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "relance" / "plans"
CUSTOMERS = ["external_id", "name", "risk", "owner_email", "plan"]
CONTACTS = ["external_id", "customer_id", "email", "roles"]
INVOICES = ["external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"]


class Flaky:
    """A delivery channel standing in for an unreliable provider: fails `failures` times."""

    sent: list[str] = []
    failures = 0

    def send(self, delivery: Delivery) -> Sent:
        if Flaky.failures:
            Flaky.failures -= 1
            raise ConnectionError("provider unavailable")
        Flaky.sent.append(delivery.key)
        return Sent()


class Refusing:
    def send(self, delivery: Delivery) -> Sent:
        raise DeliveryError("mailbox does not exist", permanent=True)


@pytest.fixture
def ledger(company, relance, write_csv):
    for name in ("standard", "white-glove", "high-risk"):
        relance.json("plan", "load", PLANS / f"{name}.yaml")
    relance.json(
        "import",
        "customers",
        write_csv(
            "c",
            CUSTOMERS,
            [
                ["C1", "Acme", "medium", "claire@ar.test", "standard"],
                ["C2", "Bistro", "high", "claire@ar.test", ""],
                ["C3", "Cafe", "low", "marc@ar.test", ""],
            ],
        ),
    )
    relance.json(
        "import",
        "contacts",
        write_csv(
            "k",
            CONTACTS,
            [
                ["K1", "C1", "ap@acme.test", "billing"],
                ["K2", "C2", "ap@bistro.test", "billing"],
                ["K3", "C3", "ap@cafe.test", "billing"],
            ],
        ),
    )
    relance.json(
        "import",
        "invoices",
        write_csv(
            "i",
            INVOICES,
            [
                ["I1", "C1", "F-1", "2026-01-01", "2026-02-01", "EUR", "100.00"],
                ["I2", "C2", "F-2", "2026-01-01", "2026-02-01", "EUR", "200.00"],
                ["I3", "C3", "F-3", "2026-01-01", "2026-02-01", "EUR", "300.00"],
            ],
        ),
    )
    return relance


def use_channel(settings, path: str) -> None:
    settings.RELANCE_CHANNELS = {c: path for c in ("email", "sms", "letter")}
    outbox.channel_for.cache_clear()


def test_failed_delivery_is_retried_with_backoff_then_sent(ledger, settings):
    use_channel(settings, f"{__name__}.Flaky")
    Flaky.sent, Flaky.failures = [], 2
    run_cycle(date(2026, 2, 5), deliver=False)
    [message] = OutboxMessage.objects.all()
    now = datetime(2026, 2, 5, 10, 0, tzinfo=UTC)  # a Thursday, inside business hours in Paris
    assert outbox.deliver_due(date(2026, 2, 5), now=now).statuses == {message.key: "failed"}
    message.refresh_from_db()
    assert (message.attempts, message.next_attempt_at) == (1, now + timedelta(minutes=1))
    assert outbox.deliver_due(date(2026, 2, 5), now=now).statuses == {}  # not before its time
    later = now + timedelta(minutes=1)
    assert outbox.deliver_due(date(2026, 2, 5), now=later).count("failed") == 1
    message.refresh_from_db()
    assert message.next_attempt_at == later + timedelta(minutes=2)
    final = outbox.deliver_due(date(2026, 2, 5), now=later + timedelta(minutes=2))
    assert final.statuses == {message.key: "sent"}
    assert Flaky.sent == [message.key]
    outbox.channel_for.cache_clear()


def test_permanent_failure_is_dead_at_once(ledger, settings):
    use_channel(settings, f"{__name__}.Refusing")
    run_cycle(date(2026, 2, 5), deliver=False)
    report = outbox.deliver_due(date(2026, 2, 5))
    assert list(report.statuses.values()) == ["dead"]
    assert OutboxMessage.objects.get().last_error == "mailbox does not exist"
    outbox.channel_for.cache_clear()


def test_a_claimed_message_cannot_be_claimed_again_until_its_lease_ends(ledger, settings):
    run_cycle(date(2026, 2, 5), deliver=False)
    now = timezone.now()
    first = outbox.claim("worker-a", now=now)
    assert len(first) == 1
    assert outbox.claim("worker-b", now=now) == []
    lease = timedelta(seconds=settings.RELANCE_CLAIM_LEASE_SECONDS)
    # worker-a died: after the lease, worker-b may take it; worker-a can no longer finish it
    again = outbox.claim("worker-b", now=now + lease + timedelta(seconds=1))
    assert [m.pk for m in again] == [first[0].pk]
    # worker-a was only slow: it must not send what worker-b now holds
    assert outbox.deliver(first[0], "worker-a", date(2026, 2, 5)) == outbox.LOST
    assert OutboxMessage.objects.get().claimed_by == "worker-b"
    assert OutboxMessage.objects.get().status == "claimed"
    assert outbox.deliver(again[0], "worker-b", date(2026, 2, 5)) == "sent"
    assert OutboxMessage.objects.get().attempts == 1


def test_assignment_rules_give_plans_to_customers_without_one(ledger):
    ledger.json("plan", "rules", PLANS / "rules.yaml")
    out = ledger.json("run", "--date", "2026-01-25")  # high-risk: -7 from 02-01
    assert [(a["customer"], a["plan"], a["step_index"]) for a in out["actions"]] == [
        ("C2", "high-risk", 1)
    ]
    out = ledger.json("run", "--date", "2026-03-20")
    plans = {a["customer"]: a["plan"] for a in out["actions"]}
    assert plans["C1"] == "standard"  # explicit assignment wins
    assert plans["C3"] == "standard"  # low risk but no payment history: not white-glove
    bad = ledger("plan", "rules", PLANS / "standard.yaml")
    assert bad.exit_code == 1


def test_actions_inbox_done_and_skip_record_who_and_why(ledger):
    ledger.json("run", "--date", "2026-03-18")  # standard: +45 call for C1
    items = ledger.json("actions", "list", "--user", "claire@ar.test")["items"]
    calls = [i for i in items if i["customer"] == "C1"]
    assert [i["kind"] for i in calls] == ["call"]
    assert ledger.json("actions", "list", "--user", "marc@ar.test")["items"] == []
    done = ledger.json(
        "actions",
        "done",
        str(calls[0]["id"]),
        "--by",
        "claire@ar.test",
        "--outcome",
        "promised",
        "--note",
        "pays Friday",
    )
    assert done == {"id": calls[0]["id"], "status": "done", "outcome": "promised"}
    item = ActionItem.objects.get(pk=calls[0]["id"])
    assert item.completed_by.email == "claire@ar.test"
    assert item.note == "pays Friday"
    assert Event.objects.filter(kind="action.done", customer=item.customer).exists()
    assert ledger("actions", "done", str(item.pk), "--by", "claire@ar.test").exit_code == 1
    with pytest.raises(ActionRefused):
        close(item.pk, by="nobody@ar.test", outcome="done")
    assert not inbox("claire@ar.test").filter(pk=item.pk).exists()


def test_step_without_any_contact_becomes_a_task_for_the_owner(ledger):
    Customer.objects.get(external_id="C1").contacts.all().delete()
    out = ledger.json("run", "--date", "2026-02-16")
    action = next(a for a in out["actions"] if a["customer"] == "C1")
    assert (action["status"], action["recipients"]) == ("open", [])
    item = ActionItem.objects.get(customer__external_id="C1")
    assert item.kind == "no_contact"
    assert [u.email for u in item.assignees.all()] == ["claire@ar.test"]


def test_scheduler_runs_each_company_once_a_local_day_and_catches_up_without_bursts(ledger):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from relance.models import Execution, Run
    from relance.services.dunning.scheduling import tick

    paris = ZoneInfo("Europe/Paris")
    first = tick(datetime(2026, 2, 5, 6, 0, tzinfo=paris))
    assert first is not None
    assert first.date == date(2026, 2, 5)
    assert tick(datetime(2026, 2, 5, 23, 0, tzinfo=paris)) is None  # done for that day
    # The scheduler was down for six weeks: one run, one message per customer, the rest skipped.
    caught_up = tick(datetime(2026, 3, 20, 6, 0, tzinfo=paris))
    assert caught_up is not None
    assert Run.objects.filter(finished_at__isnull=False).count() == 2
    per_customer = {}
    for a in caught_up.actions:
        per_customer[a["customer"]] = per_customer.get(a["customer"], 0) + 1
    assert per_customer
    assert set(per_customer.values()) == {1}
    assert Execution.objects.filter(date=date(2026, 3, 20)).exclude(superseded=[]).exists()
    assert OutboxMessage.objects.exclude(status="sent").count() == 0


def test_a_queued_message_is_composed_with_the_amount_due_when_it_leaves(ledger, write_csv):
    run_cycle(date(2026, 2, 20), deliver=False)
    [message] = OutboxMessage.objects.filter(customer__external_id="C1")
    assert (message.subject, message.body) == ("", "")  # composed at delivery, not before
    columns = ["external_id", "customer_id", "invoice_id", "date", "currency", "amount"]
    payment = write_csv("p", columns, [["P1", "C1", "I1", "2026-02-20", "EUR", "40.00"]])
    ledger.json("import", "payments", payment)
    outbox.deliver_due(date(2026, 2, 20))
    message.refresh_from_db()
    assert message.status == "sent"
    # The customer reads French (country FR): amounts and dates as written in French.
    assert "F-1" in message.body
    assert "60,00\u00a0€" in message.body
    assert "1er février 2026" in message.body
    assert "60,00\u00a0€ sur 100,00\u00a0€" in message.body  # what is left of the total


def test_a_message_whose_template_fails_is_dead_with_the_reason(ledger, write_csv, tmp_path):
    plan = tmp_path / "broken.yaml"
    plan.write_text(
        "code: broken\nname: Broken\nsteps:\n"
        "  - name: Reminder\n    trigger: {days: 0}\n    channel: email\n"
        "    recipients: [role:billing]\n    subject: Pay\n"
        "    body: '{{ customer.name / 2 }}'\n",
        encoding="utf-8",
    )
    ledger.json("plan", "load", plan)
    ledger.json("plan", "assign", "C1", "broken")
    run_cycle(date(2026, 2, 5), deliver=False)
    report = outbox.deliver_due(date(2026, 2, 5))
    [message] = OutboxMessage.objects.filter(customer__external_id="C1")
    assert report.statuses[message.key] == "dead"
    message.refresh_from_db()
    assert "could not render the message" in message.last_error
    assert "TypeError" in message.last_error


def test_messages_leave_in_business_hours_of_the_recipient(ledger, company):
    from zoneinfo import ZoneInfo

    from relance.services.organisation.hours import first_send

    paris = ZoneInfo("Europe/Paris")
    evening = datetime(2026, 2, 5, 19, 30, tzinfo=paris)  # a Thursday
    today = date(2026, 2, 5)
    assert first_send(company, "Europe/Paris", today, evening) == datetime(
        2026, 2, 6, 8, 0, tzinfo=paris
    )
    # In New York it is still 13:30: at once.
    assert first_send(company, "America/New_York", today, evening) == evening
    # A day already past (a catch-up, a replay): its opening has gone by, so at once.
    assert first_send(company, "Europe/Paris", date(2026, 1, 10), evening) < evening
    # A day to come (a simulation): at once as well.
    assert first_send(company, "Europe/Paris", date(2026, 2, 9), evening) == evening
    company.send_days, company.send_from = "67", datetime(2026, 1, 1, 10, 0).time()
    company.save()
    assert first_send(company, "Europe/Paris", today, evening) == datetime(
        2026, 2, 7, 10, 0, tzinfo=paris
    )


def test_a_daily_cap_holds_the_rest_until_the_next_opening(ledger, company):
    company.daily_cap = 2
    company.save()
    for customer in ("C2", "C3"):
        ledger.json("plan", "assign", customer, "standard")
    run_cycle(date(2026, 2, 5), deliver=False)
    assert OutboxMessage.objects.count() == 3
    now = datetime(2026, 2, 5, 10, 0, tzinfo=UTC)  # a Thursday morning in Paris
    statuses = outbox.deliver_due(date(2026, 2, 5), now=now).statuses
    assert sorted(statuses.values()) == ["planned", "sent", "sent"]
    [held] = OutboxMessage.objects.filter(status="planned")
    assert held.last_error == "daily cap of 2 messages reached"
    assert held.next_attempt_at == datetime(2026, 2, 6, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    assert outbox.deliver_due(date(2026, 2, 5), now=now).statuses == {}  # nothing more today
    tomorrow = outbox.deliver_due(date(2026, 2, 6), now=held.next_attempt_at).statuses
    assert tomorrow == {held.key: "sent"}
