"""Broadcasts: a segment reached once per wave, whatever runs twice; new waves to all or to those
still matching; scheduling; the contact they count as; what they say and what they brought in."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from relance.models import Contact, Customer, Execution, OutboxMessage, Payment, Plan, Wave
from relance.services.dunning import campaigns, outbox, scheduling
from relance.services.dunning.campaigns import CampaignError
from relance.services.dunning.run import run as run_cycle
from relance.services.ledger import balances
from tests import clock

PLANS = Path(__file__).resolve().parents[2] / "relance" / "plans"
SEGMENT, ALL, MATCHING = Wave.Audience.SEGMENT, Wave.Audience.ALL, Wave.Audience.MATCHING
BODY = "Dear {{ customer.name }}, you owe {{ totals }}. Our bank details change on 1 January."


@pytest.fixture
def ledger(company, new_customer, new_invoice):
    """Three customers who owe (one with no address), one who owes nothing."""
    found = {}
    for ext, name, late in [("C1", "Acme", 20), ("C2", "Bistro", 40), ("C3", "Cafe", 5)]:
        found[ext] = new_customer(company, ext, name)
        new_invoice(found[ext], f"I-{ext}", "100.00", days_late=late)
    found["C4"] = new_customer(company, "C4", "Deli")
    for ext in ("C1", "C2", "C4"):
        Contact.objects.create(
            company=company,
            customer=found[ext],
            external_id=f"K-{ext}",
            name=f"Billing {ext}",
            email=f"billing@{ext.lower()}.test",
            roles=["billing"],
        )
    return found


def _campaign(company, **criteria):
    return campaigns.create(
        company, "New bank details", criteria, "email", subject="News", body=BODY
    )


def _deliver() -> None:
    """Deliver what is queued, whatever the hour: messages wait for business hours."""
    outbox.deliver_due(now=timezone.now() + timedelta(days=4))


def _reached(wave: Wave) -> set[str]:
    return set(Execution.objects.filter(wave=wave).values_list("customer__external_id", flat=True))


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"channel": "call", "body": "x"}, "cannot be broadcast"),
        ({"channel": "email"}, "choose one text"),
        ({"channel": "email", "body": "x", "template": "first_reminder"}, "choose one text"),
        ({"channel": "email", "template": "no_such"}, "no template 'no_such'"),
        ({"channel": "email", "body": "{% if %}"}, "cannot be used: line 1"),
        ({"channel": "email", "body": "{{ custmer.name }}"}, "unknown merge field 'custmer'"),
    ],
)
def test_a_campaign_without_one_usable_text_is_refused(company, options, problem):
    channel = options.pop("channel")
    with pytest.raises(CampaignError, match=problem):
        campaigns.create(company, "Bad", {}, channel, **options)


def test_the_first_wave_reaches_the_segment_once_and_counts_who_has_no_address(ledger, company):
    campaign = _campaign(company, owes="yes")
    wave = campaigns.add_wave(campaign, 1, SEGMENT)
    assert wave.sent_at is not None
    assert _reached(wave) == {"C1", "C2"}  # C3 owes but has no address; C4 owes nothing
    assert (wave.reached, wave.unreachable) == (2, 1)
    message = OutboxMessage.objects.get(customer=ledger["C1"])
    assert message.key == f"campaign:{campaign.pk}:wave:1:customer:{ledger['C1'].pk}"
    assert message.to == ["billing@c1.test"]
    execution = message.execution
    assert execution.customer_facing
    assert execution.invoices == ["I-C1"]
    assert execution.totals == {"EUR": "100.00"}

    assert campaigns.launch(wave) == 0  # launched twice: nothing more
    with pytest.raises(CampaignError, match="wave 1 of this campaign already exists"):
        campaigns.add_wave(campaign, 1, SEGMENT)  # the same form posted twice
    assert OutboxMessage.objects.count() == 2


def test_later_waves_go_to_everyone_reached_or_to_those_still_in_the_segment(ledger, company):
    campaign = _campaign(company, late="1-30")
    first = campaigns.add_wave(campaign, 1, SEGMENT)
    assert _reached(first) == {"C1"}
    ledger["C2"].invoices.update(due_date=clock.today() - timedelta(days=25))
    balances.refresh([ledger["C2"].pk])
    Payment.objects.create(
        company=company,
        customer=ledger["C1"],
        external_id="P1",
        date=clock.today(),
        currency="EUR",
        amount=Decimal("100.00"),
    )
    from relance.services.ledger import allocation

    allocation.reallocate([ledger["C1"].pk])
    with pytest.raises(CampaignError, match="later ones to those reached"):
        campaigns.add_wave(campaign, 2, SEGMENT)
    second = campaigns.add_wave(campaign, 2, MATCHING)
    assert _reached(second) == set()  # C1 paid; C2 is in the segment now but was never reached
    third = campaigns.add_wave(campaign, 3, ALL, now=timezone.now() + timedelta(days=2))
    assert _reached(third) == {"C1"}  # two days later: the same day, C1 would wait


def test_a_scheduled_wave_waits_for_its_time_and_can_be_cancelled_until_then(ledger, company):
    campaign = _campaign(company)
    now = timezone.now()
    wave = campaigns.add_wave(campaign, 1, SEGMENT, now + timedelta(hours=2), now=now)
    assert wave.sent_at is None
    assert not Execution.objects.filter(wave=wave).exists()
    assert campaigns.launch_due(now + timedelta(hours=1)) == 0
    assert campaigns.launch_due(now + timedelta(hours=2)) == 1
    wave.refresh_from_db()
    assert _reached(wave) == {"C1", "C2", "C4"}
    _deliver()
    with pytest.raises(CampaignError, match="already gone out"):
        campaigns.cancel_wave(wave)

    later = campaigns.add_wave(campaign, 2, ALL, now + timedelta(days=3), now=now)
    campaigns.cancel_wave(later)
    assert not Wave.objects.filter(pk=later.pk).exists()
    assert campaigns.next_number(campaign) == 2


def test_the_scheduler_launches_due_waves(ledger, company):
    campaign = _campaign(company, owes="no")
    now = timezone.now()
    wave = campaigns.add_wave(campaign, 1, SEGMENT, now + timedelta(minutes=5), now=now)
    scheduling.tick(now + timedelta(minutes=10))
    wave.refresh_from_db()
    assert wave.sent_at is not None
    assert _reached(wave) == {"C4"}


def test_messages_say_the_campaign_text_with_merge_fields_even_to_who_owes_nothing(ledger, company):
    campaigns.add_wave(_campaign(company), 1, SEGMENT)
    _deliver()
    sent = {m.to[0]: m for m in mail.outbox}
    assert sent["billing@c1.test"].subject == "News"
    assert sent["billing@c1.test"].body.startswith("Dear Acme, you owe €100.00.")
    assert sent["billing@c4.test"].body.startswith("Dear Deli, you owe .")
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_a_plan_step_or_a_template_can_be_broadcast_in_the_customers_language(
    ledger, company, relance
):
    relance.json("plan", "load", PLANS / "standard.yaml")
    plan = Plan.objects.get(code="standard", company=company)
    by_step = campaigns.create(
        company, "Reminder", {"owes": "yes"}, "email", plan=plan, step_name="Payment reminder"
    )
    Customer.objects.filter(pk=ledger["C2"].pk).update(language="fr")
    campaigns.add_wave(by_step, 1, SEGMENT)
    _deliver()
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert "F-I-C1" in subjects["billing@c1.test"]
    assert "F-I-C2" in subjects["billing@c2.test"]
    assert "facture" in subjects["billing@c2.test"]
    with pytest.raises(CampaignError, match="has no step 'Gone'"):
        campaigns.create(company, "Bad", {}, "email", plan=plan, step_name="Gone")


@pytest.mark.parametrize("counts", [True, False])
def test_a_campaign_delays_the_plans_only_when_it_counts_as_a_contact(
    ledger, company, relance, counts
):
    relance.json("plan", "load", PLANS / "standard.yaml")
    Customer.objects.filter(pk=ledger["C1"].pk).update(
        plan=Plan.objects.get(code="standard", company=company)
    )
    campaign = campaigns.create(
        company, "Notice", {}, "email", subject="x", body="y", counts_as_contact=counts
    )
    campaigns.add_wave(campaign, 1, SEGMENT)
    report = run_cycle(clock.today(), company_id=company.pk, deliver=False).report
    sent = [a["step"] for a in report.actions if a["customer"] == "C1"]
    assert sent == ([] if counts else ["Payment reminder"])


def test_results_show_messages_owed_and_paid_since(ledger, company):
    campaign = _campaign(company, owes="yes")
    campaigns.add_wave(campaign, 1, SEGMENT)
    outbox.cancel(OutboxMessage.objects.get(customer=ledger["C2"]))
    _deliver()
    Payment.objects.create(
        company=company,
        customer=ledger["C2"],
        external_id="P2",
        date=clock.today(),
        currency="EUR",
        amount=Decimal("60.00"),
    )
    [result] = campaigns.results(campaign)
    assert result.messages == {"sent": 1, "cancelled": 1}
    assert result.owed == {"EUR": Decimal("200.00")}
    assert result.paid_since == {"EUR": Decimal("60.00")}
    assert result.paying_customers == 1


def test_a_second_wave_the_same_day_waits_for_the_contact_delay_and_says_who(ledger, company):
    """The issue's incident: a second wave to those still in the segment, launched minutes
    after the first, wrote again to the same customers. Now they wait, and the confirmation
    says who and until when before anything leaves."""
    campaign = _campaign(company, owes="yes")
    first = campaigns.add_wave(campaign, 1, SEGMENT)
    assert first.reached == 2
    today = clock.today()
    found = campaigns.forecast(campaign, MATCHING, today)
    assert (found.customers, found.messages, found.waiting) == (2, 0, 2)
    assert {w.snap.customer.external_id for w in found.waiting_sample} == {"C1", "C2"}
    assert {w.last_contact for w in found.waiting_sample} == {today}
    assert {w.waits_until for w in found.waiting_sample} == {today + timedelta(days=1)}
    second = campaigns.add_wave(campaign, 2, MATCHING)
    assert (second.reached, second.waiting) == (0, 2)
    assert OutboxMessage.objects.count() == 2  # the first wave's only
    later = campaigns.forecast(campaign, MATCHING, today + timedelta(days=1))
    assert (later.messages, later.waiting) == (2, 0)


def test_the_plan_s_contact_delay_counts_from_any_contact(ledger, company, relance):
    """C1 is dunned under the standard plan (15 days between contacts) and was reminded five
    days ago: a campaign that counts as a contact waits ten more days for C1, not for C2."""
    relance.json("plan", "load", PLANS / "standard.yaml")
    Customer.objects.filter(pk=ledger["C1"].pk).update(
        plan=Plan.objects.get(code="standard", company=company)
    )
    today = clock.today()
    Execution.objects.create(
        key="plan:standard:C1:reminder",
        company=company,
        customer=ledger["C1"],
        plan_code="standard",
        step_name="Payment reminder",
        date=today - timedelta(days=5),
        status=Execution.Status.EXECUTED,
        reason="test",
        channel="email",
        mode="auto",
        customer_facing=True,
    )
    counting = _campaign(company, owes="yes")
    found = campaigns.forecast(counting, SEGMENT, today)
    assert [w.snap.customer.external_id for w in found.waiting_sample] == ["C1"]
    assert found.waiting_sample[0].waits_until == today + timedelta(days=10)
    assert found.messages == 1  # C2; C3 has no address
    assert found.unreachable == 1
    news = campaigns.create(
        company, "News", {"owes": "yes"}, "email", subject="x", body="y", counts_as_contact=False
    )
    assert campaigns.forecast(news, SEGMENT, today).messages == 2  # not a contact: no delay


def test_a_queued_wave_is_cancelled_whole_and_its_contact_no_longer_counts(ledger, company):
    campaign = _campaign(company, owes="yes")
    wave = campaigns.add_wave(campaign, 1, SEGMENT)
    c1 = OutboxMessage.objects.get(customer=ledger["C1"])
    OutboxMessage.objects.filter(pk=c1.pk).update(status=OutboxMessage.Status.SENT)  # left
    assert campaigns.cancel_wave(wave, actor=None) == 1
    statuses = dict(OutboxMessage.objects.values_list("customer__external_id", "status"))
    assert statuses == {"C1": "sent", "C2": "cancelled"}
    facing = dict(Execution.objects.values_list("customer__external_id", "customer_facing"))
    assert facing == {"C1": True, "C2": False}
    wave.refresh_from_db()
    assert wave.cancelled == 1
    assert wave.cancelled_at is not None
    _deliver()
    assert OutboxMessage.objects.get(customer=ledger["C2"]).status == "cancelled"
    with pytest.raises(CampaignError, match="already gone out"):
        campaigns.cancel_wave(wave)
    # C2 was not contacted after all: a new wave the same day may write to C2, not to C1.
    found = campaigns.forecast(campaign, ALL, clock.today())
    assert (found.messages, found.waiting) == (1, 1)


def test_a_letter_campaign_shows_its_first_letters_as_printed_and_keeps_nothing(ledger, company):
    """The issue's letter asked "does not pay by bank transfer" customers for a transfer: the
    person now reads the printed letters of the first customers before anything is sent."""
    import io

    from pypdf import PdfReader

    for ext, street in (("C1", "1 rue Haute"), ("C2", "2 rue Basse")):
        Customer.objects.filter(pk=ledger[ext].pk).update(
            address_line1=street, postal_code="69002", city="Lyon"
        )
    campaign = campaigns.create(
        company,
        "Mandat",
        {"owes": "overdue"},
        "letter",
        subject="Prélèvement",
        body="Madame, Monsieur, {{ customer.name }} doit {{ totals }}.",
    )
    pdf = campaigns.printed_letters(campaign, clock.today(), count=2)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Acme doit" in text
    assert "Bistro doit" in text
    assert "1 rue Haute" in text
    assert not Wave.objects.exists()
    assert not Execution.objects.exists()
    assert not OutboxMessage.objects.exists()
    email = _campaign(company)
    with pytest.raises(CampaignError, match="only a campaign by letter"):
        campaigns.printed_letters(email, clock.today())
