"""Which plan a customer is dunned under on a day: their own, else the first matching rule."""

from __future__ import annotations

from datetime import date
from typing import Any

from relance.domain import assignment, reasons
from relance.domain.money import Money, Totals
from relance.models import Plan
from relance.services.dunning import plans as plan_service
from relance.services.ledger import snapshots


def plans_of(
    snaps: list[snapshots.CustomerSnapshot], plans: snapshots.PlanCache, day: date
) -> dict[int, int]:
    """Customer pk -> plan pk: the explicit plan, else the first matching assignment rule."""
    chosen = {s.customer.pk: s.customer.plan_id for s in snaps if s.customer.plan_id}
    unassigned = [s for s in snaps if not s.customer.plan_id]
    if not unassigned:
        return chosen
    rule_sets = plan_service.rules_by_company()
    paid = snapshots.paid_invoices([s.customer.pk for s in unassigned], day)
    for snap in unassigned:
        rules = rule_sets.get(snap.customer.company_id, rule_sets.get(None, []))
        code, _ = assignment.choose_plan(_facts(snap, paid, day), rules)
        found = plans.of_company(snap.customer.company_id, code) if code else None
        if found is not None:
            chosen[snap.customer.pk] = found
    return chosen


def _facts(
    snap: snapshots.CustomerSnapshot, paid: dict[int, Any], day: date
) -> assignment.CustomerFacts:
    c = snap.customer
    balance = Totals(Money(i.amount_due, i.currency) for i in snap.account.items)
    return assignment.CustomerFacts(
        external_id=c.external_id,
        segment=c.segment,
        risk=c.risk,
        country=c.country,
        currency=c.currency,
        credit_limit=c.credit_limit,
        balance=dict(balance),
        average_days_late=assignment.average_days_late(paid.get(c.pk, []), day),
    )


def explain_plan(customer_pk: int, day: date) -> tuple[str | None, str]:
    """(plan code, why) for one customer on `day`, as the cycle would choose it: what the
    customer page and the rules editor's "which plan?" say."""
    [debtor] = snapshots.debtors([customer_pk])
    if debtor.plan_id:
        return Plan.objects.get(pk=debtor.plan_id).code, reasons.reason(reasons.PLAN_EXPLICIT)
    rule_sets = plan_service.rules_by_company()
    rules = rule_sets.get(debtor.company_id, rule_sets.get(None, []))
    [snap] = snapshots.load([debtor], day, history_days=0)
    paid = snapshots.paid_invoices([customer_pk], day)
    return assignment.choose_plan(_facts(snap, paid, day), rules)
