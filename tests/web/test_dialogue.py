"""Holds, disputes and promises recorded from a customer's page: who may, what it changes, and
what a wrong entry says."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from relance.models import Dispute, Event, Invoice, Promise
from relance.services.organisation import hours

STANDARD = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"


def today(world):
    """The company's date, which the pages count from (not the server's)."""
    return hours.company_today(world.alpha)


def post(world, user: str, action: str, customer: str, data: dict[str, object]):
    url = reverse(f"customer-{action}", args=[world.customers[customer].pk])
    return world.client(user).post(url, data, follow=True)


def invoice(ext: str) -> Invoice:
    return Invoice.objects.get(external_id=ext)


def test_a_controller_pauses_dunning_and_the_timeline_says_who(world):
    until = today(world) + timedelta(days=10)
    response = post(world, "controller", "hold", "dupont", {"hold-until": until.isoformat()})
    assert response.redirect_chain[-1][0] == reverse(
        "customer", args=[world.customers["dupont"].pk]
    )
    world.customers["dupont"].refresh_from_db()
    assert world.customers["dupont"].hold_until == until
    event = Event.objects.get(kind="customer.held")
    assert event.actor == world.users["controller"]
    assert event.source == "web"
    page = response.content.decode()
    assert "Dunning paused until" in page
    assert "controller@ar.test put the customer on hold until" in page  # the timeline


def test_a_hold_in_the_past_is_refused_with_a_message(world):
    yesterday = (today(world) - timedelta(days=1)).isoformat()
    response = post(world, "admin", "hold", "dupont", {"hold-until": yesterday})
    assert "The date is in the past." in response.content.decode()
    world.customers["dupont"].refresh_from_db()
    assert world.customers["dupont"].hold_until is None


@pytest.mark.parametrize(
    ("user", "customer", "status"),
    [
        ("reader", "dupont", 403),  # sees the customer, may not change it
        ("rep", "dupont", 403),
        ("beta_admin", "dupont", 404),  # another company's customer
        ("rep", "martin", 404),  # another rep's
    ],
)
@pytest.mark.parametrize("action", ["hold", "dispute", "promise", "plan"])
def test_who_may_not_record_gets_no_change(world, user, customer, status, action):
    data = {
        "hold-until": (today(world) + timedelta(days=5)).isoformat(),
        "dispute-invoice": invoice("I1").pk,
        "dispute-reason": "wrong price",
        "dispute-category": "wrong_amount",
        "promise-invoices": [invoice("I1").pk],
        "promise-pay_by": (today(world) + timedelta(days=5)).isoformat(),
        "plan-plan": "",
    }
    url = reverse(f"customer-{action}", args=[world.customers[customer].pk])
    assert world.client(user).post(url, data).status_code == status
    assert not Dispute.objects.exists()
    assert not Promise.objects.exists()
    assert not Event.objects.filter(kind__in=["customer.held", "plan.assigned"]).exists()


def test_only_those_who_may_record_see_the_forms(world):
    url = reverse("customer", args=[world.customers["dupont"].pk])
    assert "Pause dunning" in world.client("controller").get(url).content.decode()
    assert "Pause dunning" not in world.client("reader").get(url).content.decode()
    assert world.client("admin").get(reverse("customer-hold", args=[1])).status_code == 405


def test_a_dispute_takes_the_invoice_out_of_dunning_once(world):
    data = {
        "dispute-invoice": invoice("I1").pk,
        "dispute-reason": "goods damaged",
        "dispute-category": "quality",
    }
    first = post(world, "controller", "dispute", "dupont", data)
    assert "Dispute opened on F-I1." in first.content.decode()
    dispute = Dispute.objects.get()
    assert dispute.invoice == invoice("I1")
    assert dispute.reason == "goods damaged"
    assert dispute.category == "quality"
    assert Event.objects.get(kind="dispute.opened").data["category"] == "quality"
    again = post(world, "controller", "dispute", "dupont", data)
    assert "already has an open dispute" in again.content.decode()
    assert Dispute.objects.count() == 1


def test_a_dispute_on_another_customers_invoice_is_not_a_choice(world, new_invoice):
    theirs = new_invoice(world.customers["martin"], "M1", "99.00", days_late=3)
    data = {"dispute-invoice": theirs.pk, "dispute-reason": "forged", "dispute-category": "other"}
    response = post(world, "admin", "dispute", "dupont", data)
    assert "Select a valid choice" in response.content.decode()
    assert not Dispute.objects.exists()


def test_a_promise_covers_the_invoices_chosen(world):
    pay_by = today(world) + timedelta(days=14)
    data = {"promise-invoices": [invoice("I1").pk], "promise-pay_by": pay_by.isoformat()}
    response = post(world, "controller", "promise", "dupont", data)
    assert "Promise to pay by" in response.content.decode()
    promise = Promise.objects.get()
    assert promise.pay_by == pay_by
    assert [i.external_id for i in promise.invoices.all()] == ["I1"]
    assert promise.created_by == world.users["controller"]


def test_a_promise_names_its_amount_and_never_a_disputed_invoice(world):
    from decimal import Decimal

    pay_by = (today(world) + timedelta(days=14)).isoformat()
    data = {
        "promise-invoices": [invoice("I1").pk],
        "promise-pay_by": pay_by,
        "promise-amount": "600.50",
    }
    post(world, "controller", "promise", "dupont", data)
    assert Promise.objects.get().amount == Decimal("600.50")
    assert Promise.objects.get().currency == "EUR"
    Promise.objects.all().delete()
    dispute = {
        "dispute-invoice": invoice("I2").pk,
        "dispute-reason": "not delivered",
        "dispute-category": "not_received",
    }
    post(world, "controller", "dispute", "dupont", dispute)
    url = reverse("customer", args=[world.customers["dupont"].pk])
    page = world.client("controller").get(url).content.decode()
    promise_form = re.search(r'action="[^"]*/promise/"(.*?)</form>', page, re.S)[1]
    assert f'value="{invoice("I1").pk}"' in promise_form
    assert f'value="{invoice("I2").pk}"' not in promise_form  # disputed: not offered
    data["promise-invoices"] = [invoice("I2").pk]
    refused = post(world, "controller", "promise", "dupont", data)
    assert "Select a valid choice" in refused.content.decode()
    assert not Promise.objects.exists()


def test_the_service_refuses_a_promise_on_a_disputed_invoice(world):
    from relance.services.dialogue import pauses

    pauses.open_dispute(invoice("I1"), today(world), reason="x")
    with pytest.raises(pauses.Refused, match="is disputed"):
        pauses.add_promise(
            world.customers["dupont"],
            [invoice("I1")],
            today(world) + timedelta(days=3),
            today(world),
        )


def test_send_a_step_now_proposes_the_step_whose_day_has_come(world):
    from relance.models import Plan
    from relance.services.dunning.plans import load_plans

    load_plans(STANDARD.read_text(encoding="utf-8"), company=world.alpha)
    dupont = world.customers["dupont"]
    dupont.plan = Plan.objects.get(code="standard", company=world.alpha)
    dupont.save(update_fields=["plan"])
    invoice("I1").__class__.objects.filter(pk=invoice("I1").pk).update(
        due_date=today(world) - timedelta(days=505), issue_date=today(world) - timedelta(days=535)
    )
    page = world.client("admin").get(reverse("customer", args=[dupont.pk])).content.decode()
    chooser = re.search(r'<select name="send-step"[^>]*>(.*?)</select>', page, re.S)[1]
    [proposed] = re.findall(r'<option value="([^"]*)" selected>', chooser)
    assert proposed == "Formal notice"  # 505 days late: the last step, not the pre-due one


def test_a_promise_for_yesterday_is_refused(world):
    data = {
        "promise-invoices": [invoice("I1").pk],
        "promise-pay_by": (today(world) - timedelta(days=1)).isoformat(),
    }
    response = post(world, "controller", "promise", "dupont", data)
    assert "is before the day of the promise" in response.content.decode()
    assert not Promise.objects.exists()


def test_the_customer_page_forecasts_the_next_steps(world):
    from relance.models import Plan
    from relance.services.dunning.plans import load_plans

    load_plans(STANDARD.read_text(encoding="utf-8"), company=world.alpha)
    dupont = world.customers["dupont"]
    dupont.plan = Plan.objects.get(code="standard", company=world.alpha)
    dupont.save(update_fields=["plan"])
    page = world.client("admin").get(reverse("customer", args=[dupont.pk])).content.decode()
    upcoming = page[page.index("Next steps") : page.index("Open invoices")]
    assert "Nothing planned." not in upcoming
    assert "I1" in upcoming  # the reference invoice, and why the step falls on that day
    assert "due" in upcoming


def test_a_controller_gives_a_plan_then_hands_it_back_to_the_rules(world):
    from relance.models import Plan
    from relance.services.dunning.plans import load_plans

    load_plans(STANDARD.read_text(encoding="utf-8"), company=world.alpha)
    dupont = world.customers["dupont"]
    given = post(world, "controller", "plan", "dupont", {"plan-plan": "standard"})
    dupont.refresh_from_db()
    assert dupont.plan == Plan.objects.get(code="standard", company=world.alpha)
    assert "The plan is now" in given.content.decode()
    event = Event.objects.get(kind="plan.assigned")
    assert event.actor == world.users["controller"]
    assert event.data == {"plan": "standard", "previous": None}
    back = post(world, "controller", "plan", "dupont", {"plan-plan": ""})
    dupont.refresh_from_db()
    assert dupont.plan is None
    assert "The assignment rules choose the plan again." in back.content.decode()
    wrong = post(world, "controller", "plan", "dupont", {"plan-plan": "nonexistent"})
    assert "Select a valid choice" in wrong.content.decode()


def _on_standard(world):
    from relance.models import Plan
    from relance.services.dunning.plans import load_plans

    load_plans(STANDARD.read_text(encoding="utf-8"), company=world.alpha)
    dupont = world.customers["dupont"]
    dupont.plan = Plan.objects.get(code="standard", company=world.alpha)
    dupont.save(update_fields=["plan"])
    return dupont


def test_a_step_sent_now_is_queued_once_and_counts_as_done(world):
    from relance.models import Execution, OutboxMessage

    dupont = _on_standard(world)
    page = world.client("controller").get(reverse("customer", args=[dupont.pk])).content.decode()
    assert "given to this customer" in page
    assert "5. Formal notice" in page  # the plan's steps are offered
    sent = post(world, "controller", "send-step", "dupont", {"send-step": "Firm reminder"})
    assert "Firm reminder is queued for invoice F-I1." in sent.content.decode()
    message = OutboxMessage.objects.get()
    assert message.to == ["jeanne@dupont.test"]
    execution = Execution.objects.get()
    assert execution.step_name == "Firm reminder"
    assert execution.reason.startswith("sent now by controller")
    assert Event.objects.get(kind="step.sent_now").actor == world.users["controller"]
    again = post(world, "controller", "send-step", "dupont", {"send-step": "Firm reminder"})
    assert "was already done for invoice F-I1" in again.content.decode()
    assert OutboxMessage.objects.count() == 1


def test_a_call_sent_now_lands_in_the_inbox(world):
    from relance.models import ActionItem

    _on_standard(world)
    done = post(world, "controller", "send-step", "dupont", {"send-step": "Account owner call"})
    assert "in the Actions inbox" in done.content.decode()
    assert ActionItem.objects.get().kind == ActionItem.Kind.CALL


def test_no_step_is_sent_now_during_a_hold_or_by_a_reader(world):
    from relance.models import OutboxMessage

    dupont = _on_standard(world)
    dupont.hold_until = today(world) + timedelta(days=3)
    dupont.save(update_fields=["hold_until"])
    held = post(world, "controller", "send-step", "dupont", {"send-step": "Firm reminder"})
    assert "dunning is paused until" in held.content.decode()
    url = reverse("customer-send-step", args=[dupont.pk])
    assert world.client("reader").post(url, {"send-step": "Firm reminder"}).status_code == 403
    assert world.client("beta_admin").post(url, {"send-step": "Firm reminder"}).status_code == 404
    assert not OutboxMessage.objects.exists()


def test_a_note_goes_on_the_timeline_with_its_author(world):
    added = post(
        world, "controller", "note", "dupont", {"note-text": "  Paid by cheque, to check.  "}
    )
    page = added.content.decode()
    assert "Note added." in page
    assert "controller@ar.test added a note: Paid by cheque, to check." in page
    event = Event.objects.get(kind="note.added")
    assert event.data == {"text": "Paid by cheque, to check."}
    assert event.actor == world.users["controller"]
    empty = post(world, "controller", "note", "dupont", {"note-text": ""})
    assert "This field is required." in empty.content.decode()
    url = reverse("customer-note", args=[world.customers["dupont"].pk])
    assert world.client("reader").post(url, {"note-text": "x"}).status_code == 403
    assert Event.objects.filter(kind="note.added").count() == 1
