# ruff: noqa: RUF001  (French typographic apostrophes)
"""The engine's reasons are codes with parameters, written out at display: in English (ISO
dates) for the CLI, the API and the stored text, in the reader's language on the pages."""

from __future__ import annotations

import pickle
from datetime import date
from decimal import Decimal

import pytest

from relance.domain import engine, reasons, texts
from relance.domain.plans.model import Plan, Step
from relance.domain.reasons import CODES, Reason, reason
from relance.messaging import formatting
from relance.messaging.reasons import written

#: The French of every template (what the catalogue gives them; the report lists them too).
FRENCH = {
    "%(invoice)s due %(date)s": "%(invoice)s échue le %(date)s",
    "%(invoice)s due %(date)s + 1 day": "%(invoice)s échue le %(date)s + 1 jour",
    "%(invoice)s due %(date)s + %(days)s days": "%(invoice)s échue le %(date)s + %(days)s jours",
    "%(invoice)s due %(date)s - 1 day": "%(invoice)s échue le %(date)s - 1 jour",
    "%(invoice)s due %(date)s - %(days)s days": "%(invoice)s échue le %(date)s - %(days)s jours",
    "%(invoice)s issued %(date)s": "%(invoice)s émise le %(date)s",
    "%(invoice)s issued %(date)s + 1 day": "%(invoice)s émise le %(date)s + 1 jour",
    "%(invoice)s issued %(date)s + %(days)s days": "%(invoice)s émise le %(date)s + %(days)s jours",
    "%(invoice)s issued %(date)s - 1 day": "%(invoice)s émise le %(date)s - 1 jour",
    "%(invoice)s issued %(date)s - %(days)s days": "%(invoice)s émise le %(date)s - %(days)s jours",
    "moved 1 day: the customer's first run was on a later day (first-run policy 'step 1')": (
        "décalée d’un jour : le client est entré plus tard dans le plan (démarrage à l’étape 1)"
    ),
    "moved %(days)s days: the customer's first run was on a later day "
    "(first-run policy 'step 1')": (
        "décalée de %(days)s jours : le client est entré plus tard dans le plan "
        "(démarrage à l’étape 1)"
    ),
    "repeat %(repetition)s of the last step, every day": (
        "répétition %(repetition)s de la dernière étape, chaque jour"
    ),
    "repeat %(repetition)s of the last step, every %(every)s days": (
        "répétition %(repetition)s de la dernière étape, tous les %(every)s jours"
    ),
    "delayed by the 1-day contact rule (last contact %(contact)s)": (
        "retardée par le délai minimum d’un jour entre deux contacts "
        "(dernier contact le %(contact)s)"
    ),
    "delayed by the %(delay)s-day contact rule (last contact %(contact)s)": (
        "retardée par le délai minimum de %(delay)s jours entre deux contacts "
        "(dernier contact le %(contact)s)"
    ),
    "on hold until %(until)s": "en pause jusqu’au %(until)s",
    "missed-payment notice for a broken promise goes out today": (
        "l’avis de promesse non tenue part aujourd’hui"
    ),
    "no open invoice above the tolerance": "aucune facture ouverte au-delà de la tolérance",
    "%(step)s waits: the customer was contacted today, and one message a day is the most "
    "(rule 6)": (
        "%(step)s attend : le client a déjà été contacté aujourd’hui, et c’est un message par "
        "jour au plus (règle 6)"
    ),
    "%(step)s due since %(since)s (%(reason)s), delayed until %(until)s by the 1-day contact "
    "rule (last contact %(contact)s)": (
        "%(step)s prévue depuis le %(since)s (%(reason)s), reportée au %(until)s par le délai "
        "minimum d’un jour entre deux contacts (dernier contact le %(contact)s)"
    ),
    "%(step)s due since %(since)s (%(reason)s), delayed until %(until)s by the %(delay)s-day "
    "contact rule (last contact %(contact)s)": (
        "%(step)s prévue depuis le %(since)s (%(reason)s), reportée au %(until)s par le délai "
        "minimum de %(delay)s jours entre deux contacts (dernier contact le %(contact)s)"
    ),
    "next: %(step)s on %(on)s (%(trigger)s)": "prochaine étape : %(step)s le %(on)s (%(trigger)s)",
    "next: %(step)s on %(on)s (%(trigger)s, moved 1 day by the first-run policy 'step 1')": (
        "prochaine étape : %(step)s le %(on)s (%(trigger)s, décalée d’un jour par le démarrage "
        "à l’étape 1)"
    ),
    "next: %(step)s on %(on)s (%(trigger)s, moved %(days)s days by the first-run policy "
    "'step 1')": (
        "prochaine étape : %(step)s le %(on)s (%(trigger)s, décalée de %(days)s jours par le "
        "démarrage à l’étape 1)"
    ),
    "next: repeat %(repetition)s of %(step)s on %(on)s": (
        "prochaine étape : répétition %(repetition)s de %(step)s le %(on)s"
    ),
    "every step of the plan has run for %(invoice)s": (
        "toutes les étapes du plan ont été faites pour %(invoice)s"
    ),
    "promise to pay by %(pay_by)s broken": "promesse de paiement au %(pay_by)s non tenue",
    "superseded by %(step)s": "remplacée par %(step)s",
    "sent now by %(who)s, before its date and whatever the contact delay": (
        "envoyée maintenant par %(who)s, avant sa date et sans attendre le délai entre deux "
        "contacts"
    ),
    "campaign '%(campaign)s', wave %(wave)s": "campagne « %(campaign)s », vague %(wave)s",
    "explicit assignment": "plan choisi pour ce client",
    "rule '%(rule)s' (%(conditions)s)": "règle « %(rule)s » (%(conditions)s)",
    "rule '%(rule)s' (matches every customer)": "règle « %(rule)s » (tous les clients)",
    "no rule matched": "aucune règle ne correspond",
    "segment %(value)s": "segment %(value)s",
    "risk %(value)s": "risque %(value)s",
    "country %(value)s": "pays %(value)s",
    "currency %(value)s": "devise %(value)s",
    "credit limit use %(figure)s%% between %(low)s%% and %(high)s%%": (
        "utilisation de l’encours autorisé %(figure)s\u00a0%% entre %(low)s\u00a0%% et "
        "%(high)s\u00a0%%"
    ),
    "credit limit use %(figure)s%% ≥ %(low)s%%": (
        "utilisation de l’encours autorisé %(figure)s\u00a0%% ≥ %(low)s\u00a0%%"
    ),
    "credit limit use %(figure)s%% ≤ %(high)s%%": (
        "utilisation de l’encours autorisé %(figure)s\u00a0%% ≤ %(high)s\u00a0%%"
    ),
    "average days late %(figure)s between %(low)s and %(high)s": (
        "retard moyen de %(figure)s jours, entre %(low)s et %(high)s"
    ),
    "average days late %(figure)s ≥ %(low)s": "retard moyen de %(figure)s jours ≥ %(low)s",
    "average days late %(figure)s ≤ %(high)s": "retard moyen de %(figure)s jours ≤ %(high)s",
}

FIRST = date(2026, 10, 1)


@pytest.fixture
def french():
    previous = texts.install(lambda message: FRENCH.get(message, message))
    yield
    texts.install(previous)


def _example(code: str, count: int = 30) -> Reason:
    """A reason of `code` with a value for every parameter its templates name."""
    spec = CODES[code]
    params: dict[str, object] = {}
    for name in spec.names:
        if name in spec.dates:
            params[name] = FIRST
        elif name in spec.numbers:
            params[name] = Decimal("85.5")
        elif name in spec.reasons:
            params[name] = reason(reasons.DUE_AFTER, invoice="F-7", date=FIRST, days=30)
        elif name == spec.count or name in ("days", "delay", "every", "repetition", "wave"):
            params[name] = count
        else:
            params[name] = "Relance 2"
    if spec.count:
        params[spec.count] = count
    return reason(code, **params)


@pytest.mark.parametrize("code", sorted(CODES))
def test_each_code_names_its_parameters_and_reads_in_english_and_french(code, french):
    spec = CODES[code]
    for count in (1, 30):
        why = _example(code, count)
        assert set(why.clauses[0].params) >= spec.names
        english = reasons.write(why.clauses, day=lambda d: formatting.day(d, "en"))
        french_text = written(why, "fr")
        assert "%(" not in english
        assert "%(" not in french_text
        if FRENCH[spec.template(why.clauses[0].params)] != spec.template(why.clauses[0].params):
            assert english != french_text, code
        assert "2026-10-01" not in french_text
        assert "2026-10-01" not in english
        if spec.dates:
            assert "1er octobre 2026" in french_text
            assert "1 October 2026" in english
        if spec.numbers:
            assert "85,5" in french_text
            assert "85.5" in english
        if spec.reasons and code != reasons.PLAN_RULE:
            assert "F-7 échue le 1er octobre 2026 + 30 jours" in french_text


def test_every_template_has_its_french_and_plurals_differ():
    templates = {t for spec in CODES.values() for t in (spec.one, spec.many) if t}
    assert templates == set(FRENCH)
    for code, spec in CODES.items():
        if spec.count:
            assert spec.many, code
            assert spec.one != spec.many, code
            assert _example(code, 1) != _example(code, 2)


def test_why_a_plan_was_chosen_reads_in_french_with_french_figures(french):
    conditions = Reason(
        reasons.Clause(reasons.CONDITION_RISK, {"value": "high"}),
        reasons.Clause(
            reasons.CREDIT_USE_AT_LEAST, {"figure": Decimal("85.5"), "low": Decimal("80")}
        ),
    )
    why = reason(reasons.PLAN_RULE, rule="Risqués", conditions=conditions)
    assert why == "rule 'Risqués' (risk high, credit limit use 85.5% ≥ 80%)"
    assert written(why, "fr") == (
        "règle « Risqués » (risque high, utilisation de l’encours autorisé 85,5\u00a0% ≥ 80\u00a0%)"
    )
    assert reasons.from_json(why.as_json()) == why


def test_a_reason_is_its_english_text_with_iso_dates():
    why = reason(reasons.DUE_AFTER, invoice="F-1", date=date(2026, 10, 20), days=30).and_(
        reasons.DELAYED, delay=15, contact=date(2026, 11, 2)
    )
    assert why == (
        "F-1 due 2026-10-20 + 30 days, delayed by the 15-day contact rule (last contact 2026-11-02)"
    )
    assert type(str(why)) is str
    assert why.code == reasons.DUE_AFTER
    assert (
        reason(reasons.DUE_AFTER, invoice="F-1", date=FIRST, days=1) == "F-1 due 2026-10-01 + 1 day"
    )


def test_a_reason_round_trips_through_json_and_pickle(french):
    trigger = reason(reasons.DUE_BEFORE, invoice="F-1", date=FIRST, days=5)
    why = reason(reasons.NEXT_STEP, step="Relance", on=date(2026, 9, 26), trigger=trigger)
    again = reasons.from_json(why.as_json())
    assert again is not None
    assert again == why
    assert again.clauses == why.clauses
    assert pickle.loads(pickle.dumps(why)).clauses == why.clauses
    assert written(again, "fr") == (
        "prochaine étape : Relance le 26 septembre 2026 (F-1 échue le 1er octobre 2026 - 5 jours)"
    )


def test_a_text_stored_before_codes_or_with_an_unknown_code_is_shown_as_written():
    assert written("F-1 due 2025-01-01", "fr") == "F-1 due 2025-01-01"
    assert written("F-1 due 2025-01-01", "fr", []) == "F-1 due 2025-01-01"
    assert written("kept", "fr", [{"code": "no.such.code", "params": {}}]) == "kept"
    assert written("kept", "fr", [{"code": reasons.DUE, "params": {}}]) == "kept"  # a param lost
    assert reasons.stored("plain") == ("plain", [])


def test_the_engine_gives_codes_that_read_in_french(french):
    plan = Plan(
        code="p",
        name="P",
        steps=(
            Step("Relance 1", 15, "due_date", "email", recipients=("billing",)),
            Step("Relance 2", 30, "due_date", "email", recipients=("billing",)),
        ),
        min_contact_delay_days=15,
    )
    item = engine.Item("1", "F-1", date(2026, 9, 1), FIRST, "EUR", Decimal(100))
    account = engine.Account("C", (item,), last_contact=date(2026, 10, 10))
    waiting = engine.evaluate(plan, account, [], date(2026, 10, 17)).waiting
    assert isinstance(waiting, Reason)
    assert waiting.code == reasons.WAITS_FOR_CONTACT_RULE
    assert written(waiting, "fr") == (
        "Relance 1 prévue depuis le 16 octobre 2026 (F-1 échue le 1er octobre 2026 + 15 jours), "
        "reportée au 25 octobre 2026 par le délai minimum de 15 jours entre deux contacts "
        "(dernier contact le 10 octobre 2026)"
    )
    action = engine.evaluate(plan, account, [], date(2026, 10, 25)).action
    assert action is not None
    assert [c.code for c in action.reason.clauses] == [reasons.DUE_AFTER, reasons.DELAYED]
    held = engine.evaluate(plan, engine.Account("C", (item,), hold_until=FIRST), [], FIRST)
    assert written(held.waiting, "fr") == "en pause jusqu’au 1er octobre 2026"
    texts.install(None)
    assert written(held.waiting, "en") == "on hold until 1 October 2026"
