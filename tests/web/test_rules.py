"""The assignment rules editor: rows saved in order as the company's own rules, checked by the
domain with problems shown on their row, and tried on a real customer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relance.models import AssignmentRules, Event
from relance.services.dunning import plans as service

PLANS = Path(__file__).resolve().parents[2] / "relance" / "plans"


@pytest.fixture
def default_rules(world) -> None:
    for name in ("standard", "high-risk", "white-glove"):
        service.load_plans((PLANS / f"{name}.yaml").read_text(encoding="utf-8"))
    service.load_rules((PLANS / "rules.yaml").read_text(encoding="utf-8"))


def _post(rows: list[dict[str, Any]], company: int) -> dict[str, Any]:
    """The formset as the page posts it, one dict of fields per row."""
    data: dict[str, Any] = {
        "company": company,
        "form-TOTAL_FORMS": len(rows),
        "form-INITIAL_FORMS": 0,
        "form-MIN_NUM_FORMS": 0,
        "form-MAX_NUM_FORMS": 1000,
    }
    for i, row in enumerate(rows):
        data.update({f"form-{i}-{k}": v for k, v in row.items()})
    return data


def test_a_company_starts_from_the_default_rules(world, default_rules):
    page = world.client("controller").get("/plans/rules/").content.decode()
    assert "uses the default rules" in page
    assert 'value="High-risk customers"' in page
    assert 'value="Everyone else"' in page


def test_saving_gives_the_company_its_own_rules_in_the_order_asked(world, default_rules):
    rows = [
        {"ORDER": "2", "name": "Everyone else", "plan": "standard"},
        {"ORDER": "1", "name": "Big risks", "plan": "high-risk", "risk": ["high", "medium"]},
        {"ORDER": "3", "name": "Gone", "plan": "standard", "segment": "x", "DELETE": "on"},
    ]
    response = world.client("controller").post("/plans/rules/save/", _post(rows, world.alpha.pk))
    assert response.status_code == 302
    own = AssignmentRules.objects.get(company=world.alpha).definition
    assert [r["name"] for r in own] == ["Big risks", "Everyone else"]
    assert own[0]["when"] == {"risk": ["high", "medium"]}
    assert AssignmentRules.objects.get(company=None).definition[0]["name"] == "High-risk customers"
    assert Event.objects.get(kind="rules.loaded").actor == world.users["controller"]


def test_problems_are_shown_on_their_row_and_nothing_is_saved(world, default_rules):
    rows = [
        {
            "ORDER": "1",
            "name": "Odd",
            "plan": "standard",
            "min_average_days_late": "30",
            "max_average_days_late": "10",
        },
        {"ORDER": "2", "name": "Odd", "plan": "standard"},
    ]
    response = world.client("controller").post("/plans/rules/save/", _post(rows, world.alpha.pk))
    page = response.content.decode()
    assert response.status_code == 200
    assert "no customer could match" in page
    assert "duplicate rule name" in page
    assert not AssignmentRules.objects.filter(company=world.alpha).exists()


def test_a_rule_after_a_catch_all_is_saved_with_a_warning(world, default_rules):
    rows = [
        {"ORDER": "1", "name": "Everyone", "plan": "standard"},
        {"ORDER": "2", "name": "Never", "plan": "high-risk", "risk": ["high"]},
    ]
    client = world.client("controller")
    response = client.post("/plans/rules/save/", _post(rows, world.alpha.pk), follow=True)
    assert "is never used" in response.content.decode()


def test_trying_a_customer_says_which_plan_and_why(world, default_rules):
    world.customers["dupont"].risk = "high"
    world.customers["dupont"].save()
    page = world.client("reader").get("/plans/rules/?customer=A1").content.decode()
    assert "high-risk" in page
    assert "High-risk customers" in page
    missing = world.client("reader").get("/plans/rules/?customer=B1").content.decode()
    assert "No customer B1 here." in missing  # another company's customer stays unknown


def test_who_may_change_the_rules(world, default_rules):
    rows = [{"ORDER": "1", "name": "All", "plan": "standard"}]
    assert (
        world.client("reader").post("/plans/rules/save/", _post(rows, world.alpha.pk)).status_code
        == 403
    )
    assert (
        world.client("rep").post("/plans/rules/save/", _post(rows, world.alpha.pk)).status_code
        == 403
    )
    beta_admin = world.client("beta_admin")
    assert beta_admin.post("/plans/rules/save/", _post(rows, world.alpha.pk)).status_code == 404
    assert beta_admin.get(f"/plans/rules/?company={world.alpha.pk}").status_code == 404
    assert not AssignmentRules.objects.filter(company=world.alpha).exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_page_renders_without_rules_or_companies(world, language):
    assert world.client("controller", language).get("/plans/rules/").status_code == 200
    assert world.client("outsider", language).get("/plans/rules/").status_code == 200
