# ruff: noqa: RUF001  (French typographic apostrophes)
"""A plan's warnings are templates with parameters, read in the reader's language, and name a
step by its position and name ('step 2 "Relance 2"'), never by its YAML path (`steps[2]`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from relance.domain import texts
from relance.domain.plans.advice import plan_warnings
from relance.domain.plans.reading import parse_plan

FRENCH = {
    'the last step, step %(index)s "%(name)s", goes out by itself every %(every)s days with no '
    "maximum number of repeats: it would repeat until paid": (
        "la dernière étape, l’étape %(index)s « %(name)s », part d’elle-même tous les %(every)s "
        "jours sans nombre maximum de répétitions : elle se répéterait jusqu’au paiement"
    ),
    "a maximum number of repeats has no effect while the last step does not repeat (no number "
    "of days between repeats)": (
        "un nombre maximum de répétitions n’a pas d’effet tant que la dernière étape ne se "
        "répète pas (aucun nombre de jours entre deux répétitions)"
    ),
    'trigger order inconsistent: step %(index)s "%(name)s" (%(days)s days from the due date) '
    'comes after step %(other_index)s "%(other)s" (%(other_days)s days) but would run before '
    "it: order the steps by their day": (
        "ordre des déclenchements incohérent : l’étape %(index)s « %(name)s » (%(days)s jours "
        "par rapport à l’échéance) vient après l’étape %(other_index)s « %(other)s » "
        "(%(other_days)s jours) mais partirait avant elle : classez les étapes par jour"
    ),
    'trigger order inconsistent: step %(index)s "%(name)s" (%(days)s days from the issue date) '
    'comes after step %(other_index)s "%(other)s" (%(other_days)s days) but would run before '
    "it: order the steps by their day": (
        "ordre des déclenchements incohérent : l’étape %(index)s « %(name)s » (%(days)s jours "
        "par rapport à la date d’émission) vient après l’étape %(other_index)s « %(other)s » "
        "(%(other_days)s jours) mais partirait avant elle : classez les étapes par jour"
    ),
    'step %(index)s "%(name)s" writes to the customer but has no recipients': (
        "l’étape %(index)s « %(name)s » écrit au client mais n’a aucun destinataire"
    ),
    'step %(index)s "%(name)s" is done by a person but has no owners: it would land in '
    "nobody's Actions inbox": (
        "l’étape %(index)s « %(name)s » est faite par une personne mais n’a aucun responsable : "
        "elle n’arriverait dans les actions de personne"
    ),
    '%(address)s in step %(index)s "%(name)s" is a fixed address: the message goes to that '
    "address for every customer on the plan": (
        "%(address)s dans l’étape %(index)s « %(name)s » est une adresse fixe : le message part "
        "à cette adresse pour chaque client du plan"
    ),
}


@pytest.fixture
def french():
    previous = texts.install(lambda message: FRENCH.get(message, message))
    yield
    texts.install(previous)


def _suspicious() -> dict:
    """A plan that earns every warning the advice gives."""
    plan = {
        "code": "odd",
        "name": "Odd",
        "repeat_last_every_days": 7,
        "steps": [
            {"name": "Relance 1", "trigger": {"days": 30}, "channel": "email",
             "recipients": ["role:billing", "ar@example.com"]},
            {"name": "Relance 2", "trigger": {"days": 10}, "channel": "email"},
            {"name": "Relance 3", "trigger": {"days": 5, "from": "issue_date"}, "channel": "call"},
            {"name": "Relance 4", "trigger": {"days": 2, "from": "issue_date"}, "channel": "email",
             "recipients": ["role:billing"]},
        ],
    }  # fmt: skip
    for step in plan["steps"]:
        step.update(subject="Facture", body="Merci de régler la facture.")
    return plan


def test_every_warning_reads_in_french_and_names_steps_in_words(french):
    warnings = plan_warnings(parse_plan(_suspicious()), "")
    templates = {w.template for w in warnings}
    assert len(templates) >= 6
    for warning in warnings:
        assert warning.template in FRENCH, warning.template
        assert "%(" not in warning.message
        assert not re.search(r"steps\[\d", warning.message)  # the path stays in `path`
        assert "l’étape" in warning.message
    by_path = {w.path: w.message for w in warnings}
    assert by_path["steps[2].trigger.days"] == (
        "ordre des déclenchements incohérent : l’étape 2 « Relance 2 » (+10 jours par rapport à "
        "l’échéance) vient après l’étape 1 « Relance 1 » (+30 jours) mais partirait avant elle : "
        "classez les étapes par jour"
    )
    texts.install(None)
    assert by_path != {w.path: w.message for w in warnings}  # read again: English now
    assert {w.path: w.message for w in warnings}["steps[2].recipients"] == (
        'step 2 "Relance 2" writes to the customer but has no recipients'
    )


def test_the_repeat_without_a_maximum_and_the_maximum_without_repeat_read_in_french(french):
    odd = _suspicious()
    odd["repeat_last_every_days"], odd["repeat_last_max"] = None, 3
    (warning,) = [w for w in plan_warnings(parse_plan(odd), "") if w.path == "repeat_last_max"]
    assert warning.message.startswith("un nombre maximum de répétitions")


def test_every_warning_template_is_marked_for_the_catalogue():
    source = (Path(__file__).resolve().parents[2] / "relance/domain/plans/advice.py").read_text()
    marked = {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_"
    }
    assert marked == set(FRENCH)
