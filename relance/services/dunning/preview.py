"""What a plan step would say to one real customer on a date, before anything is sent: the text
in the customer's language (or another), the invoices it lists, and for an SMS its length."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from relance.domain import engine
from relance.domain.errors import Refusal
from relance.domain.plans.model import SMS, VARIANT_B, Plan, Step, with_side
from relance.messaging.sms import segments
from relance.models import Customer
from relance.services.dunning import messages
from relance.services.ledger import late_fees, snapshots


class PreviewError(Refusal, ValueError):
    """The preview cannot be made as asked (unknown plan or step, nothing owed)."""


def preview(
    customer: Customer,
    plan_code: str,
    step_name: str,
    day: date,
    *,
    language: str | None = None,
    side: str = "",
) -> dict[str, Any]:
    """`side` "B" previews the B text of a step under an A/B test."""
    plans = snapshots.PlanCache()
    found = plans.of_company(customer.company_id, plan_code)
    if found is None:
        raise PreviewError(f"no plan '{plan_code}' for company {customer.company.code}")
    _, plan, _ = plans.get(found)
    step = next((s for s in plan.steps if s.name == step_name), None)
    if step is None:
        names = ", ".join(s.name for s in plan.steps)
        raise PreviewError(f"plan '{plan_code}' has no step '{step_name}' (steps: {names})")
    if side == VARIANT_B and step.variant_b is None:
        raise PreviewError(f"step '{step_name}' has no A/B test: no variant B to preview")
    return render_step(customer, plan, with_side(step, side), day, language=language)


def render_step(
    customer: Customer,
    plan: Plan,
    step: Step,
    day: date,
    *,
    language: str | None = None,
) -> dict[str, Any]:
    """The step's message for this customer as if it ran on `day` about their oldest unpaid
    invoice: also how the plan editor previews a step before it is saved."""
    [debtor] = snapshots.debtors([customer.pk])
    if language:
        debtor = dataclasses.replace(debtor, language=language)
    [snap] = snapshots.load([debtor], day, history_days=0)
    items = engine.open_items(plan, snap.account, day)
    if not items:
        raise PreviewError(f"customer {customer.external_id} owes nothing on {day.isoformat()}")
    reference = items[0]
    listed = engine.selection(step, reference, items, day)
    values = messages.context(
        customer.company,
        debtor,
        reference,
        listed,
        day,
        rates=late_fees.rate_table(),
        contact=snap.contacts[0] if snap.contacts else None,
    )
    subject, body = messages.render_texts(messages.step_text(step, debtor.language), values)
    result: dict[str, Any] = {
        "customer": customer.external_id,
        "plan": plan.code,
        "step": step.name,
        "channel": step.channel,
        "language": debtor.language,
        "reference_invoice": reference.id,
        "reference_number": reference.number,
        "invoices": [i.id for i in listed],
        "subject": subject,
        "body": body,
    }
    if step.channel == SMS:
        length = segments(body)
        result["sms"] = {
            "encoding": length.encoding,
            "characters": length.characters,
            "segments": length.segments,
        }
    return result
