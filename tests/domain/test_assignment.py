"""Plan assignment rules: first match wins, explicit beats rules, reasons, parsing, shipped YAML."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.domain.assignment import CustomerFacts, Rule, average_days_late, choose_plan
from relance.domain.assignment_rules import load_rules_yaml, parse_rules, rules_to_dict
from relance.domain.plans.advice import plan_warnings
from relance.domain.plans.problems import PlanError, Problem
from relance.domain.plans.reading import load_plans_yaml

D = Decimal
PLANS_DIR = resources.files("relance").joinpath("plans")
SHIPPED_PLAN_FILES = sorted(
    (entry for entry in PLANS_DIR.iterdir() if entry.name.endswith((".yaml", ".yml"))),
    key=lambda entry: entry.name,
)
PLAN_FILES = [entry for entry in SHIPPED_PLAN_FILES if entry.name != "rules.yaml"]
TODAY = date(2025, 6, 30)


def facts(**changes: Any) -> CustomerFacts:
    """A plain, unremarkable customer; tests change what they need."""
    base = CustomerFacts(
        external_id="C1",
        segment="smb",
        risk="medium",
        country="FR",
        currency="EUR",
        credit_limit=None,
        balance={},
        average_days_late=None,
        explicit_plan=None,
    )
    return replace(base, **changes)


def errors_of(document: object, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(PlanError) as caught:
        parse_rules(document, **kwargs)
    assert all(problem.severity == "error" for problem in caught.value.problems)
    return {problem.path: problem.message for problem in caught.value.problems}


def one_rule(**when: Any) -> list[dict[str, Any]]:
    return [{"name": "R", "plan": "p", "when": when}]


# ---------------------------------------------------------------------------------------------
# choose_plan: precedence and order


def test_explicit_assignment_wins_over_every_rule() -> None:
    rules = [Rule(plan="standard", name="Everyone")]
    assert choose_plan(facts(explicit_plan="white-glove"), rules) == (
        "white-glove",
        "explicit assignment",
    )


def test_explicit_assignment_wins_even_without_rules() -> None:
    assert choose_plan(facts(explicit_plan="x"), []) == ("x", "explicit assignment")


def test_empty_explicit_plan_counts_as_none() -> None:
    assert choose_plan(facts(explicit_plan=""), [Rule(plan="std", name="All")])[0] == "std"


def test_first_matching_rule_wins_even_when_a_later_one_matches_too() -> None:
    rules = [
        Rule(plan="a", name="Only high", risk_in=("high",)),
        Rule(plan="b", name="Medium", risk_in=("medium",)),
        Rule(plan="c", name="Medium again", risk_in=("medium",)),
        Rule(plan="d", name="Everyone"),
    ]
    assert choose_plan(facts(risk="medium"), rules) == ("b", "rule 'Medium' (risk medium)")


def test_no_rule_matched() -> None:
    rules = [Rule(plan="a", name="High", risk_in=("high",))]
    assert choose_plan(facts(risk="low"), rules) == (None, "no rule matched")
    assert choose_plan(facts(), []) == (None, "no rule matched")


def test_catch_all_reason_says_so() -> None:
    rule = Rule(plan="standard", name="Everyone else")
    assert rule.is_catch_all
    assert choose_plan(facts(), [rule]) == (
        "standard",
        "rule 'Everyone else' (matches every customer)",
    )


def test_rules_may_be_any_iterable_and_are_not_consumed_past_the_match() -> None:
    seen: list[str] = []

    def rules() -> Any:
        for rule in (Rule(plan="a", name="A"), Rule(plan="b", name="B")):
            seen.append(rule.name)
            yield rule

    assert choose_plan(facts(), rules())[0] == "a"
    assert seen == ["A"]


def test_reason_lists_every_matched_condition_in_order() -> None:
    rule = Rule(
        plan="p",
        name="Big French accounts",
        segment_in=("Enterprise",),
        risk_in=("low", "medium"),
        country_in=("FR",),
        currency_in=("EUR",),
        min_credit_limit_use=D(50),
        max_credit_limit_use=D(100),
        min_average_days_late=D(10),
    )
    customer = facts(
        segment="enterprise",
        risk="medium",
        credit_limit=D(1000),
        balance={"EUR": D("853.33")},
        average_days_late=D("12.50"),
    )
    assert choose_plan(customer, [rule]) == (
        "p",
        "rule 'Big French accounts' (segment enterprise, risk medium, country FR, currency EUR, "
        "credit limit use 85.3% between 50% and 100%, average days late 12.5 ≥ 10)",
    )


# ---------------------------------------------------------------------------------------------
# Each condition


@pytest.mark.parametrize(
    ("rule", "matching", "not_matching"),
    [
        (Rule("p", "R", segment_in=("enterprise", "public")), {"segment": "public"}, {}),
        (Rule("p", "R", segment_in=("enterprise",)), {"segment": " Enterprise "}, {"segment": ""}),
        (Rule("p", "R", risk_in=("high",)), {"risk": "high"}, {"risk": ""}),
        (Rule("p", "R", risk_in=("low", "medium")), {"risk": "low"}, {"risk": "high"}),
        (Rule("p", "R", country_in=("GB", "IE")), {"country": "IE"}, {"country": "FR"}),
        (Rule("p", "R", country_in=("gb",)), {"country": "GB"}, {"country": ""}),
        (Rule("p", "R", currency_in=("USD",)), {"currency": "USD"}, {"currency": "EUR"}),
        (
            Rule("p", "R", min_credit_limit_use=D(80)),
            {"credit_limit": D(100), "balance": {"EUR": D(80)}},
            {"credit_limit": D(100), "balance": {"EUR": D("79.99")}},
        ),
        (
            Rule("p", "R", max_credit_limit_use=D(50)),
            {"credit_limit": D(1000), "balance": {"EUR": D(500)}},
            {"credit_limit": D(1000), "balance": {"EUR": D("500.01")}},
        ),
        (
            Rule("p", "R", min_average_days_late=D(30)),
            {"average_days_late": D(30)},
            {"average_days_late": D("29.99")},
        ),
        (
            Rule("p", "R", max_average_days_late=D(5)),
            {"average_days_late": D(5)},
            {"average_days_late": D("5.01")},
        ),
        (
            Rule("p", "R", min_average_days_late=D(1), max_average_days_late=D(5)),
            {"average_days_late": D(1)},
            {"average_days_late": D(0)},
        ),
    ],
)
def test_each_condition_matches_and_rejects(
    rule: Rule, matching: dict[str, Any], not_matching: dict[str, Any]
) -> None:
    assert rule.matches(facts(**matching))
    assert not rule.matches(facts(**not_matching))


def test_all_conditions_of_a_rule_must_hold() -> None:
    rule = Rule("p", "R", risk_in=("low",), country_in=("FR",))
    assert rule.matches(facts(risk="low", country="FR"))
    assert not rule.matches(facts(risk="low", country="DE"))
    assert not rule.matches(facts(risk="high", country="FR"))


@pytest.mark.parametrize(
    "rule",
    [
        Rule("p", "R", min_average_days_late=D(0)),
        Rule("p", "R", max_average_days_late=D(3660)),
        Rule("p", "R", min_credit_limit_use=D(0)),
        Rule("p", "R", max_credit_limit_use=D(1_000_000)),
    ],
)
def test_unknown_figures_never_match_numeric_conditions(rule: Rule) -> None:
    # Even bounds every known figure satisfies: no history is not a figure of 0.
    unknown = facts(average_days_late=None, credit_limit=None, balance={"EUR": D(10)})
    assert not rule.matches(unknown)
    assert choose_plan(unknown, [rule]) == (None, "no rule matched")


# ---------------------------------------------------------------------------------------------
# Credit limit use


def test_credit_limit_use_counts_only_the_customer_currency() -> None:
    customer = facts(
        currency="EUR",
        credit_limit=D(2000),
        balance={"EUR": D(500), "USD": D(100_000), "GBP": D(7)},
    )
    assert customer.credit_limit_use == D(25)


def test_credit_limit_use_is_zero_when_nothing_is_due_in_the_customer_currency() -> None:
    customer = facts(currency="EUR", credit_limit=D(1000), balance={"USD": D(900)})
    assert customer.credit_limit_use == D(0)


@pytest.mark.parametrize("limit", [None, D(0), D(-5)])
def test_credit_limit_use_is_unknown_without_a_positive_limit(limit: Decimal | None) -> None:
    assert facts(credit_limit=limit, balance={"EUR": D(10)}).credit_limit_use is None


def test_credit_limit_use_can_exceed_100_percent() -> None:
    customer = facts(credit_limit=D(1000), balance={"EUR": D("1500.00")})
    assert customer.credit_limit_use == D(150)
    assert Rule("p", "Over limit", min_credit_limit_use=D(100)).matches(customer)


# ---------------------------------------------------------------------------------------------
# average_days_late


def test_average_days_late_is_weighted_by_amount() -> None:
    paid = [
        # 1000 paid 10 days late, 3000 paid 30 days late: (10000 + 90000) / 4000 = 25
        (date(2025, 3, 1), date(2025, 3, 11), D(1000)),
        (date(2025, 4, 1), date(2025, 5, 1), D(3000)),
    ]
    assert average_days_late(paid, TODAY) == D("25.00")


def test_early_payment_counts_as_zero_not_negative() -> None:
    paid = [
        # 20 days early counts 0; 200 paid 9 days late: (0 * 100 + 9 * 200) / 300 = 6
        (date(2025, 3, 21), date(2025, 3, 1), D(100)),
        (date(2025, 4, 1), date(2025, 4, 10), D(200)),
    ]
    assert average_days_late(paid, TODAY) == D("6.00")


def test_payment_on_the_due_date_is_zero_days_late() -> None:
    assert average_days_late([(date(2025, 5, 1), date(2025, 5, 1), D(50))], TODAY) == D("0.00")


def test_invoices_paid_more_than_twelve_months_ago_are_ignored() -> None:
    paid = [
        (date(2024, 1, 1), date(2024, 6, 1), D(10_000)),  # 152 days late, but long ago
        (date(2025, 1, 1), date(2025, 1, 4), D(100)),  # 3 days late
    ]
    assert average_days_late(paid, TODAY) == D("3.00")


def test_window_is_the_last_365_days_including_today() -> None:
    oldest_counted = TODAY - timedelta(days=364)
    too_old = TODAY - timedelta(days=365)
    late_by = timedelta(days=4)
    assert average_days_late([(oldest_counted - late_by, oldest_counted, D(1))], TODAY) == D(4)
    assert average_days_late([(TODAY - late_by, TODAY, D(1))], TODAY) == D(4)
    assert average_days_late([(too_old - late_by, too_old, D(1))], TODAY) is None


def test_payments_after_today_have_not_happened_yet() -> None:
    tomorrow = TODAY + timedelta(days=1)
    assert average_days_late([(TODAY - timedelta(days=50), tomorrow, D(10))], TODAY) is None


def test_no_paid_invoice_gives_none_not_zero() -> None:
    assert average_days_late([], TODAY) is None


def test_zero_and_negative_amounts_carry_no_weight() -> None:
    paid = [
        (date(2025, 1, 1), date(2025, 3, 1), D(0)),
        (date(2025, 1, 1), date(2025, 3, 1), D(-50)),
        (date(2025, 2, 1), date(2025, 2, 3), D(10)),
    ]
    assert average_days_late(paid, TODAY) == D("2.00")
    assert average_days_late(paid[:2], TODAY) is None


def test_average_days_late_is_rounded_to_the_hundredth_half_even() -> None:
    paid = [
        # (1 day * 1 + 0 days * 2) / 3 = 0.333… -> 0.33
        (date(2025, 5, 1), date(2025, 5, 2), D(1)),
        (date(2025, 5, 1), date(2025, 5, 1), D(2)),
    ]
    assert average_days_late(paid, TODAY) == D("0.33")
    assert str(average_days_late(paid, TODAY)) == "0.33"


def test_average_days_late_accepts_a_generator() -> None:
    rows = ((date(2025, 5, 1), date(2025, 5, 8), D(5)) for _ in range(3))
    assert average_days_late(rows, TODAY) == D("7.00")


# ---------------------------------------------------------------------------------------------
# parse_rules: valid input


def test_parse_reads_every_condition_and_normalises_values() -> None:
    [rule] = parse_rules(
        [
            {
                "name": " Risky ",
                "plan": "high-risk",
                "when": {
                    "segment": ["Enterprise", "public"],
                    "risk": ["HIGH", "medium"],
                    "country": ["fr", "GB"],
                    "currency": ["eur"],
                    "min_credit_limit_use": 80,
                    "max_credit_limit_use": "120.5",
                    "min_average_days_late": 12.5,
                    "max_average_days_late": D(90),
                },
            }
        ]
    )
    assert rule == Rule(
        plan="high-risk",
        name="Risky",
        segment_in=("Enterprise", "public"),
        risk_in=("high", "medium"),
        country_in=("FR", "GB"),
        currency_in=("EUR",),
        min_credit_limit_use=D(80),
        max_credit_limit_use=D("120.5"),
        min_average_days_late=D("12.5"),
        max_average_days_late=D(90),
    )


def test_a_single_value_is_accepted_as_a_list_of_one() -> None:
    [rule] = parse_rules(one_rule(risk="high", country="FR"))
    assert (rule.risk_in, rule.country_in) == (("high",), ("FR",))


@pytest.mark.parametrize("when", [None, {}])
def test_a_rule_without_conditions_is_a_catch_all(when: Any) -> None:
    data: dict[str, Any] = {"name": "All", "plan": "standard"}
    if when is not None:
        data["when"] = when
    [rule] = parse_rules([data])
    assert rule == Rule(plan="standard", name="All")
    assert rule.is_catch_all


def test_an_empty_list_of_rules_is_valid() -> None:
    assert parse_rules([]) == []


def test_equal_min_and_max_are_allowed() -> None:
    [rule] = parse_rules(one_rule(min_average_days_late=5, max_average_days_late=5))
    assert rule.min_average_days_late == rule.max_average_days_late == D(5)


def test_known_plans_are_checked_when_given() -> None:
    rules = [{"name": "A", "plan": "standard"}]
    assert parse_rules(rules, plans={"standard"})[0].plan == "standard"
    assert errors_of([{"name": "A", "plan": "standrad"}], plans={"standard", "high-risk"}) == {
        "rules[1].plan": "unknown plan 'standrad' (did you mean 'standard'?); "
        "known plans: high-risk, standard"
    }


# ---------------------------------------------------------------------------------------------
# parse_rules: errors, all at once, with paths


def test_all_errors_are_collected_with_paths() -> None:
    document = [
        {"name": "Fine", "plan": "standard"},
        {
            "name": "Broken",
            "plan": "",
            "colour": "red",
            "when": {
                "risk": ["high", "extreme"],
                "countries": ["FR"],
                "min_average_days_late": True,
                "max_credit_limit_use": -1,
            },
        },
        "not a rule",
        {"name": "fine", "plan": "Not A Code", "when": ["risk"]},
    ]
    errors = errors_of(document)
    assert errors == {
        "rules[2].colour": "unknown key; allowed keys: name, plan, when",
        "rules[2].plan": "is required",
        "rules[2].when.countries": (
            "unknown key (did you mean 'country'?); allowed keys: segment, risk, country, "
            "currency, min_credit_limit_use, max_credit_limit_use, min_average_days_late, "
            "max_average_days_late"
        ),
        "rules[2].when.risk[2]": "'extreme' is not one of low, medium, high",
        "rules[2].when.min_average_days_late": "must be a number of days, not true (a boolean)",
        "rules[2].when.max_credit_limit_use": "must not be negative, not -1",
        "rules[3]": "must be a mapping with name, plan and when, not 'not a rule' (text)",
        "rules[4].name": 'duplicate rule name "fine" (also rule 1)',
        "rules[4].plan": (
            "'Not A Code' is not a plan code (lower-case letters, digits, '-' and '_')"
        ),
        "rules[4].when": "must be a mapping of conditions, not a list",
    }


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        ({"plan": "p"}, "rules[1].name", "is required"),
        ({"name": "  ", "plan": "p"}, "rules[1].name", "is required"),
        ({"name": 3, "plan": "p"}, "rules[1].name", "must be text, not 3 (a number)"),
        ({"name": "a\nb", "plan": "p"}, "rules[1].name", "must fit on a single line"),
        ({"name": "R"}, "rules[1].plan", "is required"),
        ({"name": "R", "plan": None}, "rules[1].plan", "is required"),
        ({"name": "R", "plan": True}, "rules[1].plan", "must be text, not true (a boolean)"),
        ({"name": "R", "plan": "p", "when": "risk high"}, "rules[1].when", "must be a mapping"),
    ],
)
def test_rule_level_errors(rule: dict[str, Any], path: str, message: str) -> None:
    errors = errors_of([rule])
    assert list(errors) == [path]
    assert errors[path].startswith(message)


@pytest.mark.parametrize(
    ("when", "path", "message"),
    [
        ({"risk": []}, "risk", "lists no risk: remove the key to accept any risk"),
        ({"risk": {"high": 1}}, "risk", "must be a list such as [high], not a mapping"),
        ({"risk": 3}, "risk", "must be a list such as [high], not 3 (a number)"),
        ({"segment": [1]}, "segment[1]", "must be text, not 1 (a number)"),
        ({"segment": [" "]}, "segment[1]", "must be text, not empty text"),
        ({"segment": ["a", "A"]}, "segment[2]", "'A' is listed twice"),
        ({"risk": ["high", "High"]}, "risk[2]", "'high' is listed twice"),
        ({"country": ["UK"]}, "country[1]", "'UK' is not an ISO 3166 country code"),
        ({"country": ["EU"]}, "country[1]", "'EU' is not an ISO 3166 country code"),
        ({"currency": ["EURO"]}, "currency[1]", "'EURO' is not an ISO 4217 currency code"),
        ({"country": [True]}, "country[1]", "must be text, not true (a boolean)"),
        ({"min_average_days_late": False}, "min_average_days_late", "must be a number of days"),
        ({"min_average_days_late": "soon"}, "min_average_days_late", "must be a number of days"),
        ({"min_average_days_late": [1]}, "min_average_days_late", "must be a number of days"),
        ({"min_average_days_late": -0.5}, "min_average_days_late", "must not be negative"),
        ({"max_average_days_late": 99999}, "max_average_days_late", "99999 is out of range"),
        ({"min_credit_limit_use": "nan"}, "min_credit_limit_use", "must be a finite number"),
        ({"min_credit_limit_use": float("inf")}, "min_credit_limit_use", "must be a finite"),
        ({"min_credit_limit_use": "1,5"}, "min_credit_limit_use", "must be a number of percent"),
        ({"max_credit_limit_use": True}, "max_credit_limit_use", "must be a number of percent"),
        ({"max_credit_limit_use": -3}, "max_credit_limit_use", "must not be negative"),
    ],
)
def test_condition_errors(when: dict[str, Any], path: str, message: str) -> None:
    errors = errors_of(one_rule(**when))
    assert list(errors) == [f"rules[1].when.{path}"]
    assert errors[f"rules[1].when.{path}"].startswith(message)


@pytest.mark.parametrize("figure", ["credit_limit_use", "average_days_late"])
def test_min_greater_than_max_is_an_error(figure: str) -> None:
    errors = errors_of(one_rule(**{f"min_{figure}": 30, f"max_{figure}": "5"}))
    assert errors == {
        f"rules[1].when.min_{figure}": (
            f"30 is greater than max_{figure} (5): no customer could match"
        )
    }


def test_duplicate_names_ignore_case_and_blanks() -> None:
    errors = errors_of([{"name": "Slow", "plan": "a"}, {"name": " slow ", "plan": "b"}])
    assert errors == {"rules[2].name": 'duplicate rule name "slow" (also rule 1)'}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (None, "is empty: expected a list of rules"),
        ({"name": "R", "plan": "p"}, "must be a list of rules"),
        ("rules", "must be a list of rules"),
    ],
)
def test_the_document_must_be_a_list(document: object, message: str) -> None:
    errors = errors_of(document)
    assert list(errors) == ["document"]
    assert errors["document"].startswith(message)


def test_plan_error_is_a_value_error_listing_problems_in_its_message() -> None:
    with pytest.raises(ValueError, match=r"rules\[1\]\.plan: is required"):
        parse_rules([{"name": "R"}])


# ---------------------------------------------------------------------------------------------
# Warnings


def test_rules_after_a_catch_all_are_reported_as_never_used() -> None:
    collected: list[Problem] = []
    rules = parse_rules(
        [
            {"name": "High", "plan": "a", "when": {"risk": ["high"]}},
            {"name": "All", "plan": "b"},
            {"name": "Low", "plan": "c", "when": {"risk": ["low"]}},
        ],
        warnings=collected,
    )
    assert len(rules) == 3
    assert [(p.path, p.message, p.severity) for p in collected] == [
        (
            "rules[3]",
            'rule 3 "Low" is never used: rule 2 "All" before it matches every customer',
            "warning",
        )
    ]


def test_a_rule_repeating_earlier_conditions_is_reported_as_never_used() -> None:
    collected: list[Problem] = []
    parse_rules(
        [
            {"name": "A", "plan": "a", "when": {"risk": "high"}},
            {"name": "B", "plan": "b", "when": {"risk": ["HIGH"]}},
        ],
        warnings=collected,
    )
    assert [(p.path, p.message) for p in collected] == [
        ("rules[2]", 'rule 2 "B" is never used: rule 1 "A" has the same conditions')
    ]


def test_no_warning_for_a_sensible_list() -> None:
    collected: list[Problem] = []
    parse_rules(
        [{"name": "A", "plan": "a", "when": {"risk": ["high"]}}, {"name": "B", "plan": "b"}],
        warnings=collected,
    )
    assert collected == []


# ---------------------------------------------------------------------------------------------
# YAML loading


def test_load_rules_yaml_reads_the_documented_form() -> None:
    text = """
- name: Risky customers
  plan: high-risk
  when: {risk: [high], min_average_days_late: 30}
"""
    assert load_rules_yaml(text) == [
        Rule(
            plan="high-risk",
            name="Risky customers",
            risk_in=("high",),
            min_average_days_late=D(30),
        )
    ]


def test_yaml_syntax_errors_give_the_line() -> None:
    text = "- name: A\n  plan: standard\n  when: {risk: [high}\n"
    with pytest.raises(PlanError) as caught:
        load_rules_yaml(text)
    [problem] = caught.value.problems
    assert problem.path.startswith("line 3, column ")
    assert problem.message.startswith("invalid YAML: ")


def test_duplicate_yaml_keys_are_refused() -> None:
    text = "- name: A\n  plan: standard\n  plan: high-risk\n"
    with pytest.raises(PlanError) as caught:
        load_rules_yaml(text)
    [problem] = caught.value.problems
    assert problem.path == "line 3, column 3"
    assert "found duplicate key 'plan'" in problem.message


def test_empty_yaml_is_an_error() -> None:
    with pytest.raises(PlanError) as caught:
        load_rules_yaml("# nothing yet\n")
    assert [p.path for p in caught.value.problems] == ["document"]


def test_yaml_is_loaded_safely() -> None:
    with pytest.raises(PlanError) as caught:
        load_rules_yaml("- !!python/object/apply:os.system ['true']\n")
    assert caught.value.problems[0].message.startswith("invalid YAML: ")


# ---------------------------------------------------------------------------------------------
# Round trip


def test_round_trip_of_a_full_rule_and_a_catch_all() -> None:
    rules = [
        Rule(
            plan="p",
            name="Everything",
            segment_in=("Enterprise",),
            risk_in=("low", "high"),
            country_in=("FR",),
            currency_in=("EUR", "USD"),
            min_credit_limit_use=D("12.5"),
            max_credit_limit_use=D(200),
            min_average_days_late=D(0),
            max_average_days_late=D("0.25"),
        ),
        Rule(plan="standard", name="Rest"),
    ]
    document = rules_to_dict(rules)
    assert document[1] == {"name": "Rest", "plan": "standard", "when": {}}
    assert document[0]["when"]["min_credit_limit_use"] == "12.5"
    assert parse_rules(document) == rules


names = st.text(alphabet="abcdefgh XYZ", min_size=1, max_size=12).map(str.strip).filter(bool)
amounts = st.decimals(min_value=0, max_value=500, places=2)


@st.composite
def parsed_rule_lists(draw: st.DrawFn) -> list[Rule]:
    count = draw(st.integers(min_value=0, max_value=5))
    rule_names = draw(st.lists(names, min_size=count, max_size=count, unique_by=str.casefold))
    rules = []
    for name in rule_names:
        low, high = draw(st.none() | amounts), draw(st.none() | amounts)
        if low is not None and high is not None:
            low, high = min(low, high), max(low, high)
        rules.append(
            Rule(
                plan=draw(st.sampled_from(["standard", "high-risk", "white-glove"])),
                name=name,
                segment_in=tuple(
                    draw(st.lists(st.sampled_from(["smb", "Enterprise"]), unique=True))
                ),
                risk_in=tuple(draw(st.lists(st.sampled_from(["low", "high"]), unique=True))),
                country_in=tuple(draw(st.lists(st.sampled_from(["FR", "GB"]), unique=True))),
                currency_in=tuple(draw(st.lists(st.sampled_from(["EUR", "JPY"]), unique=True))),
                min_credit_limit_use=draw(st.none() | amounts),
                min_average_days_late=low,
                max_average_days_late=high,
            )
        )
    return rules


@given(parsed_rule_lists())
def test_round_trip_property(rules: list[Rule]) -> None:
    assert parse_rules(rules_to_dict(rules)) == rules


# ---------------------------------------------------------------------------------------------
# Property: first match wins, against an independent oracle


RISK_VALUES = ["low", "medium", "high", ""]
SEGMENTS = ["smb", "enterprise", "public", ""]
COUNTRIES = ["FR", "GB", "DE"]
CURRENCIES = ["EUR", "GBP", "USD"]
bounds = st.decimals(min_value=0, max_value=120, places=1)
figures = st.none() | bounds


def oracle_matches(rule: Rule, f: CustomerFacts) -> bool:
    """Restated from the rules' definition, independently of Rule.explain."""
    checks: list[bool] = []
    for accepted, value in (
        (rule.segment_in, f.segment),
        (rule.risk_in, f.risk),
        (rule.country_in, f.country),
        (rule.currency_in, f.currency),
    ):
        if accepted:
            checks.append(value in accepted)
    use = None
    if f.credit_limit:
        use = f.balance.get(f.currency, Decimal(0)) * 100 / f.credit_limit
    for figure, low, high in (
        (use, rule.min_credit_limit_use, rule.max_credit_limit_use),
        (f.average_days_late, rule.min_average_days_late, rule.max_average_days_late),
    ):
        if low is not None:
            checks.append(figure is not None and figure >= low)
        if high is not None:
            checks.append(figure is not None and figure <= high)
    return all(checks)


CONDITION_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "segment_in": st.lists(st.sampled_from(SEGMENTS[:-1]), min_size=1, max_size=2, unique=True),
    "risk_in": st.lists(st.sampled_from(RISK_VALUES[:-1]), min_size=1, max_size=2, unique=True),
    "country_in": st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=2, unique=True),
    "currency_in": st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=2, unique=True),
    "min_credit_limit_use": bounds,
    "max_credit_limit_use": bounds,
    "min_average_days_late": bounds,
    "max_average_days_late": bounds,
}


@st.composite
def random_rules(draw: st.DrawFn) -> Rule:
    """A rule with zero to three conditions, so that matches (and several matches) are common."""
    chosen = draw(st.lists(st.sampled_from(sorted(CONDITION_VALUES)), max_size=3, unique=True))
    conditions: dict[str, Any] = {}
    for key in chosen:
        value = draw(CONDITION_VALUES[key])
        conditions[key] = tuple(value) if isinstance(value, list) else value
    return Rule(
        plan=draw(st.sampled_from(["a", "b", "c", "d"])),
        name=draw(st.sampled_from(["R1", "R2", "R3"])),
        **conditions,
    )


rules_strategy = st.lists(random_rules(), max_size=6)

facts_strategy = st.builds(
    CustomerFacts,
    external_id=st.just("C"),
    segment=st.sampled_from(SEGMENTS),
    risk=st.sampled_from(RISK_VALUES),
    country=st.sampled_from(COUNTRIES),
    currency=st.sampled_from(CURRENCIES),
    credit_limit=st.none() | st.decimals(min_value=0, max_value=10_000, places=0),
    balance=st.dictionaries(
        st.sampled_from(CURRENCIES), st.decimals(min_value=0, max_value=20_000, places=2)
    ),
    average_days_late=figures,
    explicit_plan=st.sampled_from([None, None, None, "", "x", "a"]),
)


@given(facts_strategy, rules_strategy)
def test_choose_plan_returns_explicit_or_first_match_or_none(
    f: CustomerFacts, rules: list[Rule]
) -> None:
    plan, reason = choose_plan(f, rules)
    first = next((rule for rule in rules if oracle_matches(rule, f)), None)
    if f.explicit_plan:
        assert (plan, reason) == (f.explicit_plan, "explicit assignment")
    elif first is None:
        assert (plan, reason) == (None, "no rule matched")
    else:
        assert plan == first.plan
        assert reason.startswith(f"rule {first.name!r} (")
    assert all(rule.matches(f) == oracle_matches(rule, f) for rule in rules)


# ---------------------------------------------------------------------------------------------
# Shipped files


def test_plans_directory_ships_the_three_plans_and_the_rules() -> None:
    names = {entry.name for entry in SHIPPED_PLAN_FILES}
    assert {"standard.yaml", "white-glove.yaml", "high-risk.yaml", "rules.yaml"} <= names


@pytest.mark.parametrize("entry", PLAN_FILES, ids=lambda entry: entry.name)
def test_every_shipped_plan_loads_without_errors_or_warnings(entry: Any) -> None:
    collected: list[Problem] = []
    plans = load_plans_yaml(entry.read_text(encoding="utf-8"), warnings=collected)
    assert collected == []
    for plan in plans:
        assert plan_warnings(plan) == []
        assert entry.name == f"{plan.code}.yaml"


def shipped_plans() -> dict[str, Any]:
    return {
        plan.code: plan
        for entry in PLAN_FILES
        for plan in load_plans_yaml(entry.read_text(encoding="utf-8"))
    }


def test_white_glove_plan_is_gentle_and_later_than_standard() -> None:
    plans = shipped_plans()
    plan, standard = plans["white-glove"], plans["standard"]
    call, *messages = plan.steps
    assert plan.min_contact_delay_days == 15
    assert (call.channel, call.mode, call.owners, call.trigger_days < 0) == (
        "call",
        "manual",
        ("owner",),
        True,
    )
    assert [step.channel for step in messages] == ["email", "email", "email", "letter"]
    standard_messages = [s for s in standard.steps if s.channel in ("email", "letter")]
    for gentle, usual in zip(messages[1:], standard_messages[1:], strict=True):
        assert gentle.trigger_days > usual.trigger_days, gentle.name
    days = [step.trigger_days for step in plan.steps]
    assert all(b - a >= plan.min_contact_delay_days for a, b in pairwise(days))


def test_high_risk_plan_escalates_fast() -> None:
    plan = shipped_plans()["high-risk"]
    summary = [
        (s.trigger_days, s.channel, s.mode, s.recipients, s.cc, s.owners) for s in plan.steps
    ]
    assert summary == [
        (-7, "email", "auto", ("role:billing",), (), ()),
        (3, "email", "auto", ("role:billing",), (), ()),
        (10, "email", "auto", ("role:billing",), ("role:escalation",), ()),
        (17, "call", "manual", ("role:billing",), (), ("owner",)),
        (24, "letter", "auto", ("role:legal",), (), ()),
        (30, "task", "manual", (), (), ("owner",)),
    ]
    assert plan.min_contact_delay_days == 7
    assert plan.tolerance == {cur: D("1.00") for cur in ("EUR", "GBP", "USD")}
    assert plan.repeat_last_every_days is None
    assert "collection agency" in plan.steps[-1].subject


@pytest.mark.parametrize("code", ["standard", "white-glove", "high-risk"])
def test_shipped_plans_use_the_template_library_or_their_own_text(code: str) -> None:
    from relance.messaging import library

    plan = shipped_plans()[code]
    messages = [s for s in plan.steps if s.channel in ("email", "letter")]
    assert len(messages) == 4
    assert messages[-1].template == "formal_notice"
    for step in plan.steps:
        if step.template:
            assert step.template in library.templates()
            assert not step.body  # the library's FR/EN text, not a one-language copy
        else:
            assert "{{ customer.name }}" in step.body


def shipped_rules() -> list[Rule]:
    collected: list[Problem] = []
    text = PLANS_DIR.joinpath("rules.yaml").read_text(encoding="utf-8")
    rules = load_rules_yaml(text, plans=set(shipped_plans()), warnings=collected)
    assert collected == []
    return rules


def test_shipped_rules_parse_and_name_shipped_plans() -> None:
    rules = shipped_rules()
    assert rules[-1].is_catch_all
    assert rules[-1].plan == "standard"
    assert parse_rules(rules_to_dict(rules)) == rules


@pytest.mark.parametrize(
    ("customer", "plan", "rule"),
    [
        (facts(risk="high", average_days_late=D(0)), "high-risk", "High-risk customers"),
        (facts(risk="low", average_days_late=D(30)), "high-risk", "Habitually late payers"),
        (
            facts(risk="low", segment="enterprise", average_days_late=D("45.5")),
            "high-risk",
            "Habitually late payers",
        ),
        (facts(risk="low", average_days_late=D(5)), "white-glove", "Reliable payers"),
        (facts(risk="low", average_days_late=D(0)), "white-glove", "Reliable payers"),
        (facts(risk="low", average_days_late=D("5.01")), "standard", "Everyone else"),
        (facts(risk="low", average_days_late=None), "standard", "Everyone else"),
        (
            facts(risk="low", segment="Public", average_days_late=D(12)),
            "white-glove",
            "Low-risk key accounts",
        ),
        (
            facts(risk="low", segment="enterprise", average_days_late=None),
            "white-glove",
            "Low-risk key accounts",
        ),
        (facts(risk="medium", segment="enterprise"), "standard", "Everyone else"),
        (facts(risk="medium", average_days_late=D(2)), "standard", "Everyone else"),
        (facts(risk="", average_days_late=D("29.99")), "standard", "Everyone else"),
        (facts(risk=""), "standard", "Everyone else"),
    ],
)
def test_shipped_rules_route_sample_customers(
    customer: CustomerFacts, plan: str, rule: str
) -> None:
    chosen, reason = choose_plan(customer, shipped_rules())
    assert chosen == plan
    assert reason.startswith(f"rule {rule!r} (")


def test_shipped_rules_explain_themselves() -> None:
    rules = shipped_rules()
    assert choose_plan(facts(risk="high"), rules) == (
        "high-risk",
        "rule 'High-risk customers' (risk high)",
    )
    assert choose_plan(facts(risk="low", average_days_late=D("2.50")), rules) == (
        "white-glove",
        "rule 'Reliable payers' (risk low, average days late 2.5 ≤ 5)",
    )
    assert choose_plan(facts(average_days_late=D(41)), rules) == (
        "high-risk",
        "rule 'Habitually late payers' (average days late 41 ≥ 30)",
    )
    assert choose_plan(facts(explicit_plan="standard", risk="high"), rules) == (
        "standard",
        "explicit assignment",
    )
