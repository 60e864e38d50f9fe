"""Dunning plans: the ordered steps a finance team runs against a customer's unpaid invoices.

Plans are written by people, in YAML (DESIGN §4 "Plan YAML"), and then drive automatic emails and
letters to real customers. A typo must therefore never be silently ignored, and a plan with five
mistakes should report all five at once, each with a path a finance user can follow
(`standard: steps[2].channel: 'fax' is not one of email, sms, letter, call, task`).

This module turns that text into immutable `Plan` / `Step` objects the engine can trust without
re-checking. It is pure Python (no Django): storage keeps `plan_to_dict(plan)` and reads it back
with `parse_plan`, which is why that pair round-trips exactly.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final, Literal, TypeVar, cast

import yaml

from relance.domain.errors import Invalid
from relance.domain.merge_fields import check_template
from relance.domain.money import InvalidAmount, InvalidCurrency, normalize_currency, parse_amount

__all__ = [
    "ATTACHMENTS",
    "CHANNELS",
    "CONTACT_ROLES",
    "CUSTOMER_FACING_CHANNELS",
    "MANUAL_ONLY_CHANNELS",
    "MAX_DAYS",
    "MODES",
    "TRIGGER_FROMS",
    "Attach",
    "Channel",
    "Mode",
    "Plan",
    "PlanError",
    "Problem",
    "Severity",
    "Step",
    "TriggerFrom",
    "load_plans_yaml",
    "parse_plan",
    "parse_plans",
    "plan_to_dict",
    "plan_warnings",
    "read_yaml",
]

Channel = Literal["email", "sms", "letter", "call", "task"]
Mode = Literal["auto", "manual"]
TriggerFrom = Literal["due_date", "issue_date"]
Attach = Literal["none", "reference", "overdue", "open"]
Severity = Literal["error", "warning"]

EMAIL: Final = "email"
SMS: Final = "sms"
LETTER: Final = "letter"
CALL: Final = "call"
TASK: Final = "task"
CHANNELS: Final[tuple[Channel, ...]] = (EMAIL, SMS, LETTER, CALL, TASK)

#: Channels that reach the customer; they count as contact for the minimum contact delay.
CUSTOMER_FACING_CHANNELS: Final[frozenset[Channel]] = frozenset({EMAIL, SMS, LETTER, CALL})
#: A person must do these; there is nothing to send automatically.
MANUAL_ONLY_CHANNELS: Final[frozenset[Channel]] = frozenset({CALL, TASK})
#: Channels that can produce something on their own, hence may loop when repeated unbounded.
AUTOMATIC_CHANNELS: Final[frozenset[Channel]] = frozenset({EMAIL, SMS, LETTER})
#: Channels whose message has a subject line (an email subject, a letter's "Re:" line).
SUBJECT_CHANNELS: Final[frozenset[Channel]] = frozenset({EMAIL, LETTER})

AUTO: Final = "auto"
MANUAL: Final = "manual"
MODES: Final[tuple[Mode, ...]] = (AUTO, MANUAL)

DUE_DATE: Final = "due_date"
ISSUE_DATE: Final = "issue_date"
TRIGGER_FROMS: Final[tuple[TriggerFrom, ...]] = (DUE_DATE, ISSUE_DATE)

ATTACH_NONE: Final = "none"
ATTACH_REFERENCE: Final = "reference"
ATTACH_OVERDUE: Final = "overdue"
ATTACH_OPEN: Final = "open"
ATTACHMENTS: Final[tuple[Attach, ...]] = (
    ATTACH_NONE,
    ATTACH_REFERENCE,
    ATTACH_OVERDUE,
    ATTACH_OPEN,
)

#: Contact roles of the contacts CSV (DESIGN §4); `role:X` in recipients picks those contacts.
CONTACT_ROLES: Final[tuple[str, ...]] = ("billing", "escalation", "legal", "primary")
OWNER: Final = "owner"
SALES_REP: Final = "sales_rep"

#: Upper bound for every day count in a plan (about ten years). Larger values are certainly typos
#: and would overflow date arithmetic in the engine.
MAX_DAYS: Final = 3660

ERROR: Final = "error"
WARNING: Final = "warning"

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
VARIANT_A: Final = "A"
VARIANT_B: Final = "B"

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


@dataclass(frozen=True, slots=True)
class Variant:
    """The other text of an A/B test of a step: `share` percent of the plan's customers get it
    (each customer always the same side, see `variant_for`), the others the step's own text."""

    share: int = 50
    template: str = ""
    subject: str = ""
    body: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One rung of a plan's escalation ladder: when it fires, how, to whom, and what it says.

    A step is immutable and already validated and normalised (a `call` is always `manual`, defaults
    are filled in), so the engine can act on it without second-guessing the YAML it came from.
    `trigger_days` counts from the reference invoice's `trigger_from` date; negative means before.
    `recipients`/`cc` hold `role:X`, `owner`, `sales_rep` or a fixed email address; `owners` (who
    handles a manual step) hold `owner`, `sales_rep`, `group:NAME` or a staff email address.
    `subject` and `body` are Jinja2 sources, rendered later in a sandbox; `template` names a
    template of the library (in the recipient's language), used where they are empty.
    `notify_sales_rep_days_before`: the customer's sales rep hears of the step that many days
    ahead, with one-click links to hold, dispute or record a promise (a firm step's heads-up).
    """

    name: str
    trigger_days: int
    trigger_from: TriggerFrom = DUE_DATE
    channel: Channel = EMAIL
    mode: Mode = AUTO
    recipients: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    attach: Attach = ATTACH_OVERDUE
    subject: str = ""
    body: str = ""
    template: str = ""
    notify_sales_rep_days_before: int | None = None
    variant_b: Variant | None = None

    @property
    def is_customer_facing(self) -> bool:
        """Whether this step contacts the customer (and so obeys the minimum contact delay)."""
        return self.channel in CUSTOMER_FACING_CHANNELS

    @property
    def is_manual(self) -> bool:
        """Whether a person must act (or approve) before anything happens."""
        return self.mode == MANUAL


@dataclass(frozen=True, slots=True)
class Plan:
    """A named dunning plan: the steps, in order, plus the rules that hold across all of them.

    `min_contact_delay_days` spaces out customer contacts whatever their origin;
    `tolerance` (ISO currency -> amount) lets tiny residues such as bank fees stay out of dunning;
    the last step may repeat every `repeat_last_every_days`, at most `repeat_last_max` times (None:
    until paid). Build plans with `parse_plan`, which validates; the constructor does not.
    `tolerance` is a plain dict for easy use, but treat it as read-only like the rest of the plan.
    """

    code: str
    name: str
    min_contact_delay_days: int = 0
    tolerance: dict[str, Decimal] = field(default_factory=dict)
    repeat_last_every_days: int | None = None
    repeat_last_max: int | None = None
    steps: tuple[Step, ...] = ()

    def __hash__(self) -> int:
        # The dataclass hash would choke on the `tolerance` dict; plans are values, so hash them.
        return hash(
            (
                self.code,
                self.name,
                self.min_contact_delay_days,
                tuple(sorted(self.tolerance.items())),
                self.repeat_last_every_days,
                self.repeat_last_max,
                self.steps,
            )
        )

    def tolerance_for(self, currency: str) -> Decimal:
        """Amount due at or below which an invoice in `currency` is not chased (0 if unset)."""
        return self.tolerance.get(currency, Decimal(0))


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or suspicious) in a plan, located by a readable path.

    Paths are 1-based for steps and list entries, because people count that way:
    `standard: steps[2].recipients[1]`.
    """

    path: str
    message: str
    severity: Severity = ERROR

    def __str__(self) -> str:
        if self.severity == WARNING:
            return f"{self.path}: warning: {self.message}"
        return f"{self.path}: {self.message}"


class PlanError(Invalid, ValueError):
    """A plan (or a document of plans) was rejected; `problems` lists every error found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


# --------------------------------------------------------------------------------------------
# Validation plumbing


class _Report:
    """Collects problems for one plan, prefixing local paths with where the plan sits."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def path(self, local: str) -> str:
        if not local:
            return self.where or "plan"
        return f"{self.where}: {local}" if self.where else local

    def error(self, local: str, message: str) -> None:
        self.errors.append(Problem(self.path(local), message, ERROR))

    def warn(self, local: str, message: str) -> None:
        self.warnings.append(Problem(self.path(local), message, WARNING))


def _join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


def _describe(value: object) -> str:
    """Name a wrong value the way a YAML author would recognise it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int | float | Decimal):
        return f"{value} (a number)"
    if isinstance(value, str):
        return f"{value!r} (text)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"{value!r} ({type(value).__name__})"


def _is_int(value: object) -> bool:
    # YAML `yes`/`true` are bools, and bool is a subclass of int: never accept them as numbers.
    return isinstance(value, int) and not isinstance(value, bool)


def _check_keys(data: Mapping[Any, Any], allowed: tuple[str, ...], base: str, r: _Report) -> None:
    for key in data:
        if isinstance(key, str) and key in allowed:
            continue
        hint = ""
        if isinstance(key, str):
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            if close:
                hint = f" (did you mean '{close[0]}'?)"
        r.error(_join(base, str(key)), f"unknown key{hint}; allowed keys: {', '.join(allowed)}")


def _text(
    data: Mapping[Any, Any],
    key: str,
    base: str,
    r: _Report,
    *,
    required: bool | str,
    single_line: bool = True,
    strip: bool = True,
) -> str | None:
    """Read a text value; None means invalid (already reported). Missing/null/blank -> ""."""
    path = _join(base, key)
    value = data.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        hint = "" if isinstance(value, Mapping | list | tuple) else " (quote it in YAML)"
        r.error(path, f"must be text, not {_describe(value)}{hint}")
        return None
    if strip:
        value = value.strip()
    if not value.strip():
        if required:
            r.error(path, required if isinstance(required, str) else "is required")
            return None
        return ""
    if single_line and len(value.strip().splitlines()) > 1:
        r.error(path, "must fit on a single line")
        return None
    return value


def _int(
    data: Mapping[Any, Any],
    key: str,
    base: str,
    r: _Report,
    *,
    minimum: int | None,
    maximum: int = MAX_DAYS,
    required: bool = False,
    what: str = "a whole number",
) -> int | None:
    """Read an integer in [minimum, ±maximum]; None means missing (if allowed) or invalid."""
    path = _join(base, key)
    value = data.get(key)
    if value is None:
        if required:
            r.error(path, f"is required ({what})")
        return None
    if not _is_int(value):
        r.error(path, f"must be {what}, not {_describe(value)}")
        return None
    number = int(value)
    if minimum is not None and number < minimum:
        r.error(path, f"must be {what}, not {number}")
        return None
    if abs(number) > maximum:
        r.error(path, f"{number} is out of range (at most {maximum} in absolute value)")
        return None
    return number


_C = TypeVar("_C", bound=str)


def _choice(
    data: Mapping[Any, Any],
    key: str,
    base: str,
    r: _Report,
    choices: tuple[_C, ...],
    *,
    required: bool,
) -> _C | None:
    """Read one of `choices`; None means missing (if allowed) or invalid (reported)."""
    path = _join(base, key)
    value = data.get(key)
    if value is None:
        if required:
            r.error(path, f"is required (one of {', '.join(choices)})")
        return None
    if not isinstance(value, str) or value.strip() not in choices:
        shown = repr(value) if isinstance(value, str) else _describe(value)
        r.error(path, f"{shown} is not one of {', '.join(choices)}")
        return None
    return cast(_C, value.strip())


def _check_template(source: str, path: str, r: _Report) -> None:
    """Syntax errors, and unknown merge fields as warnings (they print empty: a plan written
    for another version must still load), each with its line and column (see merge_fields)."""
    for problem in check_template(source):
        (r.error if problem.syntax else r.warn)(path, str(problem))


# Kinds of entries accepted in the address lists.
_RECIPIENT_LIST: Final = "recipients"
_OWNER_LIST: Final = "owners"


def _address_entry(value: str, kind: str) -> tuple[str | None, str]:
    """Normalise one entry; return (normalised, "") or (None, reason)."""
    text = value.strip()
    lowered = text.lower()
    if lowered in (OWNER, SALES_REP):
        return lowered, ""
    if lowered.startswith("role:"):
        role = lowered[len("role:") :].strip()
        if kind == _OWNER_LIST:
            return None, (
                f"'{text}': contact roles cannot own a step; "
                "use owner, sales_rep, group:NAME or a staff email address"
            )
        if role not in CONTACT_ROLES:
            return None, f"'{text}': unknown role '{role}' (roles: {', '.join(CONTACT_ROLES)})"
        return f"role:{role}", ""
    if lowered.startswith("group:"):
        group = text[len("group:") :].strip()
        if kind != _OWNER_LIST:
            return None, f"'{text}': groups can own manual steps but cannot receive messages"
        if not group:
            return None, "'group:' needs a group name, e.g. group:credit-control"
        return f"group:{group}", ""
    if _EMAIL.fullmatch(text):
        return text, ""
    if kind == _OWNER_LIST:
        allowed = "owner, sales_rep, group:NAME or an email address"
    else:
        allowed = "role:" + "|".join(CONTACT_ROLES) + ", owner, sales_rep or an email address"
    return None, f"{value!r} is not {allowed}"


def _addresses(
    data: Mapping[Any, Any], key: str, base: str, r: _Report, kind: str
) -> tuple[str, ...] | None:
    path = _join(base, key)
    raw = data.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        example = "[owner]" if kind == _OWNER_LIST else "[role:billing]"
        r.error(path, f"must be a list, e.g. {example}, not {_describe(raw)}")
        return None
    entries: list[str] = []
    ok = True
    for position, item in enumerate(raw, start=1):
        item_path = f"{path}[{position}]"
        if not isinstance(item, str):
            r.error(item_path, f"must be text, not {_describe(item)}")
            ok = False
            continue
        normalised, reason = _address_entry(item, kind)
        if normalised is None:
            r.error(item_path, reason)
            ok = False
        elif normalised.lower() in (entry.lower() for entry in entries):
            r.error(item_path, f"'{normalised}' is listed twice")
            ok = False
        else:
            entries.append(normalised)
    return tuple(entries) if ok else None


def _tolerance(data: Mapping[Any, Any], r: _Report) -> dict[str, Decimal] | None:
    raw = data.get("tolerance")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        r.error(
            "tolerance",
            f"must be a mapping of currency to amount, e.g. {{EUR: '5.00'}}, not {_describe(raw)}",
        )
        return None
    tolerance: dict[str, Decimal] = {}
    ok = True
    for key, value in raw.items():
        path = f"tolerance.{key}"
        if not isinstance(key, str):
            r.error(path, f"{_describe(key)} is not an ISO 4217 currency code")
            ok = False
            continue
        try:
            currency = normalize_currency(key)
        except InvalidCurrency as exc:
            r.error(path, str(exc))
            ok = False
            continue
        if currency in tolerance:
            r.error(path, f"{currency} is listed twice")
            ok = False
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            r.error(path, f"must be an amount such as '5.00', not {_describe(value)}")
            ok = False
            continue
        try:
            amount = parse_amount(str(value), currency)
        except InvalidAmount as exc:
            r.error(path, str(exc))
            ok = False
            continue
        if amount < 0:
            r.error(path, f"must not be negative, not {value}")
            ok = False
            continue
        tolerance[currency] = amount.copy_abs() if amount == 0 else amount
    return tolerance if ok else None


def _trigger(raw: object, base: str, r: _Report) -> tuple[int | None, TriggerFrom | None]:
    if raw is None:
        r.error(base, "is required, e.g. {days: 15, from: due_date}")
        return None, None
    if not isinstance(raw, Mapping):
        r.error(
            base, f"must be a mapping such as {{days: 15, from: due_date}}, not {_describe(raw)}"
        )
        return None, None
    _check_keys(raw, TRIGGER_KEYS, base, r)
    days = _int(raw, "days", base, r, minimum=None, required=True, what="a whole number of days")
    if raw.get("from") is None:
        return days, DUE_DATE
    return days, _choice(raw, "from", base, r, TRIGGER_FROMS, required=False)


def variant_for(step: Step, customer: str, plan_code: str) -> str:
    """ "A" or "B" for a step with an A/B test ("" without): a hash of the plan, step and
    customer, so a customer stays on one side run after run and the split needs no stored
    state."""
    if step.variant_b is None:
        return ""
    digest = hashlib.sha256(f"{plan_code}\x1f{step.name}\x1f{customer}".encode()).digest()
    return (
        VARIANT_B if int.from_bytes(digest[:8], "big") % 100 < step.variant_b.share else VARIANT_A
    )


def with_side(step: Step, side: str) -> Step:
    """The step as the customers of `side` ("A", "B" or "") of its A/B test receive it."""
    if side != VARIANT_B or step.variant_b is None:
        return step
    b = step.variant_b
    return replace(step, template=b.template, subject=b.subject, body=b.body)


def _message_text(
    raw: Mapping[Any, Any], base: str, channel: str | None, r: _Report
) -> tuple[str | None, str | None, str | None]:
    """(template, subject, body) of a step or of its variant B: a library template, or a
    subject (for channels that have one) and a body of its own, each a valid Jinja2 source;
    None for a value that is wrong (reported)."""
    template = _text(raw, "template", base, r, required=False)
    if template and not _SLUG.fullmatch(template):
        r.error(
            _join(base, "template"), f"'{template}' is not a template name such as first_reminder"
        )
    needs_subject = channel in SUBJECT_CHANNELS and not template
    subject = _text(
        raw,
        "subject",
        base,
        r,
        required=f"is required for {channel} steps without a template" if needs_subject else False,
    )
    body = _text(
        raw,
        "body",
        base,
        r,
        required=(
            False
            if template
            else "is required (the message text, call script or task description), or a template"
        ),
        single_line=False,
        strip=False,
    )
    for key, source in (("subject", subject), ("body", body)):
        if source:
            _check_template(source, _join(base, key), r)
    return template, subject, body


def _variant(raw: object, base: str, channel: str | None, r: _Report) -> Variant | None:
    """`variant_b: {share, template | subject and body}`: checked as the step's own text is."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        r.error(base, f"must be a mapping with {', '.join(VARIANT_KEYS)}, not {_describe(raw)}")
        return None
    errors_before = len(r.errors)
    _check_keys(raw, VARIANT_KEYS, base, r)
    share = _int(raw, "share", base, r, minimum=1, what="a percentage from 1 to 99")
    if share is not None and share > 99:
        r.error(_join(base, "share"), f"must be a percentage from 1 to 99, not {share}")
    template, subject, body = _message_text(raw, base, channel, r)
    if len(r.errors) != errors_before or subject is None or body is None or template is None:
        return None
    return Variant(share=share or 50, template=template, subject=subject, body=body)


def _step(raw: object, index: int, r: _Report) -> Step | None:
    base = f"steps[{index}]"
    if not isinstance(raw, Mapping):
        r.error(base, f"must be a mapping of step settings, not {_describe(raw)}")
        return None
    errors_before = len(r.errors)
    _check_keys(raw, STEP_KEYS, base, r)
    name = _text(raw, "name", base, r, required=True)
    days, trigger_from = _trigger(raw.get("trigger"), _join(base, "trigger"), r)
    channel = _choice(raw, "channel", base, r, CHANNELS, required=True)

    mode = _choice(raw, "mode", base, r, MODES, required=False)
    if channel is not None:
        if mode is None and raw.get("mode") is None:
            mode = MANUAL if channel in MANUAL_ONLY_CHANNELS else AUTO
        elif mode == AUTO and channel in MANUAL_ONLY_CHANNELS:
            r.warn(
                _join(base, "mode"),
                f"{channel} steps are always done by a person: 'auto' was changed to 'manual'",
            )
            mode = MANUAL

    recipients = _addresses(raw, "recipients", base, r, _RECIPIENT_LIST)
    cc = _addresses(raw, "cc", base, r, _RECIPIENT_LIST)
    owners = _addresses(raw, "owners", base, r, _OWNER_LIST)

    attach = _choice(raw, "attach", base, r, ATTACHMENTS, required=False)
    if attach is None and raw.get("attach") is None and channel is not None:
        attach = ATTACH_NONE if channel in MANUAL_ONLY_CHANNELS else ATTACH_OVERDUE

    template, subject, body = _message_text(raw, base, channel, r)
    heads_up = _int(
        raw, "notify_sales_rep_days_before", base, r, minimum=1, what="a number of days, 1 or more"
    )
    variant_b = _variant(raw.get("variant_b"), _join(base, "variant_b"), channel, r)

    if (
        len(r.errors) != errors_before
        or name is None
        or days is None
        or trigger_from is None
        or channel is None
        or mode is None
        or attach is None
        or recipients is None
        or cc is None
        or owners is None
        or subject is None
        or body is None
        or template is None
    ):
        return None
    return Step(
        name=name,
        trigger_days=days,
        trigger_from=trigger_from,
        channel=channel,
        mode=mode,
        recipients=recipients,
        cc=cc,
        owners=owners,
        attach=attach,
        subject=subject,
        body=body,
        template=template,
        notify_sales_rep_days_before=heads_up,
        variant_b=variant_b,
    )


def _plan(data: object, r: _Report) -> Plan | None:
    if not isinstance(data, Mapping):
        r.error("", f"a plan must be a mapping (code, name, steps, …), not {_describe(data)}")
        return None
    _check_keys(data, PLAN_KEYS, "", r)

    code = _text(data, "code", "", r, required=True)
    if code and not _SLUG.fullmatch(code):
        r.error(
            "code",
            f"{code!r} is not a valid code: use lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit",
        )
        code = None
    name = _text(data, "name", "", r, required=True)
    min_delay = _int(
        data, "min_contact_delay_days", "", r, minimum=0, what="a whole number of days, 0 or more"
    )
    if min_delay is None and data.get("min_contact_delay_days") is None:
        min_delay = 0
    tolerance = _tolerance(data, r)
    positive = "a positive whole number or null"
    every = _int(data, "repeat_last_every_days", "", r, minimum=1, what=positive)
    most = _int(data, "repeat_last_max", "", r, minimum=1, what=positive)

    raw_steps = data.get("steps")
    steps: list[Step] = []
    if raw_steps is None or (isinstance(raw_steps, list | tuple) and not raw_steps):
        r.error("steps", "at least one step is required")
    elif not isinstance(raw_steps, list | tuple):
        r.error("steps", f"must be a list of steps, not {_describe(raw_steps)}")
    else:
        seen: dict[str, int] = {}
        for index, raw_step in enumerate(raw_steps, start=1):
            step = _step(raw_step, index, r)
            if isinstance(raw_step, Mapping) and isinstance(raw_step.get("name"), str):
                key = raw_step["name"].strip().casefold()
                if key and key in seen:
                    shown = raw_step["name"].strip()
                    r.error(
                        f"steps[{index}].name",
                        f"duplicate step name {shown!r} (also steps[{seen[key]}])",
                    )
                elif key:
                    seen[key] = index
            if step is not None:
                steps.append(step)

    if r.errors or code is None or name is None or min_delay is None or tolerance is None:
        return None
    return Plan(
        code=code,
        name=name,
        min_contact_delay_days=min_delay,
        tolerance=tolerance,
        repeat_last_every_days=every,
        repeat_last_max=most,
        steps=tuple(steps),
    )


# --------------------------------------------------------------------------------------------
# Public API


def parse_plan(
    data: Mapping[str, Any], where: str = "", *, warnings: list[Problem] | None = None
) -> Plan:
    """Validate one plan mapping (the YAML form) and return the `Plan`.

    Raises `PlanError` listing every error found, each path prefixed with `where` (e.g. the plan
    code) when given. If `warnings` is a list, warnings are appended to it: normalisations done
    while parsing (an `auto` call made manual) and, when the plan is valid, `plan_warnings`.
    """
    report = _Report(where)
    plan = _plan(data, report)
    if warnings is not None:
        warnings.extend(report.warnings)
    if report.errors or plan is None:
        raise PlanError(report.errors)
    if warnings is not None:
        warnings.extend(plan_warnings(plan, where))
    return plan


def plan_warnings(plan: Plan, where: str | None = None) -> list[Problem]:
    """Things that are allowed but probably not meant. Paths are prefixed with `where`
    (default: the plan's code; pass "" for bare paths)."""
    r = _Report(plan.code if where is None else where)
    steps = plan.steps

    if steps and plan.repeat_last_every_days is not None and plan.repeat_last_max is None:
        last = steps[-1]
        if last.mode == AUTO and last.channel in AUTOMATIC_CHANNELS:
            r.warn(
                "repeat_last_every_days",
                f"the last step {last.name!r} is an automatic {last.channel} repeated every "
                f"{plan.repeat_last_every_days} days with no repeat_last_max: "
                "it would repeat until paid",
            )
    if plan.repeat_last_max is not None and plan.repeat_last_every_days is None:
        r.warn("repeat_last_max", "has no effect without repeat_last_every_days")

    previous: dict[str, tuple[int, Step]] = {}
    for index, step in enumerate(steps, start=1):
        base = f"steps[{index}]"
        before = previous.get(step.trigger_from)
        if before is not None and step.trigger_days < before[1].trigger_days:
            other_index, other = before
            r.warn(
                _join(base, "trigger.days"),
                f"trigger order inconsistent: {step.name!r} ({step.trigger_days:+d} days from "
                f"{step.trigger_from}) comes after {other.name!r} in steps[{other_index}] "
                f"({other.trigger_days:+d} days from {other.trigger_from})",
            )
        previous[step.trigger_from] = (index, step)

        if step.is_customer_facing and not step.recipients:
            r.warn(
                _join(base, "recipients"),
                f"this {step.channel} step reaches the customer but has no recipients",
            )
        if step.is_manual and not step.owners:
            r.warn(
                _join(base, "owners"),
                "manual step with no owners: it would land in nobody's Actions inbox",
            )
        for key, entries in (("recipients", step.recipients), ("cc", step.cc)):
            for position, entry in enumerate(entries, start=1):
                if "@" in entry:
                    r.warn(
                        f"{base}.{key}[{position}]",
                        f"{entry!r} is a fixed address: the message is sent to that address for "
                        "every customer on the plan",
                    )
    return r.warnings


def parse_plans(document: object, *, warnings: list[Problem] | None = None) -> list[Plan]:
    """Validate a document holding one plan mapping or a list of them.

    Errors from every plan are collected into one `PlanError`; each path is prefixed with the
    plan's code, or with `plans[i]` (1-based) when the code is missing, invalid or duplicated.
    Duplicate codes within the document are an error.
    """
    if isinstance(document, Mapping):
        items: list[object] = [document]
        fallback = ["plan"]
    elif isinstance(document, list | tuple):
        items = list(document)
        fallback = [f"plans[{i}]" for i in range(1, len(items) + 1)]
        if not items:
            raise PlanError([Problem("document", "contains no plans")])
    else:
        raise PlanError(
            [Problem("document", f"must be a plan or a list of plans, not {_describe(document)}")]
        )

    codes: list[str | None] = []
    for item in items:
        code = item.get("code") if isinstance(item, Mapping) else None
        if isinstance(code, str) and _SLUG.fullmatch(code.strip()):
            codes.append(code.strip())
        else:
            codes.append(None)

    problems: list[Problem] = []
    plans: list[Plan] = []
    first_index: dict[str, int] = {}
    for position, (item, code) in enumerate(zip(items, codes, strict=True)):
        duplicated = code is not None and codes.count(code) > 1
        where = code if code is not None and not duplicated else fallback[position]
        if code is not None and duplicated:
            if code in first_index:
                problems.append(
                    Problem(
                        f"{where}: code",
                        f"duplicate plan code {code!r} (also {fallback[first_index[code]]})",
                    )
                )
            else:
                first_index[code] = position
        try:
            plans.append(parse_plan(cast(Mapping[str, Any], item), where, warnings=warnings))
        except PlanError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PlanError(problems)
    return plans


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: PyYAML would silently keep the last one, hiding
    a typo such as two `subject:` lines in one step."""


def _construct_mapping_once(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *anchor` overrides are legitimate
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:
            continue  # unhashable key: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping_once,
)


def read_yaml(text: str) -> object:
    """Safe-load YAML, refusing duplicate keys; syntax errors become a `PlanError` whose path gives
    the line and column. Shared by every YAML document people write (plans, assignment rules)."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: safe
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "yaml"
        message = exc.problem or "syntax error"
        if exc.context:
            message = f"{exc.context}: {message}"
        raise PlanError([Problem(where, f"invalid YAML: {message}")]) from None
    except yaml.YAMLError as exc:
        raise PlanError([Problem("yaml", f"invalid YAML: {exc}")]) from None


def load_plans_yaml(text: str, *, warnings: list[Problem] | None = None) -> list[Plan]:
    """Parse YAML text holding one plan or a list of plans (see `read_yaml`, `parse_plans`)."""
    document = read_yaml(text)
    if document is None:
        raise PlanError([Problem("document", "is empty: expected a plan or a list of plans")])
    return parse_plans(document, warnings=warnings)


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The YAML form of a plan, every key explicit (amounts as strings), for storage and export.

    `parse_plan(plan_to_dict(plan)) == plan` for every plan that `parse_plan` produced.
    """
    return {
        "code": plan.code,
        "name": plan.name,
        "min_contact_delay_days": plan.min_contact_delay_days,
        "tolerance": {currency: f"{amount:f}" for currency, amount in plan.tolerance.items()},
        "repeat_last_every_days": plan.repeat_last_every_days,
        "repeat_last_max": plan.repeat_last_max,
        "steps": [
            {
                "name": step.name,
                "trigger": {"days": step.trigger_days, "from": step.trigger_from},
                "channel": step.channel,
                "mode": step.mode,
                "recipients": list(step.recipients),
                "cc": list(step.cc),
                "owners": list(step.owners),
                "attach": step.attach,
                "template": step.template,
                "subject": step.subject,
                "body": step.body,
                "notify_sales_rep_days_before": step.notify_sales_rep_days_before,
                "variant_b": (
                    {
                        "share": step.variant_b.share,
                        "template": step.variant_b.template,
                        "subject": step.variant_b.subject,
                        "body": step.variant_b.body,
                    }
                    if step.variant_b
                    else None
                ),
            }
            for step in plan.steps
        ],
    }
