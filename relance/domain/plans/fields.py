"""Reading one value of a plan: each reader checks what a person wrote, reports what is wrong
(on the `Report`, by path) and returns the normalised value, or None when it is wrong."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final, TypeVar, cast

from relance.domain.merge_fields import check_template
from relance.domain.money import InvalidAmount, InvalidCurrency, normalize_currency, parse_amount
from relance.domain.plans.model import (
    CONTACT_ROLES,
    DUE_DATE,
    MAX_DAYS,
    OWNER,
    SALES_REP,
    TRIGGER_FROMS,
    TriggerFrom,
)
from relance.domain.plans.problems import Report, describe, is_int, join
from relance.domain.texts import N_, Phrase, phrase

PLAN_KEYS: Final = (
    "code",
    "name",
    "min_contact_delay_days",
    "tolerance",
    "repeat_last_every_days",
    "repeat_last_max",
    "steps",
)
STEP_KEYS: Final = (
    "name",
    "trigger",
    "channel",
    "mode",
    "recipients",
    "cc",
    "owners",
    "attach",
    "template",
    "subject",
    "body",
    "notify_sales_rep_days_before",
    "variant_b",
)
TRIGGER_KEYS: Final = ("days", "from")
VARIANT_KEYS: Final = ("share", "template", "subject", "body")
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def check_keys(data: Mapping[Any, Any], allowed: tuple[str, ...], base: str, r: Report) -> None:
    for key in data:
        if isinstance(key, str) and key in allowed:
            continue
        close = (
            difflib.get_close_matches(key, allowed, n=1, cutoff=0.6) if isinstance(key, str) else []
        )
        if close:
            r.error(
                join(base, str(key)),
                N_("unknown key (did you mean '%(close)s'?); allowed keys: %(allowed)s"),
                close=close[0],
                allowed=", ".join(allowed),
            )
        else:
            r.error(
                join(base, str(key)),
                N_("unknown key; allowed keys: %(allowed)s"),
                allowed=", ".join(allowed),
            )


def text(
    data: Mapping[Any, Any],
    key: str,
    base: str,
    r: Report,
    *,
    required: bool | Phrase,
    single_line: bool = True,
    strip: bool = True,
) -> str | None:
    """Read a text value; None means invalid (already reported). Missing/null/blank -> "".
    `required` may be a `Phrase`: what to say when the value is missing."""
    path = join(base, key)
    value = data.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        if isinstance(value, Mapping | list | tuple):
            r.error(path, N_("must be text, not %(value)s"), value=describe(value))
        else:
            r.error(
                path, N_("must be text, not %(value)s (quote it in YAML)"), value=describe(value)
            )
        return None
    if strip:
        value = value.strip()
    if not value.strip():
        if required:
            r.error(path, required if isinstance(required, Phrase) else N_("is required"))
            return None
        return ""
    if single_line and len(value.strip().splitlines()) > 1:
        r.error(path, N_("must fit on a single line"))
        return None
    return value


def whole_number(
    data: Mapping[Any, Any],
    key: str,
    base: str,
    r: Report,
    *,
    minimum: int | None,
    maximum: int = MAX_DAYS,
    required: bool = False,
    what: Phrase | None = None,
) -> int | None:
    """Read an integer in [minimum, ±maximum]; None means missing (if allowed) or invalid.
    `what` says what is expected (default: a whole number)."""
    if what is None:
        what = phrase(N_("a whole number"))
    path = join(base, key)
    value = data.get(key)
    if value is None:
        if required:
            r.error(path, N_("is required (%(what)s)"), what=what)
        return None
    if not is_int(value):
        r.error(path, N_("must be %(what)s, not %(value)s"), what=what, value=describe(value))
        return None
    number = int(value)
    if minimum is not None and number < minimum:
        r.error(path, N_("must be %(what)s, not %(value)s"), what=what, value=number)
        return None
    if abs(number) > maximum:
        r.error(
            path,
            N_("%(value)s is out of range (at most %(maximum)s in absolute value)"),
            value=number,
            maximum=maximum,
        )
        return None
    return number


_C = TypeVar("_C", bound=str)


def choice(
    data: Mapping[Any, Any],
    key: str,
    base: str,
    r: Report,
    choices: tuple[_C, ...],
    *,
    required: bool,
) -> _C | None:
    """Read one of `choices`; None means missing (if allowed) or invalid (reported)."""
    path = join(base, key)
    value = data.get(key)
    if value is None:
        if required:
            r.error(path, N_("is required (one of %(choices)s)"), choices=", ".join(choices))
        return None
    if not isinstance(value, str) or value.strip() not in choices:
        shown = (
            phrase(N_("'%(value)s'"), value=value) if isinstance(value, str) else describe(value)
        )
        r.error(
            path, N_("%(value)s is not one of %(choices)s"), value=shown, choices=", ".join(choices)
        )
        return None
    return cast(_C, value.strip())


def template_source(source: str, path: str, r: Report) -> None:
    """Syntax errors, and unknown merge fields as warnings (they print empty: a plan written
    for another version must still load), each with its line and column (see merge_fields)."""
    for problem in check_template(source):
        # Read in the reader's language too (a syntax error is in Jinja's English words).
        (r.error if problem.syntax else r.warn)(
            path,
            N_("line %(line)s, column %(column)s: %(problem)s"),
            line=problem.line,
            column=problem.column,
            problem=Phrase(problem.template, problem.params),
        )


# Kinds of entries accepted in the address lists.
RECIPIENT_LIST: Final = "recipients"
OWNER_LIST: Final = "owners"


def _address_entry(value: str, kind: str) -> tuple[str | None, Phrase | None]:
    """Normalise one entry; return (normalised, None) or (None, reason)."""
    text = value.strip()
    lowered = text.lower()
    if lowered in (OWNER, SALES_REP):
        return lowered, None
    if lowered.startswith("role:"):
        role = lowered[len("role:") :].strip()
        if kind == OWNER_LIST:
            return None, phrase(
                N_(
                    "'%(entry)s': contact roles cannot own a step; "
                    "use owner, sales_rep, group:NAME or a staff email address"
                ),
                entry=text,
            )
        if role not in CONTACT_ROLES:
            return None, phrase(
                N_("'%(entry)s': unknown role '%(role)s' (roles: %(roles)s)"),
                entry=text,
                role=role,
                roles=", ".join(CONTACT_ROLES),
            )
        return f"role:{role}", None
    if lowered.startswith("group:"):
        group = text[len("group:") :].strip()
        if kind != OWNER_LIST:
            return None, phrase(
                N_("'%(entry)s': groups can own manual steps but cannot receive messages"),
                entry=text,
            )
        if not group:
            return None, phrase(N_("'group:' needs a group name, e.g. group:credit-control"))
        return f"group:{group}", None
    if _EMAIL.fullmatch(text):
        return text, None
    if kind == OWNER_LIST:
        return None, phrase(
            N_("'%(entry)s' is not owner, sales_rep, group:NAME or an email address"), entry=value
        )
    return None, phrase(
        N_("'%(entry)s' is not %(roles)s, owner, sales_rep or an email address"),
        entry=value,
        roles="role:" + "|".join(CONTACT_ROLES),
    )


def addresses(
    data: Mapping[Any, Any], key: str, base: str, r: Report, kind: str
) -> tuple[str, ...] | None:
    path = join(base, key)
    raw = data.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        example = "[owner]" if kind == OWNER_LIST else "[role:billing]"
        r.error(
            path,
            N_("must be a list, e.g. %(example)s, not %(value)s"),
            example=example,
            value=describe(raw),
        )
        return None
    entries: list[str] = []
    ok = True
    for position, item in enumerate(raw, start=1):
        item_path = f"{path}[{position}]"
        if not isinstance(item, str):
            r.error(item_path, N_("must be text, not %(value)s"), value=describe(item))
            ok = False
            continue
        normalised, reason = _address_entry(item, kind)
        if normalised is None:
            assert reason is not None  # an entry refused always says why
            r.error(item_path, reason)
            ok = False
        elif normalised.lower() in (entry.lower() for entry in entries):
            r.error(item_path, N_("'%(entry)s' is listed twice"), entry=normalised)
            ok = False
        else:
            entries.append(normalised)
    return tuple(entries) if ok else None


def tolerances(data: Mapping[Any, Any], r: Report) -> dict[str, Decimal] | None:
    raw = data.get("tolerance")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        r.error(
            "tolerance",
            N_("must be a mapping of currency to amount, e.g. {EUR: '5.00'}, not %(value)s"),
            value=describe(raw),
        )
        return None
    tolerance: dict[str, Decimal] = {}
    ok = True
    for key, value in raw.items():
        path = f"tolerance.{key}"
        if not isinstance(key, str):
            r.error(path, N_("%(value)s is not an ISO 4217 currency code"), value=describe(key))
            ok = False
            continue
        try:
            currency = normalize_currency(key)
        except InvalidCurrency as exc:
            r.error(path, exc.template, **exc.params)
            ok = False
            continue
        if currency in tolerance:
            r.error(path, N_("%(currency)s is listed twice"), currency=currency)
            ok = False
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            r.error(
                path, N_("must be an amount such as '5.00', not %(value)s"), value=describe(value)
            )
            ok = False
            continue
        try:
            amount = parse_amount(str(value), currency)
        except InvalidAmount as exc:
            r.error(path, exc.template, **exc.params)
            ok = False
            continue
        if amount < 0:
            r.error(path, N_("must not be negative, not %(value)s"), value=value)
            ok = False
            continue
        tolerance[currency] = amount.copy_abs() if amount == 0 else amount
    return tolerance if ok else None


def trigger(raw: object, base: str, r: Report) -> tuple[int | None, TriggerFrom | None]:
    if raw is None:
        r.error(base, N_("is required, e.g. {days: 15, from: due_date}"))
        return None, None
    if not isinstance(raw, Mapping):
        r.error(
            base,
            N_("must be a mapping such as {days: 15, from: due_date}, not %(value)s"),
            value=describe(raw),
        )
        return None, None
    check_keys(raw, TRIGGER_KEYS, base, r)
    days = whole_number(
        raw,
        "days",
        base,
        r,
        minimum=None,
        required=True,
        what=phrase(N_("a whole number of days")),
    )
    if raw.get("from") is None:
        return days, DUE_DATE
    return days, choice(raw, "from", base, r, TRIGGER_FROMS, required=False)
