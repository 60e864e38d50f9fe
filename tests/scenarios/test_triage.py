"""Triage may leave customers out of a day's cycle only when the engine would decide nothing for
them: checked day by day against the engine run on every customer, on a generated ledger with
payments, credit notes, several plans with tolerances, a repeating plan, disputes, holds,
promises made and broken and payment plans asked for and rejected along the way."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from scenario_support import build_ledger

from relance.models import Customer, Invoice, PaymentPlan, Plan
from relance.services.dialogue import payment_plans
from relance.services.dialogue.pauses import add_promise, hold, open_dispute, resolve_dispute
from relance.services.dunning import cycle, triage
from relance.services.dunning.plans import load_plans
from relance.services.dunning.run import run as run_cycle
from relance.services.ledger.snapshots import amounts_due

ROOT = Path(__file__).resolve().parents[2]
START = date(2026, 11, 23)  # the generated ledger's `today`


def acting(day: date) -> set[int]:
    """Customers the engine acts on that day, evaluating every customer (nothing is written)."""
    everyone = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    report = cycle.process_batch(everyone, day, dry_run=True)
    return set(
        Customer.objects.filter(
            external_id__in={a["customer"] for a in report.actions}
        ).values_list("pk", flat=True)
    )


def stir(day: date, rng: random.Random) -> None:
    """What credit controllers do on a day: disputes opened and resolved, holds, promises."""
    customers = list(Customer.objects.order_by("?")[:6])
    invoices = list(Invoice.objects.filter(customer__in=customers).order_by("pk"))
    for invoice in rng.sample(invoices, min(3, len(invoices))):
        if invoice.disputes.filter(resolved_on__isnull=True).exists():
            resolve_dispute(invoice, day)
        else:
            open_dispute(invoice, day, reason="quality")
    hold(customers[0], day + timedelta(days=rng.randint(0, 5)))
    own = [
        i
        for i in invoices
        if i.customer_id == customers[1].pk
        and not i.disputes.filter(resolved_on__isnull=True).exists()  # never promised: refused
    ][:2]
    if own:
        add_promise(customers[1], own, day + timedelta(days=rng.randint(0, 4)), day)
    for planned in PaymentPlan.objects.filter(status__in=PaymentPlan.PAUSING):
        payment_plans.reject(planned, "no")  # its invoices return to dunning
    noon = datetime.combine(day, time(12), UTC)
    unpaid = amounts_due([customers[2].pk], day)
    for currency in ("EUR", "GBP", "USD"):
        theirs = [row[2] for row in unpaid if row[1] == customers[2].pk and row[6] == currency]
        try:
            payment_plans.request(customers[2], theirs[:2], 2, day + timedelta(days=5), now=noon)
            return
        except payment_plans.PlanRefused:  # nothing unpaid in that currency, or disputed
            continue


@pytest.mark.django_db
def test_triage_never_leaves_out_a_customer_the_engine_acts_on(tmp_path):
    build_ledger(120, tmp_path / "csv", seed=11)
    for name in ("white-glove", "high-risk"):
        load_plans((ROOT / "relance" / "plans" / f"{name}.yaml").read_text(encoding="utf-8"))
    repeating = Plan.objects.get(code="high-risk", company__code="default")
    repeating.definition = {**repeating.definition, "repeat_last_every_days": 7}
    repeating.repeat_last_every_days = 7
    repeating.save()
    pks = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    Customer.objects.filter(pk__in=pks[::3]).update(
        plan=Plan.objects.get(code="white-glove", company__code="default")
    )
    Customer.objects.filter(pk__in=pks[1::7]).update(plan=repeating)
    rng = random.Random(5)
    left_out = 0
    for offset in range(0, 75, 3):
        day = START + timedelta(days=offset)
        looked = set(triage.customers_to_look_at(day))
        missed = acting(day) - looked
        assert not missed, f"{day}: triage left out {sorted(missed)}"
        left_out += len(pks) - len(looked)
        run_cycle(day, deliver=False)
        stir(day, rng)
    assert left_out > len(pks)  # it does leave out the quiet ones
    assert PaymentPlan.objects.filter(status=PaymentPlan.Status.REJECTED).count() >= 3
