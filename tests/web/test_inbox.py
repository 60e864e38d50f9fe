"""The Actions inbox: one's own items first, closed with an outcome; a call that got a promise
or a dispute records it at once, and a failure to record leaves the item open."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from relance.models import ActionItem, Dispute, Event, Execution, Promise
from relance.services.organisation import hours


def call(
    world, customer: str, key: str, *, to: str | None = None, priority: int = 10
) -> ActionItem:
    c = world.customers[customer]
    execution = Execution.objects.create(
        key=key,
        company=c.company,
        customer=c,
        plan_code="standard",
        step_name="Account owner call",
        step_index=3,
        reference_external_id="I1" if customer == "dupont" else "",
        date=hours.company_today(c.company),
        status=Execution.Status.EXECUTED,
        channel="call",
        mode="manual",
        customer_facing=True,
        invoices=["I1"] if customer == "dupont" else [],
        totals={"EUR": "1250.00"} if customer == "dupont" else {},
    )
    item = ActionItem.objects.create(
        company=c.company,
        customer=c,
        execution=execution,
        kind=ActionItem.Kind.CALL,
        title=f"Account owner call: {c.name}",
        body="Hello, this is Claire from Alpha SAS about invoice F-I1.",
        due_date=execution.date,
        priority=priority,
    )
    if to:
        item.assignees.add(world.users[to])
    return item


@pytest.fixture
def items(world):
    return {
        "dupont": call(world, "dupont", "x-dupont", to="controller", priority=10),
        "martin": call(world, "martin", "x-martin", priority=40),
        "smith": call(world, "smith", "x-smith", to="controller"),
    }


def inbox(world, user: str, **params: str) -> str:
    response = world.client(user).get(reverse("actions"), params)
    assert response.status_code == 200
    return response.content.decode()


def close(world, user: str, item: ActionItem, **fields: str):
    data = {f"item{item.pk}-{name}": value for name, value in fields.items()}
    if fields.pop("skip", None):
        data["skip"] = "1"
    return world.client(user).post(reverse("action-close", args=[item.pk]), data, follow=True)


def test_mine_first_then_everyones_within_reach_by_priority(world, items):
    mine = inbox(world, "controller")
    assert "Boulangerie Dupont" in mine
    assert "Garage Martin" not in mine  # not assigned to them
    assert "Smith" not in mine  # assigned, but another company's customer
    assert "€1,250.00" in mine  # what the step was about
    assert "Hello, this is Claire" in mine  # the call script
    everyone = inbox(world, "controller", scope="all")
    assert everyone.index("Garage Martin") < everyone.index("Boulangerie Dupont")  # 40 > 10
    assert "Nothing for you right now." in inbox(world, "reader")


def test_a_group_sees_its_items(world, items):
    group = Group.objects.create(name="recouvrement")
    world.users["reader"].groups.add(group)
    items["martin"].groups.add(group)
    assert "Garage Martin" in inbox(world, "reader")


def test_a_call_closed_as_reached_records_who_and_the_outcome(world, items):
    response = close(world, "controller", items["dupont"], outcome="reached", note="will check")
    assert "Done: Account owner call" in response.content.decode()
    items["dupont"].refresh_from_db()
    assert items["dupont"].status == ActionItem.Status.DONE
    assert items["dupont"].outcome == "reached"
    assert items["dupont"].completed_by == world.users["controller"]
    assert Event.objects.get(kind="action.done").source == "web"


def test_a_call_that_got_a_promise_records_it(world, items):
    pay_by = hours.company_today(world.alpha) + timedelta(days=10)
    close(world, "controller", items["dupont"], outcome="promised", pay_by=pay_by.isoformat())
    promise = Promise.objects.get()
    assert promise.pay_by == pay_by
    assert [i.external_id for i in promise.invoices.all()] == ["I1"]
    assert promise.created_by == world.users["controller"]
    items["dupont"].refresh_from_db()
    assert items["dupont"].outcome == "promised"


def test_a_call_that_got_a_promise_of_an_amount_records_the_amount(world, items):
    pay_by = hours.company_today(world.alpha) + timedelta(days=10)
    response = close(
        world,
        "controller",
        items["dupont"],
        outcome="promised",
        pay_by=pay_by.isoformat(),
        amount="600.50",
    )
    assert "Done: Account owner call" in response.content.decode()
    promise = Promise.objects.get()
    assert promise.amount == Decimal("600.50")
    assert promise.currency == "EUR"


def test_an_amount_is_kept_only_with_a_promise(world, items):
    close(world, "controller", items["dupont"], outcome="reached", amount="600.50")
    assert not Promise.objects.exists()
    items["dupont"].refresh_from_db()
    assert items["dupont"].status == ActionItem.Status.DONE


def test_a_negative_promised_amount_leaves_the_item_open(world, items):
    pay_by = hours.company_today(world.alpha) + timedelta(days=10)
    close(
        world,
        "controller",
        items["dupont"],
        outcome="promised",
        pay_by=pay_by.isoformat(),
        amount="-5",
    )
    items["dupont"].refresh_from_db()
    assert items["dupont"].status == ActionItem.Status.OPEN
    assert not Promise.objects.exists()


def test_a_promise_without_a_date_leaves_the_item_open(world, items):
    response = close(world, "controller", items["dupont"], outcome="promised", pay_by="")
    assert "say by when the customer will pay" in response.content.decode()
    items["dupont"].refresh_from_db()
    assert items["dupont"].status == ActionItem.Status.OPEN
    assert not Promise.objects.exists()


def test_a_call_that_was_disputed_opens_the_dispute(world, items):
    close(world, "controller", items["dupont"], outcome="disputed", note="never delivered")
    dispute = Dispute.objects.get()
    assert dispute.invoice.external_id == "I1"
    assert dispute.reason == "never delivered"


def test_skipping_needs_a_reason(world, items):
    response = close(world, "controller", items["dupont"], outcome="done", skip="1")
    assert "say why the item is skipped" in response.content.decode()
    close(world, "controller", items["dupont"], outcome="done", note="paid meanwhile", skip="1")
    items["dupont"].refresh_from_db()
    assert items["dupont"].status == ActionItem.Status.SKIPPED


@pytest.mark.parametrize(
    ("user", "item", "status"),
    [("reader", "dupont", 403), ("rep", "martin", 404), ("controller", "smith", 404)],
)
def test_who_may_not_close_changes_nothing(world, items, user, item, status):
    url = reverse("action-close", args=[items[item].pk])
    response = world.client(user).post(url, {f"item{items[item].pk}-outcome": "done"})
    assert response.status_code == status
    items[item].refresh_from_db()
    assert items[item].status == ActionItem.Status.OPEN


CALL_PLAN = """
code: calls
name: Calls
steps:
  - name: Call
    trigger: {days: 1}
    channel: call
    owners: [owner]
    subject: Call {{ customer.name }}
    body: Ask about {{ totals }}.
"""


def test_the_cycle_ranks_a_call_with_its_parts_shown(world):
    from relance.models import Plan
    from relance.services.dunning.plans import load_plans
    from relance.services.dunning.run import run as run_cycle

    load_plans(CALL_PLAN, company=world.alpha)
    dupont = world.customers["dupont"]
    dupont.plan, dupont.risk, dupont.owner = Plan.objects.get(), "high", world.users["controller"]
    dupont.save(update_fields=["plan", "risk", "owner"])  # not the balance the ledger keeps
    today = hours.company_today(world.alpha)
    broken = Promise.objects.create(
        company=world.alpha,
        customer=dupont,
        pay_by=today - timedelta(days=20),
        promised_on=today - timedelta(days=30),
        status=Promise.Status.BROKEN,
        broken_on=today - timedelta(days=19),
    )
    assert broken.pk
    run_cycle(today, source="test", deliver=False)
    item = ActionItem.objects.get()
    # 10 days late (I1), €1,250 (I1 alone: I2 is not due), high risk, a promise broken lately
    assert item.priority_parts == {"days_late": 10, "amount": 10, "risk": 30, "broken_promise": 40}
    assert item.priority == 90
    page = inbox(world, "controller")
    assert "Priority <strong>90</strong> = 10 for lateness + 10 for the amount" in page
    assert "10 days late" in page  # the days themselves, apart from the points
    assert "+ 30 for the risk (high) + 40 for a broken promise" in page


def _item(world, customer, kind, title, *, days_late=0, plan="", who=()):
    from relance.models import Execution

    execution = None
    if plan:
        execution = Execution.objects.create(
            key=f"k-{title}",
            company=customer.company,
            customer=customer,
            plan_code=plan,
            step_name=title,
            date=hours.company_today(world.alpha),
            status=Execution.Status.EXECUTED,
            reason="test",
            channel="call",
            mode="manual",
            customer_facing=False,
        )
    item = ActionItem.objects.create(
        company=customer.company,
        customer=customer,
        kind=kind,
        title=title,
        due_date=hours.company_today(world.alpha),
        execution=execution,
        priority_parts={"days_late": min(days_late, 365)},
        priority=min(days_late, 365),
    )
    item.assignees.set(who)
    return item


def test_the_inbox_filters_groups_and_says_whose_and_whom_to_call(world):
    """The issue: calls began on page five behind collection decisions; nothing said whose each
    item was, nor whom to call at which number; "365 days late" for an invoice 427 days late."""
    from relance.models import Contact, Customer

    dupont, martin = world.customers["dupont"], world.customers["martin"]
    Customer.objects.filter(pk=dupont.pk).update(
        oldest_unpaid_due=hours.company_today(world.alpha) - timedelta(days=427)
    )
    Contact.objects.create(
        company=world.alpha,
        customer=dupont,
        external_id="K9",
        name="Paul Compta",
        phone="+33142685300",
        roles=["billing"],
    )
    claire = world.users["controller"]
    claire.first_name, claire.last_name = "Claire", "Martin"
    claire.save()
    _item(
        world, dupont, ActionItem.Kind.CALL, "Call Dupont", days_late=427, plan="std", who=[claire]
    )
    for n in range(3):
        _item(world, martin, ActionItem.Kind.TASK, f"Decide {n}", plan="vip")
    page = inbox(world, "controller", scope="all")
    assert "427 days late" in page
    assert "365 for lateness" in page
    assert 'href="tel:+33142685300"' in page
    assert "Paul Compta" in page
    assert "for Claire Martin" in page
    assert "nobody yet" in page
    kinds = re.search(r'<p class="kinds" id="kinds">(.*?)</p>', page, re.S)[1]
    assert "Call · 1" in kinds
    assert "Task · 3" in kinds
    calls = inbox(world, "controller", scope="all", kind="call")
    assert "Call Dupont" in calls
    assert "Decide 0" not in calls
    assert "Decide 0" in inbox(world, "controller", scope="all", plan="vip")
    assert "Call Dupont" not in inbox(world, "controller", scope="all", plan="vip")
    assert "Call Dupont" in inbox(world, "controller", scope="all", owner=claire.pk)
    assert "Call Dupont" not in inbox(world, "controller", scope="all", owner="none")
    assert "Call Dupont" in inbox(world, "controller", scope="all", late="91-")
    assert "Call Dupont" not in inbox(world, "controller", scope="all", late="1-30")
    assert "Call Dupont" in inbox(world, "controller", scope="all", owner="nonsense")  # ignored
