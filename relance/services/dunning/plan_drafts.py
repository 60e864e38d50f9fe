"""Drafts of dunning plans: the editor's changes are kept aside, beside the live plan, until
someone publishes them.

A draft is always a valid plan (every edit is checked by relance.domain.plans before it is kept),
its steps ordered by their trigger. Publishing saves it as the plan's new version through
services.dunning.plans.save_plan, so the engine and the plan's history have one path, and records
`plan.published` in the journal; it is refused when the live plan changed since the draft was
started from it (someone else published, or a YAML load), so nobody overwrites work they have not
seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from relance.domain.errors import Conflict, Refusal
from relance.domain.plans.problems import PlanError, Problem, error
from relance.domain.plans.reading import parse_plan
from relance.domain.plans.writing import plan_to_dict
from relance.domain.texts import N_
from relance.models import Plan, PlanDraft
from relance.services.dunning import plans as service
from relance.services.organisation import journal

#: The settings of a plan a diff compares (the steps are compared one by one).
SETTINGS = (
    "name",
    "min_contact_delay_days",
    "tolerance",
    "repeat_last_every_days",
    "repeat_last_max",
)


class DraftStale(Conflict, RuntimeError):
    """The live plan changed since the draft was started from it: publishing would undo that."""


class NoDraft(Refusal, LookupError):
    """There is no draft of the plan to publish or discard (someone published or discarded it)."""


class DraftChanged(Conflict, RuntimeError):
    """The draft changed since the editor showed it (someone else edited it meanwhile)."""


@dataclass
class DraftSaved:
    draft: PlanDraft
    warnings: list[Problem]


def ordered(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The definition with its steps ordered by their trigger day: the steps counted from the due
    date among themselves, those counted from the issue date among themselves, each kind keeping
    the places it had (the two cannot be compared without an invoice). Steps on the same day
    keep their order."""
    steps = list(definition.get("steps") or [])

    def origin(step: Mapping[str, Any]) -> str:
        return str((step.get("trigger") or {}).get("from") or "due_date")

    def day(step: Mapping[str, Any]) -> int:
        return int((step.get("trigger") or {}).get("days") or 0)

    result = list(steps)
    for kind in {origin(s) for s in steps}:
        places = [i for i, s in enumerate(steps) if origin(s) == kind]
        for place, step in zip(places, sorted((steps[i] for i in places), key=day), strict=True):
            result[place] = step
    return {**definition, "steps": result}


def draft_of(plan: Plan) -> PlanDraft | None:
    return PlanDraft.objects.filter(plan=plan).select_related("started_by", "updated_by").first()


def working(plan: Plan) -> dict[str, Any]:
    """What the editor edits: the draft when there is one, else the live plan."""
    draft = draft_of(plan)
    return dict(draft.definition if draft else plan.definition)


def _renames(previous: Mapping[str, str], live: set[str], changes: Mapping[str, str]) -> dict:
    """Carry the draft's renames (live name -> draft name) through more renames in the draft."""
    renamed = dict(previous)
    for old, new in changes.items():
        if old == new:
            continue
        source = next((k for k, v in renamed.items() if v == old), None)
        if source is not None:
            renamed[source] = new
        elif old in live:
            renamed[old] = new
    return {k: v for k, v in renamed.items() if k != v}


def edit(
    plan: Plan,
    definition: Mapping[str, Any],
    *,
    actor: Any = None,
    expected: str | None = None,
    renamed: Mapping[str, str] | None = None,
) -> DraftSaved:
    """Keep `definition` as the plan's draft (started from the live plan when there is none).

    Raises PlanError listing every problem (nothing is kept), DraftChanged when `expected` is not
    the fingerprint of what the editor edited (the draft, or the live plan when there was none).
    The live plan is not touched."""
    warnings: list[Problem] = []
    checked = ordered(plan_to_dict(parse_plan(definition, "", warnings=warnings)))
    with transaction.atomic():
        live = Plan.objects.select_for_update().get(pk=plan.pk)
        if checked.get("code") != live.code:
            raise PlanError([error("code", N_("a plan's code cannot change"))])
        draft = PlanDraft.objects.filter(plan=live).first()
        shown = draft.definition if draft else live.definition
        if expected is not None and service.fingerprint(shown) != expected:
            raise DraftChanged(live.code)
        if draft is None:
            draft = PlanDraft(
                plan=live, based_on=service.fingerprint(live.definition), started_by=actor
            )
        names = {str(s.get("name")) for s in live.definition.get("steps") or []}
        draft.renamed = _renames(draft.renamed or {}, names, renamed or {})
        draft.definition = checked
        draft.updated_by = actor
        draft.save()
    # the warnings' paths count steps as stored: in the draft's order
    warnings = []
    parse_plan(checked, "", warnings=warnings)
    return DraftSaved(draft, warnings)


def publish(plan: Plan, *, actor: Any = None, expected: str | None = None) -> service.PlanSaved:
    """Make the draft the live plan: a new version saved as any other, `plan.published` in the
    journal with what changed, and the draft gone.

    Raises NoDraft, DraftChanged (the draft is not the one the person looked at), DraftStale (the
    live plan changed since the draft was started), PlanError (a rule the draft breaks now)."""
    with transaction.atomic():
        live = Plan.objects.select_for_update().get(pk=plan.pk)
        draft = PlanDraft.objects.select_for_update().filter(plan=live).first()
        if draft is None:
            raise NoDraft(live.code)
        if expected is not None and service.fingerprint(draft.definition) != expected:
            raise DraftChanged(live.code)
        if service.fingerprint(live.definition) != draft.based_on:
            raise DraftStale(live.code)
        change = differences(live.definition, draft.definition, draft.renamed or {})
        names = {str(s.get("name")) for s in live.definition.get("steps") or []}
        renamed = {k: v for k, v in (draft.renamed or {}).items() if k in names}
        assert live.company is not None
        saved = service.save_plan(
            draft.definition,
            company=live.company,
            stored=live,
            expected=draft.based_on,
            renamed=renamed,
            actor=actor,
            event="plan.published",
            details=change.summary(),
        )
        draft.delete()
    return saved


def discard(plan: Plan, *, actor: Any = None) -> None:
    """Drop the draft; the live plan stays as it is. Raises NoDraft when there is none."""
    with transaction.atomic():
        deleted, _ = PlanDraft.objects.filter(plan=plan).delete()
        if not deleted:
            raise NoDraft(plan.code)
        assert plan.company is not None
        journal.record(
            "plan.draft_discarded",
            plan.company,
            actor=actor,
            source="web",
            data={"plan": plan.code},
        )


def is_stale(plan: Plan, draft: PlanDraft) -> bool:
    """Whether the live plan changed since the draft was started from it."""
    return service.fingerprint(plan.definition) != draft.based_on


@dataclass
class StepChange:
    """One step of the draft compared with the live plan: `kind` added, removed or changed;
    `fields` the keys that differ, each (key, live value, draft value)."""

    kind: str
    name: str
    old_name: str = ""
    live: dict[str, Any] = field(default_factory=dict)
    draft: dict[str, Any] = field(default_factory=dict)
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)


@dataclass
class Difference:
    settings: list[tuple[str, Any, Any]] = field(default_factory=list)
    steps: list[StepChange] = field(default_factory=list)
    reordered: bool = False

    def __bool__(self) -> bool:
        return bool(self.settings or self.steps or self.reordered)

    def summary(self) -> dict[str, Any]:
        """What the journal keeps of it: the steps by name, the settings by key."""
        return {
            "added": [s.name for s in self.steps if s.kind == "added"],
            "removed": [s.name for s in self.steps if s.kind == "removed"],
            "changed": [s.name for s in self.steps if s.kind == "changed"],
            "settings": [key for key, _old, _new in self.settings],
        }


def differences(
    live: Mapping[str, Any], draft: Mapping[str, Any], renamed: Mapping[str, str]
) -> Difference:
    """What the draft changes in the live plan: settings by key, steps matched by name (a step
    renamed in the draft is matched with its live name), each step's keys old -> new."""
    result = Difference()
    for key in SETTINGS:
        if (live.get(key) or None) != (draft.get(key) or None):
            result.settings.append((key, live.get(key), draft.get(key)))
    live_steps = {str(s.get("name")): s for s in live.get("steps") or []}
    back = {new: old for old, new in renamed.items()}
    matched: list[str] = []
    for step in draft.get("steps") or []:
        name = str(step.get("name"))
        old_name = back.get(name, name)
        before = live_steps.get(old_name)
        if before is None:
            result.steps.append(StepChange("added", name, draft=dict(step)))
            continue
        matched.append(old_name)
        keys = [k for k in dict.fromkeys([*before, *step]) if k != "name"]
        changed = [
            (k, before.get(k), step.get(k))
            for k in keys
            if (before.get(k) or None) != (step.get(k) or None)
        ]
        if changed or old_name != name:
            result.steps.append(
                StepChange(
                    "changed",
                    name,
                    old_name if old_name != name else "",
                    dict(before),
                    dict(step),
                    changed,
                )
            )
    for name, step in live_steps.items():
        if name not in matched:
            result.steps.append(StepChange("removed", name, live=dict(step)))
    kept = [n for n in live_steps if n in matched]
    result.reordered = kept != [n for n in matched]
    return result
