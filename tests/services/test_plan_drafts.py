"""Plan drafts: edits are kept aside from the live plan, which the engine runs, until published
as a new version; a draft started before someone else published is never published over it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from relance.domain.plans.problems import PlanError
from relance.models import Event, Plan, PlanDraft, Step
from relance.services.dunning import plan_drafts
from relance.services.dunning import plans as service

STANDARD = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"


@pytest.fixture
def plan(company) -> Plan:
    service.load_plans(STANDARD.read_text(encoding="utf-8"), company=company)
    return Plan.objects.get(company=company, code="standard")


@pytest.fixture
def claire(db) -> Any:
    return get_user_model().objects.create(username="claire", email="claire@ar.test")


def _with(definition: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(definition)
    changed["steps"][index - 1].update(changes)
    return changed


def test_an_edit_goes_to_the_draft_and_leaves_the_live_plan(plan, claire):
    live = copy.deepcopy(plan.definition)
    saved = plan_drafts.edit(
        plan, _with(live, 2, trigger={"days": 20, "from": "due_date"}), actor=claire
    )
    plan.refresh_from_db()
    assert plan.definition == live
    assert Step.objects.get(plan=plan, name="Payment reminder").trigger_days == 15
    assert saved.draft.definition["steps"][1]["trigger"]["days"] == 20
    assert saved.draft.started_by == claire
    assert saved.draft.based_on == service.fingerprint(live)
    assert not Event.objects.filter(kind__in=["plan.edited", "plan.published"]).exists()
    # a second edit changes the same draft
    plan_drafts.edit(
        plan,
        _with(saved.draft.definition, 1, name="Heads-up"),
        actor=claire,
        renamed={"Friendly reminder": "Heads-up"},
    )
    assert PlanDraft.objects.filter(plan=plan).count() == 1
    assert PlanDraft.objects.get(plan=plan).renamed == {"Friendly reminder": "Heads-up"}


def test_an_invalid_edit_is_refused_and_not_kept(plan, claire):
    with pytest.raises(PlanError) as refused:
        plan_drafts.edit(plan, _with(plan.definition, 2, channel="fax"), actor=claire)
    assert any(p.path.startswith("steps[2].channel") for p in refused.value.problems)
    assert not PlanDraft.objects.exists()


def test_the_draft_keeps_its_steps_in_the_order_of_their_day(plan, claire):
    saved = plan_drafts.edit(
        plan, _with(plan.definition, 1, trigger={"days": 40, "from": "due_date"}), actor=claire
    )
    steps = saved.draft.definition["steps"]
    assert [s["trigger"]["days"] for s in steps] == [15, 30, 40, 45, 60]
    assert steps[2]["name"] == "Friendly reminder"
    assert not saved.warnings  # no more "trigger order inconsistent"


def test_steps_counted_from_the_issue_date_keep_their_places():
    definition = {
        "steps": [
            {"name": "a", "trigger": {"days": 30, "from": "issue_date"}},
            {"name": "b", "trigger": {"days": 10, "from": "due_date"}},
            {"name": "c", "trigger": {"days": 5, "from": "issue_date"}},
            {"name": "d", "trigger": {"days": -3, "from": "due_date"}},
        ]
    }
    names = [s["name"] for s in plan_drafts.ordered(definition)["steps"]]
    assert names == ["c", "d", "a", "b"]


def test_publishing_makes_a_new_version_and_says_so_in_the_journal(plan, claire):
    first = plan_drafts.edit(
        plan,
        _with(plan.definition, 2, name="Second reminder"),
        actor=claire,
        renamed={"Payment reminder": "Second reminder"},
    )
    first = plan_drafts.edit(  # renamed again: still the live plan's Payment reminder
        plan,
        _with(first.draft.definition, 2, name="Reminder"),
        actor=claire,
        renamed={"Second reminder": "Reminder"},
    )
    definition = copy.deepcopy(first.draft.definition)
    del definition["steps"][3]  # the account owner call
    plan_drafts.edit(plan, definition, actor=claire)
    row = Step.objects.get(plan=plan, name="Payment reminder")
    saved = plan_drafts.publish(plan, actor=claire)
    plan.refresh_from_db()
    assert plan.definition == definition
    assert not PlanDraft.objects.exists()
    assert saved.plan == plan
    row.refresh_from_db()
    assert row.name == "Reminder"  # the renamed step kept its row (and its history)
    assert not Step.objects.get(plan=plan, name="Account owner call").active
    event = Event.objects.get(kind="plan.published")
    assert event.actor == claire
    assert event.data["plan"] == "standard"
    assert event.data["changed"] == ["Reminder"]
    assert event.data["removed"] == ["Account owner call"]
    assert event.data["renamed"] == {"Payment reminder": "Reminder"}


def test_a_draft_started_before_another_version_is_not_published(plan, claire):
    plan_drafts.edit(
        plan, _with(plan.definition, 2, trigger={"days": 20, "from": "due_date"}), actor=claire
    )
    other = {**plan.definition, "min_contact_delay_days": 9}
    service.save_plan(other, company=plan.company, stored=plan)  # someone else's version
    plan.refresh_from_db()
    draft = PlanDraft.objects.get(plan=plan)
    assert plan_drafts.is_stale(plan, draft)
    with pytest.raises(plan_drafts.DraftStale):
        plan_drafts.publish(plan, actor=claire)
    plan.refresh_from_db()
    assert plan.definition == other
    assert PlanDraft.objects.filter(plan=plan).exists()


def test_publishing_the_draft_someone_did_not_see_is_refused(plan, claire):
    seen = plan_drafts.edit(plan, _with(plan.definition, 2, subject="A"), actor=claire)
    seen_version = service.fingerprint(seen.draft.definition)
    plan_drafts.edit(plan, _with(seen.draft.definition, 2, subject="B"), actor=claire)
    with pytest.raises(plan_drafts.DraftChanged):
        plan_drafts.publish(plan, actor=claire, expected=seen_version)
    with pytest.raises(plan_drafts.DraftChanged):  # nor kept over: the editor is out of date
        plan_drafts.edit(plan, _with(plan.definition, 2, subject="C"), expected=seen_version)


def test_discarding_drops_the_draft_only(plan, claire):
    live = copy.deepcopy(plan.definition)
    plan_drafts.edit(plan, _with(live, 2, subject="Draft"), actor=claire)
    plan_drafts.discard(plan, actor=claire)
    plan.refresh_from_db()
    assert plan.definition == live
    assert not PlanDraft.objects.exists()
    assert Event.objects.filter(kind="plan.draft_discarded", actor=claire).count() == 1
    with pytest.raises(plan_drafts.NoDraft):
        plan_drafts.discard(plan, actor=claire)
    with pytest.raises(plan_drafts.NoDraft):
        plan_drafts.publish(plan, actor=claire)


def test_the_difference_names_steps_added_removed_and_changed(plan, claire):
    draft = _with(plan.definition, 2, name="Reminder", attach="open")
    draft["steps"].append({**draft["steps"][0], "name": "Last word"})
    del draft["steps"][3]
    draft["min_contact_delay_days"] = 10
    found = plan_drafts.differences(plan.definition, draft, {"Payment reminder": "Reminder"})
    assert found.settings == [("min_contact_delay_days", 15, 10)]
    kinds = {(c.kind, c.name) for c in found.steps}
    assert kinds == {
        ("changed", "Reminder"),
        ("added", "Last word"),
        ("removed", "Account owner call"),
    }
    changed = next(c for c in found.steps if c.kind == "changed")
    assert changed.old_name == "Payment reminder"
    assert changed.fields == [("attach", "overdue", "open")]
    assert not plan_drafts.differences(plan.definition, plan.definition, {})
