"""Plan assignment rules: which dunning plan a customer gets when nobody chose one by hand.

A finance team rarely assigns thousands of customers one by one. Instead it writes a short, ORDERED
list of rules ("high-risk customers get the high-risk plan, reliable payers the white-glove plan,
everyone else the standard plan") and the first rule that matches a customer wins. An explicit
assignment, made by a person, always beats the rules: people know things the ledger does not.

The rules are written in YAML (`relance/plans/rules.yaml` ships a default) and validated like plans:
every mistake is reported at once, with a path such as `rules[2].when.risk[1]`, and nothing is
silently ignored. The chosen plan comes with a reason sentence, because the UI shows *why* a
customer is on a plan and a finance user must be able to check it.

Pure Python, no Django: the services layer gathers `CustomerFacts` from the database (balance,
payment history) and calls `choose_plan`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Final

from relance.domain import countries
from relance.domain.money import InvalidCurrency, normalize_currency

# The strict loader (duplicate keys refused), the problem collector, the unknown-key check and the
# value wording are shared with plan YAML on purpose: both files are written by the same people and
# should fail in the same words.
from relance.domain.plans.fields import check_keys
from relance.domain.plans.model import MAX_DAYS
from relance.domain.plans.problems import PlanError, Problem, Report, is_int, read_yaml
from relance.domain.plans.problems import describe as describe_value

__all__ = [
    "LIST_CONDITIONS",
    "NUMERIC_CONDITIONS",
    "RISKS",
    "RULE_KEYS",
    "WHEN_KEYS",
    "CustomerFacts",
    "Rule",
    "average_days_late",
    "choose_plan",
    "load_rules_yaml",
    "parse_rules",
    "rules_to_dict",
]

ZERO: Final = Decimal(0)
HUNDRED: Final = Decimal(100)

#: Risk ratings of the customers CSV (DESIGN §4); "" on a customer means "not rated".
RISKS: Final[tuple[str, ...]] = ("low", "medium", "high")

RULE_KEYS: Final[tuple[str, ...]] = ("name", "plan", "when")

#: YAML key under `when` -> `Rule` attribute, for conditions that list accepted values.
LIST_CONDITIONS: Final[dict[str, str]] = {
    "segment": "segment_in",
    "risk": "risk_in",
    "country": "country_in",
    "currency": "currency_in",
}
#: YAML key under `when` (same as the `Rule` attribute) for numeric bounds, both inclusive.
NUMERIC_CONDITIONS: Final[tuple[str, ...]] = (
    "min_credit_limit_use",
    "max_credit_limit_use",
    "min_average_days_late",
    "max_average_days_late",
)
WHEN_KEYS: Final[tuple[str, ...]] = (*LIST_CONDITIONS, *NUMERIC_CONDITIONS)

#: The payment-behaviour window of `average_days_late`: twelve months, counted as 365 days.
BEHAVIOUR_WINDOW_DAYS: Final = 365

#: Same shape as plan codes (plans.py): rules refer to plans by code.
_PLAN_CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_CENT: Final = Decimal("0.01")
_TENTH: Final = Decimal("0.1")


# --------------------------------------------------------------------------------------------
# Facts and rules


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What the rules may look at for one customer, gathered as of one day.

    `balance` is the amount due per currency today; `average_days_late` is the amount-weighted
    lateness of the last twelve months (see `average_days_late`), None when the customer has paid
    no invoice in that window. `explicit_plan` is the plan a person assigned, if any; an empty
    string counts as none. The dataclass is a value (no identity), computed fresh for each decision.
    """

    external_id: str
    segment: str = ""
    risk: str = ""
    country: str = ""
    currency: str = ""
    credit_limit: Decimal | None = None
    balance: dict[str, Decimal] = field(default_factory=dict, hash=False)
    average_days_late: Decimal | None = None
    explicit_plan: str | None = None

    @property
    def credit_limit_use(self) -> Decimal | None:
        """Balance in the customer's own currency as a percentage of the credit limit.

        Only the customer's currency counts: the credit limit is expressed in it, and amounts in
        other currencies cannot be added without an exchange rate (DESIGN: never add currencies).
        None when there is no limit, or a zero/negative one (a percentage of nothing is
        meaningless; a zero limit is better served by a risk rating than by this figure).
        """
        if self.credit_limit is None or self.credit_limit <= 0:
            return None
        due = self.balance.get(self.currency.strip().upper(), ZERO)
        return due / self.credit_limit * HUNDRED


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of the assignment list: "customers matching these conditions get `plan`".

    Every condition is optional: an empty tuple or None does not constrain, so a rule with no
    condition at all is a catch-all. Listed values are alternatives (risk in {medium, high});
    different conditions must all hold. Numeric bounds are inclusive percentages/days, and a rule
    with a numeric condition never matches a customer for whom that figure is unknown (None):
    "average days late <= 5" must not pick a customer who has never paid anything.

    Comparisons ignore case and surrounding blanks for segments and normalise countries,
    currencies and risks, so a rule built in code behaves like one parsed from YAML.
    """

    plan: str
    name: str
    segment_in: tuple[str, ...] = ()
    risk_in: tuple[str, ...] = ()
    country_in: tuple[str, ...] = ()
    currency_in: tuple[str, ...] = ()
    min_credit_limit_use: Decimal | None = None
    max_credit_limit_use: Decimal | None = None
    min_average_days_late: Decimal | None = None
    max_average_days_late: Decimal | None = None

    @property
    def is_catch_all(self) -> bool:
        """Whether the rule has no condition, hence matches every customer."""
        return not (
            self.segment_in
            or self.risk_in
            or self.country_in
            or self.currency_in
            or self.min_credit_limit_use is not None
            or self.max_credit_limit_use is not None
            or self.min_average_days_late is not None
            or self.max_average_days_late is not None
        )

    def matches(self, facts: CustomerFacts) -> bool:
        """Whether every condition of the rule holds for `facts`."""
        return self.explain(facts) is not None

    def explain(self, facts: CustomerFacts) -> list[str] | None:
        """The conditions that matched, in words, or None as soon as one does not hold.

        Matching and explaining are one function so the reason shown in the UI can never
        disagree with the decision actually taken.
        """
        matched: list[str] = []
        listed = (
            ("segment", self.segment_in, facts.segment, _fold),
            ("risk", self.risk_in, facts.risk, _fold),
            ("country", self.country_in, facts.country, _upper),
            ("currency", self.currency_in, facts.currency, _upper),
        )
        for label, accepted, value, norm in listed:
            if not accepted:
                continue
            if not norm(value) or norm(value) not in {norm(item) for item in accepted}:
                return None
            matched.append(f"{label} {value.strip()}")
        ranges = (
            (
                "credit limit use",
                facts.credit_limit_use,
                self.min_credit_limit_use,
                self.max_credit_limit_use,
                _percent,
            ),
            (
                "average days late",
                facts.average_days_late,
                self.min_average_days_late,
                self.max_average_days_late,
                _days,
            ),
        )
        for label, figure, low, high, show in ranges:
            if low is None and high is None:
                continue
            if figure is None:
                return None
            if (low is not None and figure < low) or (high is not None and figure > high):
                return None
            if low is not None and high is not None:
                matched.append(f"{label} {show(figure)} between {show(low)} and {show(high)}")
            elif low is not None:
                matched.append(f"{label} {show(figure)} ≥ {show(low)}")
            elif high is not None:
                matched.append(f"{label} {show(figure)} ≤ {show(high)}")
        return matched


def _fold(value: str) -> str:
    return value.strip().casefold()


def _upper(value: str) -> str:
    return value.strip().upper()


def _plain(number: Decimal) -> str:
    """A number without exponent or useless trailing zeros: 30, 2.5, 0.04."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _days(number: Decimal) -> str:
    return _plain(number.quantize(_CENT, rounding=ROUND_HALF_EVEN))


def _percent(number: Decimal) -> str:
    return _plain(number.quantize(_TENTH, rounding=ROUND_HALF_EVEN)) + "%"


def choose_plan(facts: CustomerFacts, rules: Iterable[Rule]) -> tuple[str | None, str]:
    """Return (plan code or None, reason): the explicit plan, else the FIRST matching rule's plan.

    The reason is a sentence for the UI: "explicit assignment", "rule 'Risky customers' (risk
    high)", "rule 'Everyone else' (matches every customer)" or "no rule matched". Order is the
    whole point of the list, so later rules are not even looked at once one matches.
    """
    if facts.explicit_plan:
        return facts.explicit_plan, "explicit assignment"
    for rule in rules:
        matched = rule.explain(facts)
        if matched is None:
            continue
        detail = ", ".join(matched) if matched else "matches every customer"
        return rule.plan, f"rule {rule.name!r} ({detail})"
    return None, "no rule matched"


# --------------------------------------------------------------------------------------------
# Payment behaviour


def average_days_late(paid: Iterable[tuple[date, date, Decimal]], today: date) -> Decimal | None:
    """Amount-weighted average days late of invoices fully paid in the last twelve months.

    `paid` holds (due_date, paid_date, amount) for fully paid invoices, `paid_date` being the day
    the invoice was cleared. Choices, and why:

    * Window: paid after `today - 365 days` and on or before `today` (365 days, today included).
      Behaviour changes; a customer who paid late two years ago and on time since is a good payer.
      Payments dated after `today` have not happened yet as of `today` (runs can be replayed for a
      past date), so they are ignored too.
    * Early payment counts as 0 days late, not negative: paying early one invoice does not excuse
      paying another late, and a customer must not earn "credit" against the lateness threshold.
    * Weighted by amount: being 60 days late on 50,000 matters more than on 50. The weights are
      added, so pass invoices of one currency (the customer's); mixing currencies would weight a
      JPY invoice about 150 times a EUR one. Invoices with a zero or negative amount carry no
      weight and are ignored.
    * The result is rounded half-even to 0.01 day: stable to store and display, precise enough for
      thresholds expressed in days.

    None when no invoice qualifies: "no history" is not the same as "always on time".
    """
    start = today - timedelta(days=BEHAVIOUR_WINDOW_DAYS)
    weighted = ZERO
    total = ZERO
    for due_date, paid_date, amount in paid:
        if not start < paid_date <= today or amount <= 0:
            continue
        late = max((paid_date - due_date).days, 0)
        weighted += amount * late
        total += amount
    if total == 0:
        return None
    return (weighted / total).quantize(_CENT, rounding=ROUND_HALF_EVEN)


# --------------------------------------------------------------------------------------------
# Parsing and validation


def _required_text(data: Mapping[Any, Any], key: str, base: str, c: Report) -> str | None:
    path = f"{base}.{key}"
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        c.error(path, "is required")
        return None
    if not isinstance(value, str):
        c.error(path, f"must be text, not {describe_value(value)} (quote it in YAML)")
        return None
    text = value.strip()
    if len(text.splitlines()) > 1:
        c.error(path, "must fit on a single line")
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
        c.error(path, f"{code!r} is not a plan code (lower-case letters, digits, '-' and '_')")
        return None
    if known is not None and code not in known:
        close = difflib.get_close_matches(code, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        listing = ", ".join(sorted(known)) or "none loaded"
        c.error(path, f"unknown plan {code!r}{hint}; known plans: {listing}")
        return None
    return code


def _normalise_listed(key: str, text: str) -> tuple[str | None, str]:
    """(normalised value, "") or (None, reason) for one entry of a list condition."""
    if key == "risk":
        risk = text.lower()
        if risk not in RISKS:
            return None, f"{text!r} is not one of {', '.join(RISKS)}"
        return risk, ""
    if key == "country":
        country = text.upper()
        if not countries.is_country(country):
            return None, f"{text!r} is not an ISO 3166 country code such as FR or GB"
        return country, ""
    if key == "currency":
        try:
            return normalize_currency(text), ""
        except InvalidCurrency as exc:
            return None, str(exc)
    if len(text.splitlines()) > 1:
        return None, "must fit on a single line"
    return text, ""


def _listed(raw: object, key: str, base: str, c: Report) -> tuple[str, ...] | None:
    """Read a list condition; a single text value is accepted as a list of one."""
    path = f"{base}.{key}"
    items: list[object]
    if isinstance(raw, str):
        items = [raw]
        positions: list[str] = [path]
    elif isinstance(raw, list | tuple):
        if not raw:
            c.error(path, f"lists no {key}: remove the key to accept any {key}")
            return None
        items = list(raw)
        positions = [f"{path}[{i}]" for i in range(1, len(items) + 1)]
    else:
        c.error(path, f"must be a list such as [{_example(key)}], not {describe_value(raw)}")
        return None
    values: list[str] = []
    ok = True
    for item, item_path in zip(items, positions, strict=True):
        if not isinstance(item, str) or not item.strip():
            shown = "empty text" if isinstance(item, str) else describe_value(item)
            c.error(item_path, f"must be text, not {shown}")
            ok = False
            continue
        value, reason = _normalise_listed(key, item.strip())
        if value is None:
            c.error(item_path, reason)
            ok = False
        elif value.casefold() in (v.casefold() for v in values):
            c.error(item_path, f"{value!r} is listed twice")
            ok = False
        else:
            values.append(value)
    return tuple(values) if ok else None


def _example(key: str) -> str:
    return {"segment": "enterprise", "risk": "high", "country": "FR", "currency": "EUR"}[key]


def _number(raw: object, key: str, base: str, c: Report) -> Decimal | None:
    """Read a non-negative number (int, decimal or quoted decimal); None means invalid."""
    path = f"{base}.{key}"
    unit = "days" if key.endswith("days_late") else "percent"
    if isinstance(raw, bool) or not (is_int(raw) or isinstance(raw, float | Decimal | str)):
        c.error(path, f"must be a number of {unit}, not {describe_value(raw)}")
        return None
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        c.error(path, f"must be a number of {unit}, not {describe_value(raw)}")
        return None
    if not number.is_finite():
        c.error(path, f"must be a finite number of {unit}, not {raw}")
        return None
    if number < 0:
        c.error(path, f"must not be negative, not {raw}")
        return None
    if unit == "days" and number > MAX_DAYS:
        c.error(path, f"{raw} is out of range (at most {MAX_DAYS} days)")
        return None
    return number.copy_abs()  # turns -0 into 0


def _rule(raw: object, index: int, c: Report, known: Collection[str] | None) -> Rule | None:
    base = f"rules[{index}]"
    if not isinstance(raw, Mapping):
        c.error(base, f"must be a mapping with name, plan and when, not {describe_value(raw)}")
        return None
    errors_before = len(c.errors)
    check_keys(raw, RULE_KEYS, base, c)
    name = _required_text(raw, "name", base, c)
    plan = _plan_code(raw, base, c, known)

    when = raw.get("when")
    when_base = f"{base}.when"
    conditions: dict[str, Any] = {}
    if when is not None and not isinstance(when, Mapping):
        c.error(when_base, f"must be a mapping of conditions, not {describe_value(when)}")
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
                    f"{_plain(low)} is greater than max_{figure} ({_plain(high)}): "
                    "no customer could match",
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
        raise PlanError([Problem("document", "is empty: expected a list of rules")])
    if not isinstance(document, list | tuple):
        raise PlanError(
            [
                Problem(
                    "document",
                    f"must be a list of rules (- name: …, plan: …, when: …), "
                    f"not {describe_value(document)}",
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
                c.error(
                    f"rules[{index}].name",
                    f"duplicate rule name {raw['name'].strip()!r} (also rules[{seen_names[key]}])",
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
    for rule, index in zip(rules, positions, strict=True):
        path = f"rules[{index}]"
        if catch_all is not None:
            c.warn(
                path,
                f"rule {rule.name!r} is never used: rules[{catch_all}] before it matches "
                "every customer",
            )
            continue
        same = earlier.get(_conditions(rule))
        if same is not None:
            c.warn(
                path,
                f"rule {rule.name!r} is never used: rules[{same}] has the same conditions",
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
