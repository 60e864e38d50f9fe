# ruff: noqa: RUF001  (French typographic apostrophes and guillemets)
"""A French controller editing a plan or the assignment rules reads the domain's errors in
French, next to the field they are about; an English one reads them in English."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from relance.domain import texts
from relance.models import AssignmentRules, Plan
from tests.domain.test_plan_errors_language import FRENCH
from tests.web.test_plan_pages import _step_post, _working
from tests.web.test_plan_pages import plan as plan
from tests.web.test_rules import _post
from tests.web.test_rules import default_rules as default_rules


@pytest.fixture(autouse=True)
def catalogue() -> Iterator[None]:
    """The French catalogue, with this change's French for the errors it does not hold yet
    (the catalogue is updated when the change is merged): a French page reads the catalogue's
    words first, an English page is untouched."""
    previous = texts.translator()

    def french_first(message: str) -> str:
        translated = previous(message)
        if translated == message and (translation.get_language() or "").startswith("fr"):
            return FRENCH.get(message, message)
        return translated

    texts.install(french_first)
    yield
    texts.install(previous)


def _field(page: str, name: str) -> str:
    """The HTML of one field of the step form, its errors included."""
    field = page[page.index(f'id="field-{name}"') :]
    return field[: field.index("</div>")]


def _save_step(client: Any, plan: Plan, index: int, **changes: Any) -> str:
    response = client.post(f"/plans/{plan.pk}/steps/{index}/", _step_post(plan, index, **changes))
    assert response.status_code == 200  # refused, the form shown again
    return response.content.decode()


def test_a_duplicate_step_name_is_refused_in_french_next_to_the_name(world, plan):
    before = _working(plan)
    page = _save_step(world.client("controller", "fr"), plan, 2, name="Friendly reminder")
    name = _field(page, "name")
    assert "nom d’étape en double « Friendly reminder » (c’est aussi celui de l’étape 1)" in name
    assert "duplicate step name" not in page
    assert "steps[1]" not in name
    assert _working(plan) == before
    # the same mistake, read by an English controller
    page = _save_step(world.client("controller"), plan, 2, name="Friendly reminder")
    english = "duplicate step name &quot;Friendly reminder&quot; (also step 1)"  # escaped
    assert english in _field(page, "name")


def test_a_missing_subject_is_refused_in_french_next_to_the_subject(world, plan):
    page = _save_step(world.client("controller", "fr"), plan, 2, template="", subject="")
    assert "est obligatoire pour les étapes email sans modèle" in _field(page, "subject")
    assert "is required for" not in page


def test_a_rules_page_error_reads_in_french_on_its_row(world, default_rules):
    rows = [
        {"ORDER": "1", "name": "Odd", "plan": "standard", "min_average_days_late": "30",
         "max_average_days_late": "10"},
        {"ORDER": "2", "name": "odd", "plan": "standard"},
    ]  # fmt: skip
    client = world.client("controller", "fr")
    response = client.post("/plans/rules/save/", _post(rows, world.alpha.pk))
    page = response.content.decode()
    assert response.status_code == 200
    assert "nom de règle en double « odd » (c’est aussi celui de la règle 1)" in page
    assert "aucun client ne pourrait correspondre" in page
    assert "duplicate rule name" not in page
    assert not AssignmentRules.objects.filter(company=world.alpha).exists()
