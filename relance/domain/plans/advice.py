"""Advice on a valid plan: what is allowed but probably not meant (a step reaching nobody, a
manual step nobody owns, triggers out of order, an automatic message repeated until paid).

Each warning is an English template marked for the catalogue, with its parameters, read in the
reader's language (`Problem.message`). It names a step as people see it in the editor, by its
position and its name ('step 6 "Relance 2"'), not by its path in the YAML (`steps[6]`), which
stays the warning's `path` for the CLI, the API and for placing it next to its field.
"""

from __future__ import annotations

from relance.domain.plans.model import AUTO, AUTOMATIC_CHANNELS, ISSUE_DATE, Plan, Step
from relance.domain.plans.problems import Problem, Report, join
from relance.domain.texts import N_


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
                N_(
                    'the last step, step %(index)s "%(name)s", goes out by itself every '
                    "%(every)s days with no maximum number of repeats: it would repeat until paid"
                ),
                index=len(steps),
                name=last.name,
                every=plan.repeat_last_every_days,
            )
    if plan.repeat_last_max is not None and plan.repeat_last_every_days is None:
        r.warn(
            "repeat_last_max",
            N_(
                "a maximum number of repeats has no effect while the last step does not repeat "
                "(no number of days between repeats)"
            ),
        )

    previous: dict[str, tuple[int, Step]] = {}
    for index, step in enumerate(steps, start=1):
        base = f"steps[{index}]"
        named = {"index": index, "name": step.name}
        before = previous.get(step.trigger_from)
        if before is not None and step.trigger_days < before[1].trigger_days:
            other_index, other = before
            r.warn(
                join(base, "trigger.days"),
                N_(
                    'trigger order inconsistent: step %(index)s "%(name)s" (%(days)s days from '
                    'the issue date) comes after step %(other_index)s "%(other)s" '
                    "(%(other_days)s days) but would run before it: order the steps by their day"
                )
                if step.trigger_from == ISSUE_DATE
                else N_(
                    'trigger order inconsistent: step %(index)s "%(name)s" (%(days)s days from '
                    'the due date) comes after step %(other_index)s "%(other)s" '
                    "(%(other_days)s days) but would run before it: order the steps by their day"
                ),
                **named,
                days=f"{step.trigger_days:+d}",
                other_index=other_index,
                other=other.name,
                other_days=f"{other.trigger_days:+d}",
            )
        previous[step.trigger_from] = (index, step)

        if step.is_customer_facing and not step.recipients:
            r.warn(
                join(base, "recipients"),
                N_('step %(index)s "%(name)s" writes to the customer but has no recipients'),
                **named,
            )
        if step.is_manual and not step.owners:
            r.warn(
                join(base, "owners"),
                N_(
                    'step %(index)s "%(name)s" is done by a person but has no owners: it would '
                    "land in nobody's Actions inbox"
                ),
                **named,
            )
        for key, entries in (("recipients", step.recipients), ("cc", step.cc)):
            for position, entry in enumerate(entries, start=1):
                if "@" in entry:
                    r.warn(
                        f"{base}.{key}[{position}]",
                        N_(
                            '%(address)s in step %(index)s "%(name)s" is a fixed address: the '
                            "message goes to that address for every customer on the plan"
                        ),
                        **named,
                        address=entry,
                    )
    return r.warnings
