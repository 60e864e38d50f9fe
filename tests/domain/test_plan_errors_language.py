# ruff: noqa: RUF001, E501  (French typographic apostrophes; one msgid and its French a line)
"""A plan's and the assignment rules' errors are templates with parameters, like the warnings:
read in the reader's language, naming another step or rule by its position ('also step 1'),
never by its YAML path (`steps[1]`), which stays the problem's `path`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from relance.domain import texts
from relance.domain.assignment_rules import load_rules_yaml, parse_rules
from relance.domain.plans.problems import PlanError, Problem, read_yaml
from relance.domain.plans.reading import load_plans_yaml, parse_plan, parse_plans

FRENCH = {
    # how a wrong value is described
    "null": "null (aucune valeur)",
    "%(value)s (a boolean)": "%(value)s (un booléen)",
    "%(value)s (a number)": "%(value)s (un nombre)",
    "'%(value)s' (text)": "« %(value)s » (du texte)",
    "a mapping": "un ensemble de clés",
    "a list": "une liste",
    "%(value)s (%(kind)s)": "%(value)s (%(kind)s)",
    "'%(value)s'": "« %(value)s »",
    "empty text": "un texte vide",
    # what is expected
    "a whole number": "un nombre entier",
    "a whole number of days": "un nombre entier de jours",
    "a number of days, 1 or more": "un nombre de jours, 1 ou plus",
    "a whole number of days, 0 or more": "un nombre entier de jours, 0 ou plus",
    "a positive whole number or null": "un nombre entier positif ou null",
    "a percentage from 1 to 99": "un pourcentage de 1 à 99",
    # YAML and documents
    "invalid YAML: %(detail)s": "YAML invalide : %(detail)s",
    "contains no plans": "ne contient aucun plan",
    "is empty: expected a plan or a list of plans": "est vide : un plan ou une liste de plans est attendu",
    "must be a plan or a list of plans, not %(value)s": "doit être un plan ou une liste de plans, et non %(value)s",
    "is empty: expected a list of rules": "est vide : une liste de règles est attendue",
    "must be a list of rules (- name: …, plan: …, when: …), not %(value)s": "doit être une liste de règles (- name: …, plan: …, when: …), et non %(value)s",
    # keys and values
    "unknown key (did you mean '%(close)s'?); allowed keys: %(allowed)s": "clé inconnue (vouliez-vous dire « %(close)s » ?) ; clés autorisées : %(allowed)s",
    "unknown key; allowed keys: %(allowed)s": "clé inconnue ; clés autorisées : %(allowed)s",
    "is required": "est obligatoire",
    "is required (%(what)s)": "est obligatoire (%(what)s)",
    "is required (one of %(choices)s)": "est obligatoire (l’une des valeurs %(choices)s)",
    "must be text, not %(value)s": "doit être du texte, et non %(value)s",
    "must be text, not %(value)s (quote it in YAML)": "doit être du texte, et non %(value)s (mettez-le entre guillemets dans le YAML)",
    "must fit on a single line": "doit tenir sur une seule ligne",
    "must be %(what)s, not %(value)s": "doit être %(what)s, et non %(value)s",
    "%(value)s is out of range (at most %(maximum)s in absolute value)": "%(value)s est hors limites (au plus %(maximum)s en valeur absolue)",
    "%(value)s is not one of %(choices)s": "%(value)s ne fait pas partie de : %(choices)s",
    "must not be negative, not %(value)s": "ne doit pas être négatif, et non %(value)s",
    # plans
    "a plan must be a mapping (code, name, steps, …), not %(value)s": "un plan doit être un ensemble de clés (code, name, steps, …), et non %(value)s",
    "'%(code)s' is not a valid code: use lower-case letters, digits, '-' and '_', starting with a letter or digit": "« %(code)s » n’est pas un code valide : utilisez des minuscules, des chiffres, « - » et « _ », en commençant par une lettre ou un chiffre",
    "duplicate plan code '%(code)s' (also plan %(other_index)s)": "code de plan en double « %(code)s » (c’est aussi celui du plan %(other_index)s)",
    "at least one step is required": "il faut au moins une étape",
    "must be a list of steps, not %(value)s": "doit être une liste d’étapes, et non %(value)s",
    "must be a mapping of step settings, not %(value)s": "doit être un ensemble de réglages d’étape, et non %(value)s",
    'duplicate step name "%(name)s" (also step %(other_index)s)': "nom d’étape en double « %(name)s » (c’est aussi celui de l’étape %(other_index)s)",
    "is required, e.g. {days: 15, from: due_date}": "est obligatoire, par exemple {days: 15, from: due_date}",
    "must be a mapping such as {days: 15, from: due_date}, not %(value)s": "doit être un ensemble de clés comme {days: 15, from: due_date}, et non %(value)s",
    "'%(template)s' is not a template name such as first_reminder": "« %(template)s » n’est pas un nom de modèle comme first_reminder",
    "is required for %(channel)s steps without a template": "est obligatoire pour les étapes %(channel)s sans modèle",
    "is required (the message text, call script or task description), or a template": "est obligatoire (le texte du message, le script d’appel ou la description de la tâche), sauf avec un modèle",
    "line %(line)s, column %(column)s: %(problem)s": "ligne %(line)s, colonne %(column)s : %(problem)s",
    "must be a mapping with %(keys)s, not %(value)s": "doit être un ensemble de clés %(keys)s, et non %(value)s",
    "%(channel)s steps are always done by a person: 'auto' was changed to 'manual'": "les étapes %(channel)s sont toujours faites par une personne : « auto » a été remplacé par « manual »",
    # recipients, copies and owners
    "must be a list, e.g. %(example)s, not %(value)s": "doit être une liste, par exemple %(example)s, et non %(value)s",
    "'%(entry)s': contact roles cannot own a step; use owner, sales_rep, group:NAME or a staff email address": "« %(entry)s » : un rôle de contact ne peut pas être responsable d’une étape ; utilisez owner, sales_rep, group:NOM ou l’adresse e-mail d’un collaborateur",
    "'%(entry)s': unknown role '%(role)s' (roles: %(roles)s)": "« %(entry)s » : rôle inconnu « %(role)s » (rôles : %(roles)s)",
    "'%(entry)s': groups can own manual steps but cannot receive messages": "« %(entry)s » : un groupe peut être responsable d’étapes manuelles mais ne peut pas recevoir de messages",
    "'group:' needs a group name, e.g. group:credit-control": "« group: » demande un nom de groupe, par exemple group:credit-control",
    "'%(entry)s' is not owner, sales_rep, group:NAME or an email address": "« %(entry)s » n’est ni owner, ni sales_rep, ni group:NOM, ni une adresse e-mail",
    "'%(entry)s' is not %(roles)s, owner, sales_rep or an email address": "« %(entry)s » n’est ni %(roles)s, ni owner, ni sales_rep, ni une adresse e-mail",
    "'%(entry)s' is listed twice": "« %(entry)s » figure deux fois",
    # tolerances
    "must be a mapping of currency to amount, e.g. {EUR: '5.00'}, not %(value)s": "doit associer une devise à un montant, par exemple {EUR: '5.00'}, et non %(value)s",
    "%(value)s is not an ISO 4217 currency code": "%(value)s n’est pas un code de devise ISO 4217",
    "%(currency)s is listed twice": "%(currency)s figure deux fois",
    "must be an amount such as '5.00', not %(value)s": "doit être un montant comme '5.00', et non %(value)s",
    # merge fields in a step's subject or body
    "unknown merge field '%(field)s' (fields of %(root)s: %(known)s)": "champ de fusion inconnu « %(field)s » (champs de %(root)s : %(known)s)",
    "unknown merge field '%(field)s' (%(root)s is a plain value)": "champ de fusion inconnu « %(field)s » (%(root)s est une valeur simple)",
    "unknown merge field '%(field)s' (known: %(known)s)": "champ de fusion inconnu « %(field)s » (champs connus : %(known)s)",
    # assignment rules
    "'%(code)s' is not a plan code (lower-case letters, digits, '-' and '_')": "« %(code)s » n’est pas un code de plan (minuscules, chiffres, « - » et « _ »)",
    "unknown plan '%(code)s' (did you mean '%(close)s'?); known plans: %(known)s": "plan inconnu « %(code)s » (vouliez-vous dire « %(close)s » ?) ; plans connus : %(known)s",
    "unknown plan '%(code)s'; known plans: %(known)s": "plan inconnu « %(code)s » ; plans connus : %(known)s",
    "unknown plan '%(code)s'; known plans: none loaded": "plan inconnu « %(code)s » ; aucun plan n’est chargé",
    "'%(value)s' is not an ISO 3166 country code such as FR or GB": "« %(value)s » n’est pas un code pays ISO 3166 comme FR ou GB",
    "lists no %(key)s: remove the key to accept any %(key)s": "ne liste aucune valeur pour %(key)s : retirez la clé pour accepter toutes les valeurs de %(key)s",
    "must be a list such as [%(example)s], not %(value)s": "doit être une liste comme [%(example)s], et non %(value)s",
    "'%(value)s' is listed twice": "« %(value)s » figure deux fois",
    "must be a number of days, not %(value)s": "doit être un nombre de jours, et non %(value)s",
    "must be a number of percent, not %(value)s": "doit être un pourcentage, et non %(value)s",
    "must be a finite number of days, not %(value)s": "doit être un nombre fini de jours, et non %(value)s",
    "must be a finite number of percent, not %(value)s": "doit être un pourcentage fini, et non %(value)s",
    "%(value)s is out of range (at most %(maximum)s days)": "%(value)s est hors limites (au plus %(maximum)s jours)",
    "must be a mapping with name, plan and when, not %(value)s": "doit être un ensemble de clés name, plan et when, et non %(value)s",
    "must be a mapping of conditions, not %(value)s": "doit être un ensemble de conditions, et non %(value)s",
    "%(low)s is greater than %(maximum)s (%(high)s): no customer could match": "%(low)s est supérieur à %(maximum)s (%(high)s) : aucun client ne pourrait correspondre",
    'duplicate rule name "%(name)s" (also rule %(other_index)s)': "nom de règle en double « %(name)s » (c’est aussi celui de la règle %(other_index)s)",
}

#: Warnings marked in the same files, translated already (tests/domain/test_assignment.py).
_RULE_WARNINGS = {
    'rule %(index)s "%(name)s" is never used: rule %(other_index)s "%(other)s" before it '
    "matches every customer",
    'rule %(index)s "%(name)s" is never used: rule %(other_index)s "%(other)s" has the same '
    "conditions",
}
_SOURCES = (
    "relance/domain/plans/problems.py",
    "relance/domain/plans/fields.py",
    "relance/domain/plans/reading.py",
    "relance/domain/assignment_rules.py",
    "relance/domain/merge_fields.py",
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture
def french():
    previous = texts.install(lambda message: FRENCH.get(message, message))
    yield
    texts.install(previous)


def _marked() -> set[str]:
    root = Path(__file__).resolve().parents[2]
    return {
        node.args[0].value
        for source in _SOURCES
        for node in ast.walk(ast.parse((root / source).read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_"
    }


def test_every_error_template_is_marked_and_has_its_french():
    assert _marked() - _RULE_WARNINGS == set(FRENCH)


@pytest.mark.parametrize("template", sorted(FRENCH))
def test_every_error_template_renders_in_english_and_in_french(template):
    names = set(_PLACEHOLDER.findall(template))
    assert set(_PLACEHOLDER.findall(FRENCH[template])) == names  # the same parameters
    # python-format safe: only %(name)s placeholders, any other % doubled
    assert "%" not in _PLACEHOLDER.sub("", template).replace("%%", "")
    assert "%" not in _PLACEHOLDER.sub("", FRENCH[template]).replace("%%", "")
    params = {name: f"<{name}>" for name in names}
    problem = Problem("steps[1].name", template, params=tuple(params.items()))
    english = problem.message
    assert "%(" not in english
    assert all(f"<{name}>" in english for name in names)
    previous = texts.install(lambda message: FRENCH.get(message, message))
    try:
        french = problem.message  # the same problem, read again in French
    finally:
        texts.install(previous)
    assert french != english or template == FRENCH[template]
    assert all(f"<{name}>" in french for name in names)
    assert "'" not in french.replace("'5.00'", "")  # guillemets, not ASCII quotes


def _plan() -> dict:
    return {
        "code": "odd",
        "name": "Odd",
        "steps": [
            {"name": "Relance 1", "trigger": {"days": 5}, "channel": "email",
             "subject": "Facture", "body": "Merci."},
            {"name": "Relance 1", "trigger": {"days": "ten"}, "channel": "email",
             "template": "Not A Template", "recipients": ["role:nobody", "group:ops"],
             "owners": ["role:billing"], "colour": "red"},
            {"name": "Relance 3", "trigger": {"days": 12}, "channel": "letter", "body": "Merci."},
            {"name": "Relance 4", "trigger": 3, "channel": "fax", "body": "{{ customer.name "},
        ],
    }  # fmt: skip


def _errors(plan: dict) -> list[Problem]:
    with pytest.raises(PlanError) as caught:
        parse_plan(plan)
    return caught.value.problems


def test_a_plans_errors_read_in_french_and_name_the_other_step_by_its_position(french):
    problems = _errors(_plan())
    by_path = {p.path: p.message for p in problems}
    assert all(p.template in FRENCH for p in problems)
    assert by_path["steps[2].name"] == (
        "nom d’étape en double « Relance 1 » (c’est aussi celui de l’étape 1)"
    )
    assert by_path["steps[2].trigger.days"] == (
        "doit être un nombre entier de jours, et non « ten » (du texte)"
    )
    assert by_path["steps[2].template"] == (
        "« Not A Template » n’est pas un nom de modèle comme first_reminder"
    )
    assert by_path["steps[2].recipients[1]"].startswith("« role:nobody » : rôle inconnu « nobody »")
    assert by_path["steps[2].colour"].startswith("clé inconnue ; clés autorisées : name, trigger")
    assert by_path["steps[3].subject"] == ("est obligatoire pour les étapes letter sans modèle")
    assert by_path["steps[4].trigger"] == (
        "doit être un ensemble de clés comme {days: 15, from: due_date}, et non 3 (un nombre)"
    )
    assert by_path["steps[4].channel"].startswith("« fax » ne fait pas partie de : email")
    assert by_path["steps[4].body"].startswith("ligne 1, colonne 1 : ")
    warnings: list[Problem] = []
    plan = _plan()
    del plan["steps"][1:]
    plan["steps"][0]["body"] = "Merci {{ cutsomer.name }}, {{ company.nubmer }}."
    parse_plan(plan, warnings=warnings)
    body = [w.message for w in warnings if w.path == "steps[1].body"]
    assert body[0].startswith(
        "ligne 1, colonne 10 : champ de fusion inconnu « cutsomer » (champs connus : customer, "
    )
    assert body[1].startswith(
        "ligne 1, colonne 31 : champ de fusion inconnu « company.nubmer » (champs de company : "
    )
    for message in by_path.values():
        assert not re.search(r"steps\[\d", message)  # the path stays in `path`
    # the same problems, read again without a French reader: today's English
    texts.install(None)
    english = {p.path: p.message for p in problems}
    assert english["steps[2].name"] == 'duplicate step name "Relance 1" (also step 1)'
    assert english["steps[2].trigger.days"] == "must be a whole number of days, not 'ten' (text)"
    assert english["steps[3].subject"] == "is required for letter steps without a template"
    assert english["steps[2].owners[1]"] == (
        "'role:billing': contact roles cannot own a step; "
        "use owner, sales_rep, group:NAME or a staff email address"
    )
    assert "\nsteps[2].name: duplicate step name" in str(PlanError(problems))


def test_documents_tolerances_and_yaml_read_in_french(french):
    with pytest.raises(PlanError) as caught:
        parse_plans([{"code": "a"}, {"code": "a"}])
    messages = {p.path: p.message for p in caught.value.problems}
    assert messages["plans[2]: code"] == (
        "code de plan en double « a » (c’est aussi celui du plan 1)"
    )
    assert messages["plans[1]: steps"] == "il faut au moins une étape"
    plan = _plan()
    del plan["steps"][1:]
    plan["tolerance"] = {"EUR": "1", "eur": "2", "USD": "-1", "ZZZ": "1"}
    messages = {p.path: p.message for p in _errors(plan)}
    assert messages["tolerance.USD"] == "ne doit pas être négatif, et non -1"
    assert messages["tolerance.eur"] == "EUR figure deux fois"
    assert "ZZZ" in messages["tolerance.ZZZ"]
    with pytest.raises(PlanError) as caught:
        load_plans_yaml("")
    assert caught.value.problems[0].message == (
        "est vide : un plan ou une liste de plans est attendu"
    )
    with pytest.raises(PlanError) as caught:
        read_yaml("a: [1")
    assert caught.value.problems[0].message.startswith("YAML invalide : ")


def test_assignment_rule_errors_read_in_french(french):
    document = [
        {"name": "Gros clients", "plan": "standard", "when": {"risk": ["extreme"]}},
        {"name": "gros clients", "plan": "standrd",
         "when": {"min_average_days_late": 30, "max_average_days_late": 10, "segmnt": "x"}},
        {"name": "Pays", "plan": "standard", "when": {"country": ["ZZ"], "currency": []}},
    ]  # fmt: skip
    with pytest.raises(PlanError) as caught:
        parse_rules(document, plans={"standard", "strict"})
    messages = {p.path: p.message for p in caught.value.problems}
    assert all(p.template in FRENCH for p in caught.value.problems)
    assert messages["rules[1].when.risk[1]"] == (
        "« extreme » ne fait pas partie de : low, medium, high"
    )
    assert messages["rules[2].name"] == (
        "nom de règle en double « gros clients » (c’est aussi celui de la règle 1)"
    )
    assert messages["rules[2].plan"] == (
        "plan inconnu « standrd » (vouliez-vous dire « standard » ?) ; "
        "plans connus : standard, strict"
    )
    assert messages["rules[2].when.min_average_days_late"] == (
        "30 est supérieur à max_average_days_late (10) : aucun client ne pourrait correspondre"
    )
    assert messages["rules[2].when.segmnt"].startswith(
        "clé inconnue (vouliez-vous dire « segment » ?)"
    )
    assert messages["rules[3].when.country[1]"] == (
        "« ZZ » n’est pas un code pays ISO 3166 comme FR ou GB"
    )
    assert messages["rules[3].when.currency"] == (
        "ne liste aucune valeur pour currency : retirez la clé pour accepter toutes les "
        "valeurs de currency"
    )
    texts.install(None)
    assert caught.value.problems[0].message == "'extreme' is not one of low, medium, high"
    with pytest.raises(PlanError) as caught:
        load_rules_yaml("name: x")
    assert caught.value.problems[0].message.startswith("must be a list of rules")
