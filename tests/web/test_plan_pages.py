"""The plan editor: who may see and change which plan, each change validated and stored as a
whole new version, renamed steps keeping their history, and the live preview."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from relance.models import Event, Execution, Plan, Step
from relance.services.dunning import plans as service

STANDARD = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"


@pytest.fixture
def plan(world) -> Plan:
    """Alpha's copy of the standard plan, Dupont on it."""
    text = STANDARD.read_text(encoding="utf-8").replace("code: standard", "code: alpha-std")
    service.load_plans(text, company=world.alpha)
    stored = Plan.objects.get(code="alpha-std")
    world.customers["dupont"].plan = stored
    world.customers["dupont"].save()
    return stored


def _step_post(plan: Plan, index: int, **changes: Any) -> dict[str, Any]:
    """What the step form posts when nothing but `changes` is edited."""
    from relance.web.plan_forms import StepForm

    initial = StepForm.initial_for(plan.definition["steps"][index - 1])
    data = {**initial, **changes, "version": service.fingerprint(plan.definition)}
    return {k: v for k, v in data.items() if v is not None}


def test_plans_list_shows_the_companys_own_plans_only(world, plan):
    shared_text = STANDARD.read_text(encoding="utf-8").replace("code: standard", "code: shared")
    service.load_plans(shared_text)  # for every company: each gets its own copy
    beta_text = STANDARD.read_text(encoding="utf-8").replace("code: standard", "code: beta-std")
    service.load_plans(beta_text, company=world.beta)
    page = world.client("controller").get("/plans/").content.decode()
    assert "alpha-std" in page
    assert "shared" in page
    assert "beta-std" not in page
    alpha_copy = Plan.objects.get(code="shared", company=world.alpha)
    assert f"/plans/{alpha_copy.pk}/" in page
    for other in Plan.objects.filter(code="shared").exclude(pk=alpha_copy.pk):
        assert f"/plans/{other.pk}/" not in page  # beta's copy and the library's
    # Dupont is on the plan: the count links to the customers list filtered by it
    assert '?plan=alpha-std">1</a>' in page


def test_another_companys_plan_is_not_found(world, plan):
    assert world.client("beta_admin").get(f"/plans/{plan.pk}/").status_code == 404
    response = world.client("beta_admin").post(
        f"/plans/{plan.pk}/steps/1/", _step_post(plan, 1, name="Hacked")
    )
    assert response.status_code == 404
    assert Plan.objects.get(pk=plan.pk).definition == plan.definition


@pytest.mark.parametrize("user", ["reader", "rep"])
def test_read_only_users_and_reps_read_but_cannot_change(world, plan, user):
    client = world.client(user)
    page = client.get(f"/plans/{plan.pk}/?step=2").content.decode()
    assert "Payment reminder" in page
    assert "Save the step" not in page
    assert client.post(f"/plans/{plan.pk}/steps/2/", _step_post(plan, 2)).status_code == 403
    assert client.post(f"/plans/{plan.pk}/steps/2/delete/").status_code == 403
    assert client.get("/plans/new/").status_code == 403


def test_the_editor_shows_steps_around_the_due_date_with_warnings(world, plan):
    page = world.client("controller").get(f"/plans/{plan.pk}/").content.decode()
    friendly, due, reminder = (
        page.index("Friendly reminder"),
        page.index("Due date"),
        page.index("Payment reminder"),
    )
    assert friendly < due < reminder  # -5 days before the marker, +15 after
    assert "5 days before the due date" in page
    assert "15 days after the due date" in page
    assert "Plan settings" in page


def test_saving_a_step_stores_a_new_valid_version_and_logs_it(world, plan):
    client = world.client("controller")
    response = client.post(
        f"/plans/{plan.pk}/steps/2/",
        _step_post(plan, 2, days="20", cc=["role:escalation"], cc_addresses="boss@alpha.test"),
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?step=2")
    step = Plan.objects.get(pk=plan.pk).definition["steps"][1]
    assert step["trigger"] == {"days": 20, "from": "due_date"}
    assert step["cc"] == ["role:escalation", "boss@alpha.test"]
    assert Step.objects.get(plan=plan, name="Payment reminder").trigger_days == 20
    event = Event.objects.get(kind="plan.edited")
    assert event.actor == world.users["controller"]
    assert event.source == "web"
    # the fixed address is allowed, with the warning that it goes out for every customer
    page = client.get(response["Location"]).content.decode()
    assert "every customer on the plan" in page


def test_invalid_step_is_refused_with_the_problem_next_to_its_field(world, plan):
    client = world.client("controller")
    before = Plan.objects.get(pk=plan.pk).definition
    response = client.post(
        f"/plans/{plan.pk}/steps/2/",
        _step_post(plan, 2, template="", subject="{{ customer.name ", body=""),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="field-body"' in page
    assert "is required" in page
    assert Plan.objects.get(pk=plan.pk).definition == before


def test_a_renamed_step_keeps_its_row_and_its_history(world, plan):
    row = Step.objects.get(plan=plan, name="Payment reminder")
    Execution.objects.create(
        key="k1",
        company=world.alpha,
        customer=world.customers["dupont"],
        plan=plan,
        plan_code=plan.code,
        step=row,
        step_name="Payment reminder",
        date=date(2026, 11, 1),
        status="executed",
        channel="email",
        mode="auto",
        customer_facing=True,
    )
    client = world.client("controller")
    client.post(f"/plans/{plan.pk}/steps/2/", _step_post(plan, 2, name="First reminder"))
    row.refresh_from_db()
    assert row.name == "First reminder"
    assert row.active
    # the engine knows what was done by step name: the step already done stays done
    assert Execution.objects.get(key="k1").step_name == "First reminder"


def test_add_duplicate_move_and_delete_steps(world, plan):
    client = world.client("controller")

    def names() -> list[str]:
        return [s["name"] for s in Plan.objects.get(pk=plan.pk).definition["steps"]]

    def post(path: str) -> Any:
        version = service.fingerprint(Plan.objects.get(pk=plan.pk).definition)
        return client.post(f"/plans/{plan.pk}/steps/{path}/", {"version": version})

    assert post("2/duplicate")["Location"].endswith("?step=3")
    assert names()[1:3] == ["Payment reminder", "Payment reminder (2)"]
    post("3/up")
    assert names()[1:3] == ["Payment reminder (2)", "Payment reminder"]
    post("2/delete")
    assert names() == [
        "Friendly reminder",
        "Payment reminder",
        "Firm reminder",
        "Account owner call",
        "Formal notice",
    ]
    post("5/add")
    assert names()[-1] == "New step (2)" or names()[-1].startswith("New step")
    added = Plan.objects.get(pk=plan.pk).definition["steps"][-1]
    assert added["trigger"]["days"] == 75  # 15 days after the step before it


def test_the_last_step_cannot_be_deleted(world):
    service.save_plan(
        {"code": "tiny", "name": "Tiny", "steps": [_plain_step("Only")]}, company=world.alpha
    )
    plan = Plan.objects.get(code="tiny")
    client = world.client("controller")
    response = client.post(f"/plans/{plan.pk}/steps/1/delete/", follow=True)
    assert "at least one step is required" in response.content.decode()
    assert len(Plan.objects.get(pk=plan.pk).definition["steps"]) == 1


def _plain_step(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "trigger": {"days": 10},
        "channel": "email",
        "recipients": ["role:billing"],
        "template": "first_reminder",
    }


def test_a_stale_editor_does_not_overwrite_someone_elses_change(world, plan):
    client = world.client("controller")
    stale = _step_post(plan, 2, days="21")
    client.post(f"/plans/{plan.pk}/steps/2/", _step_post(plan, 2, days="25"))
    response = client.post(f"/plans/{plan.pk}/steps/2/", stale, follow=True)
    assert "Someone saved this plan" in response.content.decode()
    assert Plan.objects.get(pk=plan.pk).definition["steps"][1]["trigger"]["days"] == 25


def test_settings_are_validated_by_the_domain(world, plan):
    client = world.client("controller")
    version = service.fingerprint(plan.definition)
    response = client.post(
        f"/plans/{plan.pk}/settings/",
        {
            "version": version,
            "name": "Alpha standard",
            "min_contact_delay_days": "10",
            "tolerance": "EUR 5.00, XYZ 3",
        },
    )
    assert response.status_code == 200
    assert "XYZ" in response.content.decode()
    response = client.post(
        f"/plans/{plan.pk}/settings/",
        {
            "version": version,
            "name": "Alpha standard",
            "min_contact_delay_days": "10",
            "tolerance": "EUR 2.50",
            "repeat_last_every_days": "30",
        },
    )
    assert response.status_code == 302
    stored = Plan.objects.get(pk=plan.pk)
    assert stored.name == "Alpha standard"
    assert stored.min_contact_delay_days == 10
    assert stored.definition["tolerance"] == {"EUR": "2.50"}
    # an automatic letter repeated with no maximum loops until paid: said on the page
    page = client.get(f"/plans/{plan.pk}/?settings=1").content.decode()
    assert "it would repeat until paid" in page


def test_creating_a_plan_from_scratch_and_as_a_copy(world, plan):
    client = world.client("admin")
    response = client.post(
        "/plans/new/", {"name": "Gentle plan", "code": "", "company": world.alpha.pk}
    )
    created = Plan.objects.get(code="gentle-plan")
    assert response["Location"] == f"/plans/{created.pk}/?step=1"
    assert created.company == world.alpha
    assert len(created.definition["steps"]) == 1
    client.post(
        "/plans/new/",
        {"name": "Copy", "code": "copy", "company": world.alpha.pk, "start_from": plan.pk},
    )
    assert len(Plan.objects.get(code="copy").definition["steps"]) == 5
    # a code already used, and a company the user is not in, are refused
    again = client.post("/plans/new/", {"name": "X", "code": "copy", "company": world.alpha.pk})
    assert "already exists" in again.content.decode()
    other = client.post("/plans/new/", {"name": "Y", "code": "y", "company": world.beta.pk})
    assert other.status_code == 200
    assert not Plan.objects.filter(code="y").exists()


def test_another_company_may_use_the_same_code_without_learning_of_it(world, plan):
    """Issue 17, item 10: a code was global, so beta's admin got "already exists" for a code
    only alpha used (learning of alpha's plan) and could not create it."""
    made = world.client("beta_admin").post(
        "/plans/new/", {"name": "Beta's own", "code": plan.code, "company": world.beta.pk}
    )
    assert made.status_code == 302, made.content.decode()
    theirs = Plan.objects.get(code=plan.code, company=world.beta)
    assert theirs.name == "Beta's own"
    assert Plan.objects.get(pk=plan.pk).definition == plan.definition
    copy_choices = world.client("beta_admin").get("/plans/new/").content.decode()
    assert f'value="{plan.pk}"' not in copy_choices  # alpha's plan is not offered as a start


def test_preview_renders_the_unsaved_step_for_a_real_customer(world, plan):
    client = world.client("controller")
    data = _step_post(
        plan,
        2,
        template="",
        subject="Rappel {{ reference.number }}",
        body="Bonjour {{ customer.name }}, reste {{ totals }}.",
        preview_customer=world.customers["dupont"].pk,
    )
    page = client.post(f"/plans/{plan.pk}/steps/2/preview/", data).content.decode()
    assert "Rappel F-I1" in page
    assert "Bonjour Boulangerie Dupont" in page
    assert "€1,250.00" in page
    assert "about invoice F-I1" in page
    # another company's customer cannot be previewed: treated as no customer
    data["preview_customer"] = world.customers["smith"].pk
    page = client.post(f"/plans/{plan.pk}/steps/2/preview/", data).content.decode()
    assert "Choose a customer" in page


@pytest.mark.parametrize("user", ["reader", "rep"])
def test_only_those_who_may_edit_the_plan_may_preview_it(world, plan, user):
    data = _step_post(plan, 2, preview_customer=world.customers["dupont"].pk)
    response = world.client(user).post(f"/plans/{plan.pk}/steps/2/preview/", data)
    assert response.status_code == 403
    page = world.client(user).get(f"/plans/{plan.pk}/?step=2").content.decode()
    assert "steps/2/preview/" not in page  # no preview panel that could only fail


def test_a_template_bomb_in_the_preview_fails_at_once_naming_the_field(world, plan):
    import time

    bomb = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
    data = _step_post(
        plan,
        2,
        template="",
        subject="{{ 'x' * 10**9 }}",
        body=bomb,
        preview_customer=world.customers["dupont"].pk,
    )
    start = time.monotonic()
    page = world.client("controller").post(f"/plans/{plan.pk}/steps/2/preview/", data)
    assert time.monotonic() - start < 10
    assert page.status_code == 200
    assert "Subject: the template builds a text or list that is too long" in page.content.decode()


def test_yaml_export_loads_back(world, plan):
    response = world.client("reader").get(f"/plans/{plan.pk}/plan.yaml")
    assert response["Content-Disposition"] == 'attachment; filename="alpha-std.yaml"'
    assert yaml.safe_load(response.content) == plan.definition


def test_an_ab_test_is_set_in_the_editor_and_checked_there(world, plan):
    client = world.client("controller")
    response = client.post(
        f"/plans/{plan.pk}/steps/2/",
        _step_post(
            plan,
            2,
            variant_share="30",
            variant_template="",
            variant_subject="Help?",
            variant_body="Can we help with {{ reference.number }}?",
        ),
    )
    assert response.status_code == 302
    step = Plan.objects.get(pk=plan.pk).definition["steps"][1]
    assert step["variant_b"] == {
        "share": 30,
        "template": "",
        "subject": "Help?",
        "body": "Can we help with {{ reference.number }}?",
    }
    page = client.get(response["Location"]).content.decode()
    assert "A/B test of the text" in page
    assert 'value="30"' in page
    refused = client.post(
        f"/plans/{plan.pk}/steps/2/",
        _step_post(Plan.objects.get(pk=plan.pk), 2, variant_subject="", variant_body="{{ oops"),
    )
    assert refused.status_code == 200
    assert 'id="field-variant_body"' in refused.content.decode()
    assert Plan.objects.get(pk=plan.pk).definition["steps"][1]["variant_b"]["share"] == 30
    client.post(
        f"/plans/{plan.pk}/steps/2/",
        _step_post(
            Plan.objects.get(pk=plan.pk), 2, variant_share="", variant_subject="", variant_body=""
        ),
    )
    assert Plan.objects.get(pk=plan.pk).definition["steps"][1]["variant_b"] is None
