"""Advice on a valid plan: what is allowed but probably not meant (a step reaching nobody, a
manual step nobody owns, triggers out of order, an automatic message repeated until paid)."""

from __future__ import annotations

from relance.domain.plans.model import AUTO, AUTOMATIC_CHANNELS, Plan, Step
from relance.domain.plans.problems import Problem, Report, join


def plan_warnings(plan: Plan, where: str | None = None) -> list[Problem]:
    """Things that are allowed but probably not meant. Paths are prefixed with `where`
    (default: the plan's code; pass "" for bare paths)."""
    r = Report(plan.code if where is None else where)
    steps = plan.steps

    if steps and plan.repeat_last_every_days is not None and plan.repeat_last_max is None:
        last = steps[-1]
        if last.mode == AUTO and last.channel in AUTOMATIC_CHANNELS:
            r.warn(
                "repeat_last_every_days",
                f"the last step {last.name!r} is an automatic {last.channel} repeated every "
                f"{plan.repeat_last_every_days} days with no repeat_last_max: "
                "it would repeat until paid",
            )
    if plan.repeat_last_max is not None and plan.repeat_last_every_days is None:
        r.warn("repeat_last_max", "has no effect without repeat_last_every_days")

    previous: dict[str, tuple[int, Step]] = {}
    for index, step in enumerate(steps, start=1):
        base = f"steps[{index}]"
        before = previous.get(step.trigger_from)
        if before is not None and step.trigger_days < before[1].trigger_days:
            other_index, other = before
            r.warn(
                join(base, "trigger.days"),
                f"trigger order inconsistent: {step.name!r} ({step.trigger_days:+d} days from "
                f"{step.trigger_from}) comes after {other.name!r} in steps[{other_index}] "
                f"({other.trigger_days:+d} days from {other.trigger_from})",
            )
        previous[step.trigger_from] = (index, step)

        if step.is_customer_facing and not step.recipients:
            r.warn(
                join(base, "recipients"),
                f"this {step.channel} step reaches the customer but has no recipients",
            )
        if step.is_manual and not step.owners:
            r.warn(
                join(base, "owners"),
                "manual step with no owners: it would land in nobody's Actions inbox",
            )
        for key, entries in (("recipients", step.recipients), ("cc", step.cc)):
            for position, entry in enumerate(entries, start=1):
                if "@" in entry:
                    r.warn(
                        f"{base}.{key}[{position}]",
                        f"{entry!r} is a fixed address: the message is sent to that address for "
                        "every customer on the plan",
                    )
    return r.warnings
