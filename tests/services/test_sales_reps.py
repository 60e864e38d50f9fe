"""Sales reps: signed links (tampered, expired, rep changed), what they do, the weekly digest and
the heads-up before a marked step, each queued once through the outbox and delivered to staff."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from relance.models import (
    Company,
    Customer,
    Dispute,
    Event,
    ForecastEntry,
    Membership,
    OutboxMessage,
    Promise,
)
from relance.services.dialogue import pauses
from relance.services.dunning import calendar, outbox, sales_reps
from relance.services.dunning.sales_reps import DISPUTE, HOLD, PROMISE, LinkRefused
from relance.services.ledger import lookup
from relance.services.organisation import team
from tests import clock

PLANS = Path(__file__).resolve().parents[2] / "relance" / "plans"


@pytest.fixture
def rep(company):
    paul = get_user_model().objects.create(
        username="paul", first_name="Paul", email="paul@sales.test"
    )
    Membership.objects.create(company=company, user=paul, role=Membership.Role.SALES_REP)
    return paul


@pytest.fixture
def book(company, rep, new_customer, new_invoice):
    """Paul sells to Acme (owes two invoices) and Bistro (owes nothing); Cafe is someone else's."""
    acme = new_customer(company, "C1", "Acme", rep)
    new_invoice(acme, "I1", "1250.00", days_late=13)
    new_invoice(acme, "I2", "300.00", days_late=-10)
    bistro = new_customer(company, "C2", "Bistro", rep)
    cafe = new_customer(company, "C3", "Cafe")
    new_invoice(cafe, "I3", "80.00", days_late=50)
    return {"acme": acme, "bistro": bistro, "cafe": cafe}


def _deliver() -> None:
    outbox.deliver_due(now=timezone.now() + timedelta(days=4))  # whatever the hour


def test_a_link_carries_its_rep_customer_and_action_and_nothing_else(book, rep):
    token = sales_reps.token(rep, book["acme"], HOLD)
    grant = sales_reps.read(token)
    assert (grant.user, grant.customer, grant.action) == (rep, book["acme"], HOLD)
    assert sales_reps.link(rep, book["acme"], HOLD).startswith("http://localhost:8000/rep/")
    with pytest.raises(LinkRefused, match="not valid"):
        sales_reps.read(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    with pytest.raises(LinkRefused, match="not valid"):
        sales_reps.read(token.replace(":", ".", 1))


def test_a_link_expires_and_stops_when_the_rep_changes(book, rep, monkeypatch):
    token = sales_reps.token(rep, book["acme"], PROMISE)
    monkeypatch.setattr(sales_reps, "LINK_DAYS", -1)
    with pytest.raises(LinkRefused, match="expired"):
        sales_reps.read(token)
    monkeypatch.undo()
    Customer.objects.filter(pk=book["acme"].pk).update(sales_rep=None)
    with pytest.raises(LinkRefused, match="not this customer's sales rep"):
        sales_reps.read(token)


def test_a_link_stops_when_the_customer_goes_to_another_rep(book, rep):
    token = sales_reps.token(rep, book["acme"], HOLD)
    other = get_user_model().objects.create(username="lea", email="lea@sales.test")
    Customer.objects.filter(pk=book["acme"].pk).update(sales_rep=other)
    with pytest.raises(LinkRefused, match="not this customer's sales rep"):
        sales_reps.read(token)


def test_a_link_stops_when_its_rep_leaves_the_company(book, rep, company):
    """Removed from the team (the customer still names them: nobody reassigned it yet)."""
    token = sales_reps.token(rep, book["acme"], DISPUTE)
    assert sales_reps.read(token).user == rep
    team.remove(Membership.objects.get(user=rep, company=company), actor=None)
    with pytest.raises(LinkRefused, match="no longer works"):
        sales_reps.read(token)
    assert sales_reps.queue_digests(company, clock.today()) == 0  # nor gets digests


def test_a_link_stops_when_its_rep_is_deactivated(book, rep):
    token = sales_reps.token(rep, book["acme"], PROMISE)
    type(rep).objects.filter(pk=rep.pk).update(is_active=False)
    with pytest.raises(LinkRefused, match="no longer works"):
        sales_reps.read(token)


def test_a_link_stops_when_its_rep_is_made_read_only(book, rep, company):
    """Outside review, F5: a rep demoted to read-only still held, disputed and promised."""
    token = sales_reps.token(rep, book["acme"], HOLD)
    Membership.objects.filter(user=rep, company=company).update(role=Membership.Role.READ_ONLY)
    with pytest.raises(LinkRefused, match="no longer works"):
        sales_reps.read(token)


def test_a_link_of_another_companys_member_is_refused(book, rep, company):
    """A member of another company only, though still named on the customer."""
    other = Company.objects.create(code="other", name="Other", country="FR", currency="EUR")
    Membership.objects.filter(user=rep).update(company=other)
    with pytest.raises(LinkRefused, match="no longer works"):
        sales_reps.read(sales_reps.token(rep, book["acme"], HOLD))


def test_what_the_links_do_is_recorded_as_the_rep(book, rep):
    today = clock.today()
    said = sales_reps.act(
        sales_reps.read(sales_reps.token(rep, book["acme"], HOLD)),
        today,
        invoices=[],
        pay_by=None,
        reason="",
    )
    assert "paused until" in said
    book["acme"].refresh_from_db()
    assert book["acme"].hold_until == today + timedelta(days=7)
    held = Event.objects.get(kind="customer.held")
    assert (held.source, held.actor) == ("sales_rep_link", rep)

    dispute = sales_reps.read(sales_reps.token(rep, book["acme"], DISPUTE))
    with pytest.raises(pauses.Refused, match="at least one invoice"):
        sales_reps.act(dispute, today, invoices=[], pay_by=None, reason="")
    sales_reps.act(
        dispute,
        today,
        invoices=lookup.invoices_of(book["acme"], ["I1"]),
        pay_by=None,
        reason="Wrong price",
    )
    assert Dispute.objects.get().reason == "Wrong price"

    promise = sales_reps.read(sales_reps.token(rep, book["acme"], PROMISE))
    with pytest.raises(pauses.Refused, match="date the customer promised"):
        sales_reps.act(
            promise,
            today,
            invoices=lookup.invoices_of(book["acme"], ["I2"]),
            pay_by=None,
            reason="",
        )
    sales_reps.act(
        promise,
        today,
        invoices=lookup.invoices_of(book["acme"], ["I2"]),
        pay_by=today + timedelta(days=5),
        reason="",
    )
    assert Promise.objects.get().created_by == rep


def test_the_weekly_digest_lists_what_the_reps_customers_owe_once_a_week(book, rep, company):
    company.country = "GB"  # staff messages in English (a French company's are in French)
    company.save(update_fields=["country"])
    today = clock.today()
    assert sales_reps.queue_digests(company, today) == 1
    assert sales_reps.queue_digests(company, today) == 0  # the tick ran twice
    [message] = OutboxMessage.objects.all()
    year, week, _ = today.isocalendar()
    assert message.key == f"digest:{company.pk}:{rep.pk}:{year}-W{week:02d}"
    assert message.customer is None
    assert message.to == ["paul@sales.test"]
    _deliver()
    [email] = mail.outbox
    assert email.subject == f"Default company: your customers' unpaid invoices, week {week}"
    assert "Your customers at Default company owe €1,550.00, of which €1,250.00 is overdue." in (
        email.body
    )
    assert "  - F-I1: €1,250.00, 13 days late" in email.body
    assert "Acme (C1)" in email.body
    assert "Bistro" not in email.body  # owes nothing
    assert "Cafe" not in email.body  # not Paul's
    assert email.body.count("http://localhost:8000/rep/") == 3
    OutboxMessage.objects.all().delete()
    assert sales_reps.queue_digests(company, today + timedelta(days=7)) == 1  # next week


def test_a_heads_up_goes_before_a_marked_step_once(book, rep, company, relance, tmp_path):
    marked = (
        (PLANS / "standard.yaml")
        .read_text()
        .replace(
            "    template: first_reminder",
            "    template: first_reminder\n    notify_sales_rep_days_before: 3",
        )
    )
    (tmp_path / "plan.yaml").write_text(marked)
    relance.json("plan", "load", tmp_path / "plan.yaml")
    relance.json("plan", "assign", "C1", "standard")
    today = clock.today()
    calendar.refresh(company, today)  # today the friendly reminder, 15 days later the next
    day = ForecastEntry.objects.get(step="Payment reminder").day
    assert sales_reps.queue_heads_ups(company, day - timedelta(days=4)) == 0  # too early
    assert sales_reps.queue_heads_ups(company, day - timedelta(days=3)) == 1
    assert sales_reps.queue_heads_ups(company, day - timedelta(days=2)) == 0  # once
    message = OutboxMessage.objects.get(key__startswith="heads-up:")
    assert message.key == f"heads-up:{book['acme'].pk}:standard:Payment reminder:I1"
    # A French company: its staff read French.
    assert message.subject.startswith("Acme : Payment reminder le ")
    assert "pour Acme (C1), au sujet de la facture I1." in message.body
    assert "Pourquoi : " in message.body
    assert message.body.count("http://localhost:8000/rep/") == 3
    notified = Event.objects.get(kind="sales_rep.notified")
    assert notified.customer == book["acme"]
    assert notified.data["rep"] == "paul@sales.test"


def test_no_heads_up_before_its_notice_or_without_a_rep(book, rep, company, relance, tmp_path):
    marked = (
        (PLANS / "standard.yaml")
        .read_text()
        .replace(
            "    template: first_reminder",
            "    template: first_reminder\n    notify_sales_rep_days_before: 1",
        )
    )
    (tmp_path / "plan.yaml").write_text(marked)
    relance.json("plan", "load", tmp_path / "plan.yaml")
    relance.json("plan", "assign", "C1", "standard")
    today = clock.today()
    calendar.refresh(company, today)
    day = ForecastEntry.objects.get(step="Payment reminder", customer=book["acme"]).day
    assert sales_reps.queue_heads_ups(company, day - timedelta(days=2)) == 0  # notice is 1 day
    ForecastEntry.objects.create(  # the same step for Cafe, who has no sales rep
        company=company,
        customer=book["cafe"],
        day=day,
        plan_code="standard",
        step="Payment reminder",
        step_index=2,
        channel="email",
        reference="I3",
        reason="15 days after the due date",
    )
    assert sales_reps.queue_heads_ups(company, day - timedelta(days=1)) == 1  # Acme's only
