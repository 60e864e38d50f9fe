"""Writing a plan back to its YAML form, which storage keeps and `reading.parse_plan` reads back:
`parse_plan(plan_to_dict(plan)) == plan` for every plan `parse_plan` produced."""

from __future__ import annotations

from typing import Any

from relance.domain.plans.model import Plan


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The YAML form of a plan, every key explicit (amounts as strings), for storage and export.

    `parse_plan(plan_to_dict(plan)) == plan` for every plan that `parse_plan` produced.
    """
    return {
        "code": plan.code,
        "name": plan.name,
        "min_contact_delay_days": plan.min_contact_delay_days,
        "tolerance": {currency: f"{amount:f}" for currency, amount in plan.tolerance.items()},
        "repeat_last_every_days": plan.repeat_last_every_days,
        "repeat_last_max": plan.repeat_last_max,
        "steps": [
            {
                "name": step.name,
                "trigger": {"days": step.trigger_days, "from": step.trigger_from},
                "channel": step.channel,
                "mode": step.mode,
                "recipients": list(step.recipients),
                "cc": list(step.cc),
                "owners": list(step.owners),
                "attach": step.attach,
                "template": step.template,
                "subject": step.subject,
                "body": step.body,
                "notify_sales_rep_days_before": step.notify_sales_rep_days_before,
                "variant_b": (
                    {
                        "share": step.variant_b.share,
                        "template": step.variant_b.template,
                        "subject": step.variant_b.subject,
                        "body": step.variant_b.body,
                    }
                    if step.variant_b
                    else None
                ),
            }
            for step in plan.steps
        ],
    }
