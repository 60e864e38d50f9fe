"""Why the engine decides what it decides (DESIGN rule 9), as codes and parameters.

A credit controller reads the reason in their own language, with dates as they write them, so
the engine does not write sentences: it names a code and its values (an invoice number, a date,
a number of days) and the adapter writes them out at display (`messaging.reasons`), translated
through the catalogue (the templates below are marked with `N_`). A reason is also its English
text with ISO dates, a `str`: what the CLI, the API, the run reports and the stored `reason`
columns carry, as they always did. `as_json` is what is stored beside that text, so that a
reason recorded today is still written out in the reader's language tomorrow.

A reason is one clause or several joined by commas ("F-1 due 2026-10-20 + 30 days, delayed by
the 15-day contact rule (last contact 2026-11-02)"); a clause may hold another reason as a
parameter (why a step waits names why it was due).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from relance.domain.texts import N_


@dataclass(frozen=True, slots=True)
class Spec:
    """How one code is written: its English template (`one` when the `count` parameter is 1,
    `many` otherwise; `one` alone when nothing is counted), which parameters are dates and
    which are reasons of their own."""

    one: str
    many: str = ""
    count: str = ""
    dates: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()  # decimals written as the reader writes them ("85,5")

    def template(self, params: Mapping[str, Any]) -> str:
        if self.count and params.get(self.count) != 1:
            return self.many
        return self.one

    @property
    def names(self) -> set[str]:
        """Every parameter the templates name."""
        return set(re.findall(r"%\((\w+)\)s", self.one + self.many))


DUE = "due"
DUE_AFTER = "due.after"
DUE_BEFORE = "due.before"
ISSUED = "issued"
ISSUED_AFTER = "issued.after"
ISSUED_BEFORE = "issued.before"
MOVED = "first_run.moved"
REPEAT = "repeat"
DELAYED = "contact_rule.delayed"
ON_HOLD = "on_hold"
BROKEN_PROMISE_TODAY = "broken_promise.today"
NOTHING_OPEN = "nothing_open"
CONTACTED_TODAY = "contacted_today"
WAITS_FOR_CONTACT_RULE = "contact_rule.waits"
NEXT_STEP = "next.step"
NEXT_STEP_MOVED = "next.step_moved"
NEXT_REPEAT = "next.repeat"
ALL_DONE = "all_done"
PROMISE_BROKEN = "promise.broken"
SUPERSEDED_BY = "superseded_by"
SENT_NOW = "sent_now"
CAMPAIGN_WAVE = "campaign.wave"
PLAN_EXPLICIT = "plan.explicit"
PLAN_RULE = "plan.rule"
PLAN_RULE_ALL = "plan.rule_all"
PLAN_NO_RULE = "plan.no_rule"
CONDITION_SEGMENT = "condition.segment"
CONDITION_RISK = "condition.risk"
CONDITION_COUNTRY = "condition.country"
CONDITION_CURRENCY = "condition.currency"
CREDIT_USE_BETWEEN = "condition.credit_use.between"
CREDIT_USE_AT_LEAST = "condition.credit_use.at_least"
CREDIT_USE_AT_MOST = "condition.credit_use.at_most"
DAYS_LATE_BETWEEN = "condition.days_late.between"
DAYS_LATE_AT_LEAST = "condition.days_late.at_least"
DAYS_LATE_AT_MOST = "condition.days_late.at_most"
_RANGE = ("figure", "low", "high")

#: Every code the engine and the cycle give, with its English templates. Codes are stored
#: (Execution.reason_data, ForecastEntry.reason_data): never rename one, add a new one.
CODES: dict[str, Spec] = {
    DUE: Spec(N_("%(invoice)s due %(date)s"), dates=("date",)),
    DUE_AFTER: Spec(
        N_("%(invoice)s due %(date)s + 1 day"),
        N_("%(invoice)s due %(date)s + %(days)s days"),
        "days",
        dates=("date",),
    ),
    DUE_BEFORE: Spec(
        N_("%(invoice)s due %(date)s - 1 day"),
        N_("%(invoice)s due %(date)s - %(days)s days"),
        "days",
        dates=("date",),
    ),
    ISSUED: Spec(N_("%(invoice)s issued %(date)s"), dates=("date",)),
    ISSUED_AFTER: Spec(
        N_("%(invoice)s issued %(date)s + 1 day"),
        N_("%(invoice)s issued %(date)s + %(days)s days"),
        "days",
        dates=("date",),
    ),
    ISSUED_BEFORE: Spec(
        N_("%(invoice)s issued %(date)s - 1 day"),
        N_("%(invoice)s issued %(date)s - %(days)s days"),
        "days",
        dates=("date",),
    ),
    MOVED: Spec(
        N_("moved 1 day: the customer's first run was on a later day (first-run policy 'step 1')"),
        N_(
            "moved %(days)s days: the customer's first run was on a later day "
            "(first-run policy 'step 1')"
        ),
        "days",
    ),
    REPEAT: Spec(
        N_("repeat %(repetition)s of the last step, every day"),
        N_("repeat %(repetition)s of the last step, every %(every)s days"),
        "every",
    ),
    DELAYED: Spec(
        N_("delayed by the 1-day contact rule (last contact %(contact)s)"),
        N_("delayed by the %(delay)s-day contact rule (last contact %(contact)s)"),
        "delay",
        dates=("contact",),
    ),
    ON_HOLD: Spec(N_("on hold until %(until)s"), dates=("until",)),
    BROKEN_PROMISE_TODAY: Spec(N_("missed-payment notice for a broken promise goes out today")),
    NOTHING_OPEN: Spec(N_("no open invoice above the tolerance")),
    CONTACTED_TODAY: Spec(
        N_(
            "%(step)s waits: the customer was contacted today, and one message a day is "
            "the most (rule 6)"
        )
    ),
    WAITS_FOR_CONTACT_RULE: Spec(
        N_(
            "%(step)s due since %(since)s (%(reason)s), delayed until %(until)s by the "
            "1-day contact rule (last contact %(contact)s)"
        ),
        N_(
            "%(step)s due since %(since)s (%(reason)s), delayed until %(until)s by the "
            "%(delay)s-day contact rule (last contact %(contact)s)"
        ),
        "delay",
        dates=("since", "until", "contact"),
        reasons=("reason",),
    ),
    NEXT_STEP: Spec(
        N_("next: %(step)s on %(on)s (%(trigger)s)"), dates=("on",), reasons=("trigger",)
    ),
    NEXT_STEP_MOVED: Spec(
        N_("next: %(step)s on %(on)s (%(trigger)s, moved 1 day by the first-run policy 'step 1')"),
        N_(
            "next: %(step)s on %(on)s (%(trigger)s, moved %(days)s days by the first-run "
            "policy 'step 1')"
        ),
        "days",
        dates=("on",),
        reasons=("trigger",),
    ),
    NEXT_REPEAT: Spec(N_("next: repeat %(repetition)s of %(step)s on %(on)s"), dates=("on",)),
    ALL_DONE: Spec(N_("every step of the plan has run for %(invoice)s")),
    PROMISE_BROKEN: Spec(N_("promise to pay by %(pay_by)s broken"), dates=("pay_by",)),
    SUPERSEDED_BY: Spec(N_("superseded by %(step)s")),
    SENT_NOW: Spec(N_("sent now by %(who)s, before its date and whatever the contact delay")),
    CAMPAIGN_WAVE: Spec(N_("campaign '%(campaign)s', wave %(wave)s")),
    # Why a customer is on a plan (domain.assignment.choose_plan)
    PLAN_EXPLICIT: Spec(N_("explicit assignment")),
    PLAN_RULE: Spec(N_("rule '%(rule)s' (%(conditions)s)"), reasons=("conditions",)),
    PLAN_RULE_ALL: Spec(N_("rule '%(rule)s' (matches every customer)")),
    PLAN_NO_RULE: Spec(N_("no rule matched")),
    CONDITION_SEGMENT: Spec(N_("segment %(value)s")),
    CONDITION_RISK: Spec(N_("risk %(value)s")),
    CONDITION_COUNTRY: Spec(N_("country %(value)s")),
    CONDITION_CURRENCY: Spec(N_("currency %(value)s")),
    CREDIT_USE_BETWEEN: Spec(
        N_("credit limit use %(figure)s%% between %(low)s%% and %(high)s%%"), numbers=_RANGE
    ),
    CREDIT_USE_AT_LEAST: Spec(N_("credit limit use %(figure)s%% ≥ %(low)s%%"), numbers=_RANGE),
    CREDIT_USE_AT_MOST: Spec(N_("credit limit use %(figure)s%% ≤ %(high)s%%"), numbers=_RANGE),
    DAYS_LATE_BETWEEN: Spec(
        N_("average days late %(figure)s between %(low)s and %(high)s"), numbers=_RANGE
    ),
    DAYS_LATE_AT_LEAST: Spec(N_("average days late %(figure)s ≥ %(low)s"), numbers=_RANGE),
    DAYS_LATE_AT_MOST: Spec(N_("average days late %(figure)s ≤ %(high)s"), numbers=_RANGE),
}


def plain(number: Decimal) -> str:
    """A number without exponent or useless trailing zeros: 30, 2.5, 0.04 (the English text)."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class Clause(NamedTuple):
    """One code and its parameters (dates as dates, nested reasons as `Reason`). A named tuple:
    the engine makes one for every customer every day, and a frozen dataclass costs more."""

    code: str
    params: Mapping[str, Any]


def write(
    clauses: Iterable[Clause],
    *,
    day: Callable[[date], str] | None = None,
    translate: Callable[[str], str] | None = None,
    number: Callable[[Decimal], str] | None = None,
) -> str:
    """The clauses as one sentence: each template translated by `translate` (none: English),
    its dates written by `day` (none: ISO), its decimals by `number` (none: `plain`), its
    nested reasons written the same way, clauses
    joined by commas. (The engine builds a reason for every customer every day: the English
    path takes a nested reason's text as it is.)"""
    written = []
    for code, values in clauses:
        spec = CODES[code]
        if spec.dates or spec.reasons or spec.numbers:
            values = dict(values)
            for name in spec.dates:
                value = values.get(name)
                if isinstance(value, date):
                    values[name] = day(value) if day is not None else value.isoformat()
            for name in spec.numbers:
                value = values.get(name)
                if isinstance(value, Decimal):
                    values[name] = number(value) if number is not None else plain(value)
            if day is not None or translate is not None or number is not None:
                for name in spec.reasons:
                    nested = values.get(name)
                    if isinstance(nested, Reason):
                        values[name] = write(
                            nested.clauses, day=day, translate=translate, number=number
                        )
        template = spec.many if spec.count and values.get(spec.count) != 1 else spec.one
        written.append((translate(template) if translate is not None else template) % values)
    return written[0] if len(written) == 1 else ", ".join(written)


def _rebuild(clauses: tuple[Clause, ...]) -> Reason:
    return Reason(*clauses)


class Reason(str):
    """A reason: its English text (ISO dates) as a `str`, its clauses in `clauses`.

    Equal to its English text, so whatever compared, searched or stored the text still does."""

    clauses: tuple[Clause, ...]

    def __new__(cls, *clauses: Clause) -> Reason:
        made = super().__new__(cls, write(clauses))
        made.clauses = clauses
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.clauses,))

    def and_(self, code: str, **params: Any) -> Reason:
        """This reason followed by one more clause."""
        return Reason(*self.clauses, Clause(code, params))

    def as_json(self) -> list[dict[str, Any]]:
        """The clauses as JSON values: dates in ISO, nested reasons as their own lists."""
        return [
            {"code": c.code, "params": {k: _encode(v) for k, v in c.params.items()}}
            for c in self.clauses
        ]

    @property
    def code(self) -> str:
        """The first clause's code: what the reason is mainly about."""
        return self.clauses[0].code if self.clauses else ""


def reason(code: str, **params: Any) -> Reason:
    """A reason of one clause."""
    return Reason(Clause(code, params))


def stored(value: object) -> tuple[str, list[dict[str, Any]]]:
    """What a model stores of a reason: its English text (a plain `str`) and its codes
    (`as_json`; empty for a text that is not a `Reason`)."""
    if isinstance(value, Reason):
        return str(value), value.as_json()
    return str(value or ""), []


def _encode(value: Any) -> Any:
    if isinstance(value, Reason):
        return value.as_json()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def from_json(data: Any) -> Reason | None:
    """The reason stored by `as_json`; None when there is none or it cannot be read (a code
    this version does not know, a parameter missing): the stored text is shown then."""
    if not data or not isinstance(data, list):
        return None
    clauses = []
    try:
        for entry in data:
            spec = CODES[entry["code"]]
            params = dict(entry.get("params") or {})
            for name in spec.dates:
                if isinstance(params.get(name), str):
                    params[name] = date.fromisoformat(params[name])
            for name in spec.numbers:
                if isinstance(params.get(name), str):
                    params[name] = Decimal(params[name])
            for name in spec.reasons:
                nested = from_json(params.get(name))
                if nested is None:
                    return None
                params[name] = nested
            clauses.append(Clause(entry["code"], params))
        return Reason(*clauses)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None
