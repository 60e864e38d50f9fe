"""Assignment rules files: reading the YAML a finance team writes, every mistake reported at once
with its path (`rules[2].when.risk[1]`), and writing rules back in the same form.

The strict loader (duplicate keys refused), the problem collector, the unknown-key check and the
value wording are shared with plan YAML on purpose: both files are written by the same people and
should fail in the same words. What the rules mean is domain/assignment.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from relance.domain import countries
from relance.domain.assignment import (
    LIST_CONDITIONS,
    NUMERIC_CONDITIONS,
    RISKS,
    Rule,
    plain,
)
from relance.domain.money import InvalidCurrency, normalize_currency
from relance.domain.plans.fields import check_keys
from relance.domain.plans.model import MAX_DAYS
from relance.domain.plans.problems import PlanError, Problem, Report, error, is_int, read_yaml
from relance.domain.plans.problems import describe as describe_value
from relance.domain.texts import N_, Phrase, phrase

__all__ = ["RULE_KEYS", "WHEN_KEYS", "load_rules_yaml", "parse_rules", "rules_to_dict"]

RULE_KEYS: Final[tuple[str, ...]] = ("name", "plan", "when")
WHEN_KEYS: Final[tuple[str, ...]] = (*LIST_CONDITIONS, *NUMERIC_CONDITIONS)

#: Same shape as plan codes (plans.py): rules refer to plans by code.
_PLAN_CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")


# --------------------------------------------------------------------------------------------
# Parsing and validation


def _required_text(data: Mapping[Any, Any], key: str, base: str, c: Report) -> str | None:
    path = f"{base}.{key}"
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        c.error(path, N_("is required"))
        return None
    if not isinstance(value, str):
        c.error(
            path, N_("must be text, not %(value)s (quote it in YAML)"), value=describe_value(value)
        )
        return None
    text = value.strip()
    if len(text.splitlines()) > 1:
        c.error(path, N_("must fit on a single line"))
        return None
    return text


def _plan_code(
    data: Mapping[Any, Any], base: str, c: Report, known: Collection[str] | None
) -> str | None:
    code = _required_text(data, "plan", base, c)
    if code is None:
        return None
    path = f"{base}.plan"
    if not _PLAN_CODE.fullmatch(code):
        c.error(
            path,
            N_("'%(code)s' is not a plan code (lower-case letters, digits, '-' and '_')"),
            code=code,
        )
        return None
    if known is not None and code not in known:
        close = difflib.get_close_matches(code, sorted(known), n=1, cutoff=0.6)
        if not known:
            c.error(path, N_("unknown plan '%(code)s'; known plans: none loaded"), code=code)
        elif close:
            c.error(
                path,
                N_("unknown plan '%(code)s' (did you mean '%(close)s'?); known plans: %(known)s"),
                code=code,
                close=close[0],
                known=", ".join(sorted(known)),
            )
        else:
            c.error(
                path,
                N_("unknown plan '%(code)s'; known plans: %(known)s"),
                code=code,
                known=", ".join(sorted(known)),
            )
        return None
    return code


def _normalise_listed(key: str, text: str) -> tuple[str | None, Phrase | None]:
    """(normalised value, None) or (None, reason) for one entry of a list condition."""
    if key == "risk":
        risk = text.lower()
        if risk not in RISKS:
            return None, phrase(
                N_("%(value)s is not one of %(choices)s"),
                value=phrase(N_("'%(value)s'"), value=text),
                choices=", ".join(RISKS),
            )
        return risk, None
    if key == "country":
        country = text.upper()
        if not countries.is_country(country):
            return None, phrase(
                N_("'%(value)s' is not an ISO 3166 country code such as FR or GB"), value=text
            )
        return country, None
    if key == "currency":
        try:
            return normalize_currency(text), None
        except InvalidCurrency as exc:
            return None, phrase(exc.template, **exc.params)
    if len(text.splitlines()) > 1:
        return None, phrase(N_("must fit on a single line"))
    return text, None


def _listed(raw: object, key: str, base: str, c: Report) -> tuple[str, ...] | None:
    """Read a list condition; a single text value is accepted as a list of one."""
    path = f"{base}.{key}"
    items: list[object]
    if isinstance(raw, str):
        items = [raw]
        positions: list[str] = [path]
    elif isinstance(raw, list | tuple):
        if not raw:
            c.error(path, N_("lists no %(key)s: remove the key to accept any %(key)s"), key=key)
            return None
        items = list(raw)
        positions = [f"{path}[{i}]" for i in range(1, len(items) + 1)]
    else:
        c.error(
            path,
            N_("must be a list such as [%(example)s], not %(value)s"),
            example=_example(key),
            value=describe_value(raw),
        )
        return None
    values: list[str] = []
    ok = True
    for item, item_path in zip(items, positions, strict=True):
        if not isinstance(item, str) or not item.strip():
            shown = phrase(N_("empty text")) if isinstance(item, str) else describe_value(item)
            c.error(item_path, N_("must be text, not %(value)s"), value=shown)
            ok = False
            continue
        value, reason = _normalise_listed(key, item.strip())
        if value is None:
            assert reason is not None  # an entry refused always says why
            c.error(item_path, reason)
            ok = False
        elif value.casefold() in (v.casefold() for v in values):
            c.error(item_path, N_("'%(value)s' is listed twice"), value=value)
            ok = False
        else:
            values.append(value)
    return tuple(values) if ok else None


def _example(key: str) -> str:
    return {"segment": "enterprise", "risk": "high", "country": "FR", "currency": "EUR"}[key]


def _number(raw: object, key: str, base: str, c: Report) -> Decimal | None:
    """Read a non-negative number (int, decimal or quoted decimal); None means invalid."""
    path = f"{base}.{key}"
    days = key.endswith("days_late")
    wrong = (
        N_("must be a number of days, not %(value)s")
        if days
        else N_("must be a number of percent, not %(value)s")
    )
    if isinstance(raw, bool) or not (is_int(raw) or isinstance(raw, float | Decimal | str)):
        c.error(path, wrong, value=describe_value(raw))
        return None
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        c.error(path, wrong, value=describe_value(raw))
        return None
    if not number.is_finite():
        c.error(
            path,
            N_("must be a finite number of days, not %(value)s")
            if days
            else N_("must be a finite number of percent, not %(value)s"),
            value=raw,
        )
        return None
    if number < 0:
        c.error(path, N_("must not be negative, not %(value)s"), value=raw)
        return None
    if days and number > MAX_DAYS:
        c.error(
            path,
            N_("%(value)s is out of range (at most %(maximum)s days)"),
            value=raw,
            maximum=MAX_DAYS,
        )
        return None
    return number.copy_abs()  # turns -0 into 0


def _rule(raw: object, index: int, c: Report, known: Collection[str] | None) -> Rule | None:
    base = f"rules[{index}]"
    if not isinstance(raw, Mapping):
        c.error(
            base,
            N_("must be a mapping with name, plan and when, not %(value)s"),
            value=describe_value(raw),
        )
        return None
    errors_before = len(c.errors)
    check_keys(raw, RULE_KEYS, base, c)
    name = _required_text(raw, "name", base, c)
    plan = _plan_code(raw, base, c, known)

    when = raw.get("when")
    when_base = f"{base}.when"
    conditions: dict[str, Any] = {}
    if when is not None and not isinstance(when, Mapping):
        c.error(
            when_base,
            N_("must be a mapping of conditions, not %(value)s"),
            value=describe_value(when),
        )
    elif when is not None:
        check_keys(when, WHEN_KEYS, when_base, c)
        for key, attribute in LIST_CONDITIONS.items():
            if when.get(key) is not None:
                conditions[attribute] = _listed(when[key], key, when_base, c)
        for key in NUMERIC_CONDITIONS:
            if when.get(key) is not None:
                conditions[key] = _number(when[key], key, when_base, c)
        for figure in ("credit_limit_use", "average_days_late"):
            low, high = conditions.get(f"min_{figure}"), conditions.get(f"max_{figure}")
            if low is not None and high is not None and low > high:
                c.error(
                    f"{when_base}.min_{figure}",
                    N_("%(low)s is greater than %(maximum)s (%(high)s): no customer could match"),
                    low=plain(low),
                    maximum=f"max_{figure}",
                    high=plain(high),
                )

    if len(c.errors) != errors_before or name is None or plan is None:
        return None
    return Rule(plan=plan, name=name, **conditions)


def _conditions(rule: Rule) -> tuple[object, ...]:
    return tuple(getattr(rule, f.name) for f in fields(rule) if f.name not in ("plan", "name"))


def parse_rules(
    document: object,
    *,
    plans: Collection[str] | None = None,
    warnings: list[Problem] | None = None,
) -> list[Rule]:
    """Validate a list of rule mappings (the YAML form) and return the `Rule`s, in order.

    Raises `PlanError` listing every error, with paths such as `rules[2].when.risk[1]` (1-based,
    as people count): unknown keys, wrong types, booleans or negative numbers where a number is
    expected, min greater than max, a missing plan or name, duplicate names. When `plans` (the
    known plan codes) is given, a rule naming another plan is an error too. If `warnings` is a
    list, rules that can never be reached (after a catch-all, or with the same conditions as an
    earlier rule) are reported in it: allowed, but certainly not meant.
    """
    if document is None:
        raise PlanError([error("document", N_("is empty: expected a list of rules"))])
    if not isinstance(document, list | tuple):
        raise PlanError(
            [
                error(
                    "document",
                    N_("must be a list of rules (- name: …, plan: …, when: …), not %(value)s"),
                    value=describe_value(document),
                )
            ]
        )
    c = Report("")
    rules: list[Rule] = []
    positions: list[int] = []
    seen_names: dict[str, int] = {}
    for index, raw in enumerate(document, start=1):
        rule = _rule(raw, index, c, plans)
        if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
            key = raw["name"].strip().casefold()
            if key and key in seen_names:
                # The other rule named as the rules page shows it (its position).
                c.error(
                    f"rules[{index}].name",
                    N_('duplicate rule name "%(name)s" (also rule %(other_index)s)'),
                    name=raw["name"].strip(),
                    other_index=seen_names[key],
                )
                rule = None
            elif key:
                seen_names[key] = index
        if rule is not None:
            rules.append(rule)
            positions.append(index)
    if c.errors:
        raise PlanError(c.errors)
    if warnings is not None:
        warnings.extend(_unreachable(rules, positions))
    return rules


def _unreachable(rules: Sequence[Rule], positions: Sequence[int]) -> list[Problem]:
    c = Report("")
    earlier: dict[tuple[object, ...], int] = {}
    catch_all: int | None = None
    names = dict(zip(positions, (rule.name for rule in rules), strict=True))
    for rule, index in zip(rules, positions, strict=True):
        path = f"rules[{index}]"
        # The rules named by their position and name, as the rules page lists them (the path
        # stays for the CLI and the API).
        named = {"index": index, "name": rule.name}
        if catch_all is not None:
            c.warn(
                path,
                N_(
                    'rule %(index)s "%(name)s" is never used: rule %(other_index)s '
                    '"%(other)s" before it matches every customer'
                ),
                **named,
                other_index=catch_all,
                other=names[catch_all],
            )
            continue
        same = earlier.get(_conditions(rule))
        if same is not None:
            c.warn(
                path,
                N_(
                    'rule %(index)s "%(name)s" is never used: rule %(other_index)s '
                    '"%(other)s" has the same conditions'
                ),
                **named,
                other_index=same,
                other=names[same],
            )
        else:
            earlier[_conditions(rule)] = index
        if rule.is_catch_all:
            catch_all = index
    return c.warnings


def load_rules_yaml(
    text: str,
    *,
    plans: Collection[str] | None = None,
    warnings: list[Problem] | None = None,
) -> list[Rule]:
    """Parse YAML text holding a list of rules; see `parse_rules`.

    Loading is safe and refuses duplicate keys (the same loader as plan YAML); syntax errors
    become a `PlanError` whose path gives the line and column.
    """
    document = read_yaml(text)
    return parse_rules(document, plans=plans, warnings=warnings)


def rules_to_dict(rules: Iterable[Rule]) -> list[dict[str, Any]]:
    """The YAML form of the rules, for storage and export; numbers as exact strings.

    Only conditions that constrain are written, so a catch-all reads `when: {}`.
    `parse_rules(rules_to_dict(rules)) == rules` for every list `parse_rules` produced.
    """
    document: list[dict[str, Any]] = []
    for rule in rules:
        when: dict[str, Any] = {}
        for key, attribute in LIST_CONDITIONS.items():
            values = getattr(rule, attribute)
            if values:
                when[key] = list(values)
        for key in NUMERIC_CONDITIONS:
            number = getattr(rule, key)
            if number is not None:
                when[key] = f"{number:f}"
        document.append({"name": rule.name, "plan": rule.plan, "when": when})
    return document
