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
payment history) and calls `choose_plan`. Reading and writing the YAML is domain/assignment_rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from relance.domain import reasons
from relance.domain.reasons import Clause, Reason, reason

__all__ = [
    "LIST_CONDITIONS",
    "NUMERIC_CONDITIONS",
    "RISKS",
    "CustomerFacts",
    "Rule",
    "average_days_late",
    "choose_plan",
]

ZERO: Final = Decimal(0)
HUNDRED: Final = Decimal(100)

#: Risk ratings of the customers CSV (DESIGN §4); "" on a customer means "not rated".
RISKS: Final[tuple[str, ...]] = ("low", "medium", "high")

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

#: The payment-behaviour window of `average_days_late`: twelve months, counted as 365 days.
BEHAVIOUR_WINDOW_DAYS: Final = 365

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

    def explain(self, facts: CustomerFacts) -> list[Clause] | None:
        """The conditions that matched, as reason clauses (domain.reasons, written out in the
        reader's words), or None as soon as one does not hold.

        Matching and explaining are one function so the reason shown in the UI can never
        disagree with the decision actually taken.
        """
        matched: list[Clause] = []
        listed = (
            (reasons.CONDITION_SEGMENT, self.segment_in, facts.segment, _fold),
            (reasons.CONDITION_RISK, self.risk_in, facts.risk, _fold),
            (reasons.CONDITION_COUNTRY, self.country_in, facts.country, _upper),
            (reasons.CONDITION_CURRENCY, self.currency_in, facts.currency, _upper),
        )
        for code, accepted, value, norm in listed:
            if not accepted:
                continue
            if not norm(value) or norm(value) not in {norm(item) for item in accepted}:
                return None
            matched.append(Clause(code, {"value": value.strip()}))
        ranges = (
            (
                _CREDIT_USE,
                facts.credit_limit_use,
                self.min_credit_limit_use,
                self.max_credit_limit_use,
                _TENTH,
            ),
            (
                _DAYS_LATE,
                facts.average_days_late,
                self.min_average_days_late,
                self.max_average_days_late,
                _CENT,
            ),
        )
        for codes, figure, low, high, unit in ranges:
            if low is None and high is None:
                continue
            if figure is None:
                return None
            if (low is not None and figure < low) or (high is not None and figure > high):
                return None
            if low is not None and high is not None:
                code = codes[0]
            else:
                code = codes[1] if low is not None else codes[2]
            shown = {
                name: _rounded(value, unit)
                for name, value in (("figure", figure), ("low", low), ("high", high))
                if value is not None
            }
            matched.append(Clause(code, shown))
        return matched


#: (between, at least, at most) for each range a rule may set
_CREDIT_USE = (
    reasons.CREDIT_USE_BETWEEN,
    reasons.CREDIT_USE_AT_LEAST,
    reasons.CREDIT_USE_AT_MOST,
)
_DAYS_LATE = (reasons.DAYS_LATE_BETWEEN, reasons.DAYS_LATE_AT_LEAST, reasons.DAYS_LATE_AT_MOST)


def _rounded(number: Decimal, unit: Decimal) -> Decimal:
    return number.quantize(unit, rounding=ROUND_HALF_EVEN)


def _fold(value: str) -> str:
    return value.strip().casefold()


def _upper(value: str) -> str:
    return value.strip().upper()


def plain(number: Decimal) -> str:
    """A number without exponent or useless trailing zeros: 30, 2.5, 0.04."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def choose_plan(facts: CustomerFacts, rules: Iterable[Rule]) -> tuple[str | None, str]:
    """Return (plan code or None, reason): the explicit plan, else the FIRST matching rule's plan.

    The reason (a `reasons.Reason`, its English text a sentence) is what the UI shows:
    "explicit assignment", "rule 'Risky customers' (risk high)", "rule 'Everyone else' (matches
    every customer)" or "no rule matched". Order is the whole point of the list, so later rules
    are not even looked at once one matches.
    """
    if facts.explicit_plan:
        return facts.explicit_plan, reason(reasons.PLAN_EXPLICIT)
    for rule in rules:
        matched = rule.explain(facts)
        if matched is None:
            continue
        if not matched:
            return rule.plan, reason(reasons.PLAN_RULE_ALL, rule=rule.name)
        return rule.plan, reason(reasons.PLAN_RULE, rule=rule.name, conditions=Reason(*matched))
    return None, reason(reasons.PLAN_NO_RULE)


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
