"""An A/B test of a step's text: each customer gets one side, always the same; the B side's text
is what goes out to them (over real SMTP); effectiveness compares the two sides."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from relance.domain.plans.model import variant_for
from relance.domain.plans.reading import load_plans_yaml
from relance.models import Contact, Execution, Invoice, Payment
from relance.services.analytics import effectiveness
from relance.services.dunning import outbox, plans, preview
from relance.services.dunning.run import run as run_cycle
from relance.services.ledger import allocation
from tests import clock

PLAN = """
code: ab
name: A/B reminder
steps:
  - name: Reminder
    trigger: {days: 5}
    channel: email
    recipients: [role:billing]
    subject: "Invoice {{ reference.number }} is late"
    body: "Please pay {{ reference.number }}."
    variant_b:
      share: 50
      subject: "Can we help with {{ reference.number }}?"
      body: "Is anything stopping you from paying {{ reference.number }}?"
"""


def test_both_sides_go_out_and_are_measured_apart(company, new_customer, new_invoice, smtp):
    plans.load_plans(PLAN)
    [plan] = load_plans_yaml(PLAN)
    step = plan.steps[0]
    customers = []
    for n in range(12):
        customer = new_customer(company, f"C{n:02}", f"Customer {n}")
        new_invoice(customer, f"I{n:02}", "100.00", days_late=6)
        Contact.objects.create(
            company=company,
            customer=customer,
            external_id=f"K{n}",
            email=f"billing@c{n}.test",
            roles=["billing"],
        )
        plans.assign_plan(customer, "ab")
        customers.append(customer)
    today = clock.today()
    run_cycle(today, company_id=company.pk, deliver=False)
    outbox.deliver_due(as_of=today, now=timezone.now() + timedelta(days=4))  # in hours
    sides = dict(Execution.objects.values_list("customer__external_id", "variant"))
    assert sides == {c.external_id: variant_for(step, c.external_id, "ab") for c in customers}
    assert set(sides.values()) == {"A", "B"}
    subjects = {m["To"]: m["Subject"] for m in smtp.messages}
    for n, customer in enumerate(customers):
        subject = subjects[f"billing@c{n}.test"]
        if sides[customer.external_id] == "B":
            assert subject == f"Can we help with F-I{n:02}?"
        else:
            assert subject == f"Invoice F-I{n:02} is late"
    b_side = [c for c in customers if sides[c.external_id] == "B"]
    for customer in b_side:  # the B side pays the next day
        invoice = Invoice.objects.get(customer=customer)
        Payment.objects.create(
            company=company,
            customer=customer,
            external_id=f"P-{customer.external_id}",
            invoice=invoice,
            date=today + timedelta(days=1),
            currency="EUR",
            amount=invoice.total,
        )
    allocation.reallocate([c.pk for c in b_side])
    rows = {r.group: r for r in effectiveness.measure(Execution.objects.all(), "variant")}
    a, b = rows[("ab", "Reminder", "A")], rows[("ab", "Reminder", "B")]
    assert (a.executions + b.executions, b.executions) == (12, len(b_side))
    assert b.share(7) == 100
    assert a.share(7) == 0
    assert (
        effectiveness.measure(Execution.objects.exclude(variant="B"), "variant")[0].group[2] == "A"
    )


def test_either_side_can_be_previewed(company, new_customer, new_invoice, relance):
    plans.load_plans(PLAN)
    customer = new_customer(company, "C1", "Dupont")
    new_invoice(customer, "I1", "100.00", days_late=6)
    today = clock.today()
    assert preview.preview(customer, "ab", "Reminder", today)["subject"] == "Invoice F-I1 is late"
    b = preview.preview(customer, "ab", "Reminder", today, side="B")
    assert b["subject"] == "Can we help with F-I1?"
    shown = relance.json("preview", "C1", "--plan", "ab", "--step", "Reminder", "--variant", "B")
    assert shown["subject"] == b["subject"]
    plans.load_plans(PLAN.split("    variant_b:")[0])
    refused = relance.json(
        "preview", "C1", "--plan", "ab", "--step", "Reminder", "--variant", "B", code=1
    )
    assert "no A/B test" in str(refused)
