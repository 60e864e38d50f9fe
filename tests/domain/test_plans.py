"""Dunning plans: parsing, validation (all errors at once, readable paths), warnings, round trip."""

from __future__ import annotations

import ast
import copy
import pickle
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relance.domain.money import minor_units
from relance.domain.plans import fields
from relance.domain.plans.advice import plan_warnings
from relance.domain.plans.model import (
    CHANNELS,
    MAX_DAYS,
    TRIGGER_FROMS,
    Plan,
    Step,
    Variant,
    variant_for,
)
from relance.domain.plans.problems import PlanError, Problem
from relance.domain.plans.reading import load_plans_yaml, parse_plan, parse_plans
from relance.domain.plans.writing import plan_to_dict

STANDARD_YAML = resources.files("relance").joinpath("plans", "standard.yaml")


def valid_plan() -> dict[str, Any]:
    """A small valid plan with no warnings; tests mutate copies of it."""
    return {
        "code": "basic",
        "name": "Basic",
        "steps": [
            {
                "name": "Reminder",
                "trigger": {"days": 10},
                "channel": "email",
                "recipients": ["role:billing"],
                "subject": "Invoice {{ reference.number }}",
                "body": "Dear {{ customer.name }},\nplease pay.",
            },
            {
                "name": "Call",
                "trigger": {"days": 20, "from": "due_date"},
                "channel": "call",
                "recipients": ["role:billing"],
                "owners": ["owner"],
                "body": "Call {{ customer.name }}.",
            },
        ],
    }


def errors_of(data: object, where: str = "") -> dict[str, str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(data, where)  # type: ignore[arg-type]
    assert all(problem.severity == "error" for problem in caught.value.problems)
    return {problem.path: problem.message for problem in caught.value.problems}


def warnings_of(data: dict[str, Any]) -> dict[str, str]:
    return {problem.path: problem.message for problem in plan_warnings(parse_plan(data), "")}


def step1(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda plan: plan["steps"][0].update(changes)


def step2(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda plan: plan["steps"][1].update(changes)


def top(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda plan: plan.update(changes)


def drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda plan: plan.pop(key)


def drop_from_step1(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda plan: plan["steps"][0].pop(key)


# ---------------------------------------------------------------------------------------------
# The shipped plan


def test_shipped_standard_plan_parses_without_errors_or_warnings() -> None:
    collected: list[Problem] = []
    [plan] = load_plans_yaml(STANDARD_YAML.read_text(encoding="utf-8"), warnings=collected)

    assert collected == []
    assert plan_warnings(plan) == []
    assert plan.code == "standard"
    assert plan.name == "Standard B2B"
    assert plan.min_contact_delay_days == 15
    assert plan.tolerance == {cur: Decimal("5.00") for cur in ("EUR", "GBP", "USD")}
    assert plan.repeat_last_every_days is None


def test_shipped_standard_plan_escalates_in_trigger_order() -> None:
    [plan] = load_plans_yaml(STANDARD_YAML.read_text(encoding="utf-8"))
    summary = [
        (s.trigger_days, s.trigger_from, s.channel, s.mode, s.attach, s.recipients, s.cc)
        for s in plan.steps
    ]
    assert summary == [
        (-5, "due_date", "email", "auto", "reference", ("role:billing",), ()),
        (15, "due_date", "email", "auto", "overdue", ("role:billing",), ()),
        (30, "due_date", "email", "auto", "overdue", ("role:billing",), ("role:escalation",)),
        (45, "due_date", "call", "manual", "none", ("role:billing",), ()),
        (60, "due_date", "letter", "auto", "overdue", ("role:legal", "role:billing"), ()),
    ]
    call = plan.steps[3]
    assert call.owners == ("owner",)
    assert [s.template for s in plan.steps] == [
        "pre_due_reminder",
        "first_reminder",
        "firm_reminder",
        "",
        "formal_notice",
    ]
    assert "{{ customer.name }}" in call.body  # the call script is the plan's own


def test_shipped_standard_plan_round_trips() -> None:
    [plan] = load_plans_yaml(STANDARD_YAML.read_text(encoding="utf-8"))
    assert parse_plan(plan_to_dict(plan)) == plan


# ---------------------------------------------------------------------------------------------
# Valid input: defaults and normalisation


def test_minimal_plan_gets_documented_defaults() -> None:
    plan = parse_plan(valid_plan())
    email, call = plan.steps

    assert plan.min_contact_delay_days == 0
    assert plan.tolerance == {}
    assert plan.repeat_last_every_days is None
    assert plan.repeat_last_max is None
    assert (email.trigger_from, email.mode, email.attach, email.cc, email.owners) == (
        "due_date",
        "auto",
        "overdue",
        (),
        (),
    )
    assert (call.mode, call.attach, call.subject) == ("manual", "none", "")


@pytest.mark.parametrize(
    ("channel", "mode", "attach"),
    [
        ("email", "auto", "overdue"),
        ("sms", "auto", "overdue"),
        ("letter", "auto", "overdue"),
        ("call", "manual", "none"),
        ("task", "manual", "none"),
    ],
)
def test_mode_and_attach_default_by_channel(channel: str, mode: str, attach: str) -> None:
    data = valid_plan()
    data["steps"][0].update(channel=channel, owners=["owner"])
    step = parse_plan(data).steps[0]
    assert (step.mode, step.attach) == (mode, attach)


def test_auto_call_is_normalised_to_manual_with_a_warning_not_an_error() -> None:
    data = valid_plan()
    data["steps"][1]["mode"] = "auto"
    collected: list[Problem] = []

    plan = parse_plan(data, "basic", warnings=collected)

    assert plan.steps[1].mode == "manual"
    assert [(p.path, p.severity) for p in collected] == [("basic: steps[2].mode", "warning")]
    assert "'auto' was changed to 'manual'" in collected[0].message


def test_normalisation_warning_is_reported_even_when_the_plan_is_rejected() -> None:
    data = valid_plan()
    data["steps"][1]["mode"] = "auto"
    data["name"] = ""
    collected: list[Problem] = []

    with pytest.raises(PlanError) as caught:
        parse_plan(data, warnings=collected)

    assert [p.path for p in caught.value.problems] == ["name"]
    assert [p.path for p in collected] == ["steps[2].mode"]


def test_manual_email_is_allowed_for_approval() -> None:
    data = valid_plan()
    data["steps"][0].update(mode="manual", owners=["group:Credit control"])
    step = parse_plan(data).steps[0]
    assert (step.mode, step.owners) == ("manual", ("group:Credit control",))


def test_address_entries_are_normalised() -> None:
    data = valid_plan()
    data["steps"][0].update(
        recipients=[" Role:Billing ", "OWNER", "sales_rep"],
        cc=["role: escalation"],
        owners=["group: Credit control ", "jane.doe@example.com"],
        mode="manual",
    )
    step = parse_plan(data).steps[0]
    assert step.recipients == ("role:billing", "owner", "sales_rep")
    assert step.cc == ("role:escalation",)
    assert step.owners == ("group:Credit control", "jane.doe@example.com")


def test_texts_are_trimmed_but_bodies_are_kept_verbatim() -> None:
    data = valid_plan()
    data.update(code=" basic ", name="  Basic  ")
    data["steps"][0].update(name=" Reminder ", subject=" Hello ", body="\n  Indented\n")
    plan = parse_plan(data)
    assert (plan.code, plan.name) == ("basic", "Basic")
    assert (plan.steps[0].name, plan.steps[0].subject) == ("Reminder", "Hello")
    assert plan.steps[0].body == "\n  Indented\n"


def test_null_optional_values_mean_their_default() -> None:
    data = valid_plan()
    data.update(min_contact_delay_days=None, tolerance=None, repeat_last_every_days=None)
    data["steps"][0].update(cc=None, mode=None, attach=None)
    data["steps"][0]["trigger"]["from"] = None
    plan = parse_plan(data)
    assert (plan.min_contact_delay_days, plan.tolerance) == (0, {})
    assert (plan.steps[0].cc, plan.steps[0].mode, plan.steps[0].attach) == ((), "auto", "overdue")
    assert plan.steps[0].trigger_from == "due_date"


def test_tolerance_accepts_strings_and_numbers_and_normalises_currency() -> None:
    data = valid_plan()
    data["tolerance"] = {"eur": "5.00", "USD": 2, "GBP": 0.5, "JPY": "100", "KWD": Decimal("0.125")}
    plan = parse_plan(data)
    assert plan.tolerance == {
        "EUR": Decimal("5.00"),
        "USD": Decimal(2),
        "GBP": Decimal("0.5"),
        "JPY": Decimal(100),
        "KWD": Decimal("0.125"),
    }
    assert plan.tolerance_for("EUR") == Decimal("5.00")
    assert plan.tolerance_for("CHF") == Decimal(0)


def test_step_helpers_describe_who_acts() -> None:
    email, call = parse_plan(valid_plan()).steps
    assert (email.is_customer_facing, email.is_manual) == (True, False)
    assert (call.is_customer_facing, call.is_manual) == (True, True)
    task = Step(name="Check", trigger_days=1, channel="task", mode="manual")
    assert task.is_customer_facing is False


def test_plans_are_hashable_values() -> None:
    data = valid_plan()
    data["tolerance"] = {"EUR": "5.00"}
    first = parse_plan(data)
    second = parse_plan(copy.deepcopy(data))
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1


# ---------------------------------------------------------------------------------------------
# Errors: each names the right path


ERROR_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("code missing", drop("code"), "code", "is required"),
    ("code blank", top(code="   "), "code", "is required"),
    ("code not a slug", top(code="Standard B2B"), "code", "'Standard B2B' is not a valid code"),
    ("code leading dash", top(code="-std"), "code", "is not a valid code"),
    ("code a number", top(code=2024), "code", "must be text, not 2024 (a number)"),
    ("name missing", drop("name"), "name", "is required"),
    ("name multi-line", top(name="Basic\nplan"), "name", "single line"),
    ("unknown plan key", top(stpes=[]), "stpes", "did you mean 'steps'?"),
    ("unknown step key", step1(chanel="sms"), "steps[1].chanel", "did you mean 'channel'?"),
    (
        "unknown trigger key",
        step1(trigger={"days": 1, "form": "due_date"}),
        "steps[1].trigger.form",
        "allowed keys: days, from",
    ),
    ("negative delay", top(min_contact_delay_days=-1), "min_contact_delay_days", "0 or more"),
    ("bool delay", top(min_contact_delay_days=True), "min_contact_delay_days", "true (a boolean)"),
    ("text delay", top(min_contact_delay_days="15"), "min_contact_delay_days", "whole number"),
    ("float delay", top(min_contact_delay_days=1.5), "min_contact_delay_days", "whole number"),
    ("huge delay", top(min_contact_delay_days=10**9), "min_contact_delay_days", "out of range"),
    ("zero repeat", top(repeat_last_every_days=0), "repeat_last_every_days", "positive"),
    ("bool repeat", top(repeat_last_every_days=True), "repeat_last_every_days", "boolean"),
    ("negative max", top(repeat_last_max=-2), "repeat_last_max", "positive"),
    ("float max", top(repeat_last_max=2.5), "repeat_last_max", "positive"),
    ("tolerance list", top(tolerance=["EUR"]), "tolerance", "must be a mapping"),
    ("tolerance currency", top(tolerance={"XYZ": "1"}), "tolerance.XYZ", "ISO 4217"),
    ("tolerance negative", top(tolerance={"EUR": "-1.00"}), "tolerance.EUR", "negative"),
    ("tolerance decimals", top(tolerance={"EUR": "1.005"}), "tolerance.EUR", "more decimals"),
    ("tolerance JPY decimals", top(tolerance={"JPY": "0.5"}), "tolerance.JPY", "more decimals"),
    ("tolerance bool", top(tolerance={"EUR": True}), "tolerance.EUR", "boolean"),
    ("tolerance text", top(tolerance={"EUR": "five"}), "tolerance.EUR", "not a number"),
    ("tolerance twice", top(tolerance={"eur": "1", "EUR": "2"}), "tolerance.EUR", "twice"),
    ("no steps key", drop("steps"), "steps", "at least one step"),
    ("empty steps", top(steps=[]), "steps", "at least one step"),
    ("steps not a list", top(steps="email"), "steps", "must be a list"),
    ("step not a mapping", lambda p: p["steps"].__setitem__(0, "email"), "steps[1]", "mapping"),
    ("step name missing", drop_from_step1("name"), "steps[1].name", "is required"),
    (
        "duplicate step name",
        step2(name=" reminder "),
        "steps[2].name",
        'duplicate step name "reminder" (also step 1)',
    ),
    ("trigger missing", drop_from_step1("trigger"), "steps[1].trigger", "is required"),
    ("trigger not a mapping", step1(trigger=15), "steps[1].trigger", "must be a mapping"),
    ("days missing", step1(trigger={"from": "due_date"}), "steps[1].trigger.days", "required"),
    ("days text", step1(trigger={"days": "10"}), "steps[1].trigger.days", "whole number"),
    ("days bool", step1(trigger={"days": True}), "steps[1].trigger.days", "boolean"),
    ("days huge", step1(trigger={"days": -99999}), "steps[1].trigger.days", "out of range"),
    (
        "trigger from",
        step1(trigger={"days": 1, "from": "invoice_date"}),
        "steps[1].trigger.from",
        "'invoice_date' is not one of due_date, issue_date",
    ),
    ("channel missing", drop_from_step1("channel"), "steps[1].channel", "is required"),
    ("channel bool", step1(channel=True), "steps[1].channel", "boolean"),
    ("mode", step1(mode="automatic"), "steps[1].mode", "'automatic' is not one of auto, manual"),
    ("recipients text", step1(recipients="role:billing"), "steps[1].recipients", "must be a list"),
    (
        "unknown role",
        step1(recipients=["role:finance"]),
        "steps[1].recipients[1]",
        "unknown role 'finance'",
    ),
    (
        "bad recipient",
        step1(recipients=["role:billing", "customer"]),
        "steps[1].recipients[2]",
        "'customer' is not role:billing|escalation|legal|primary, owner, sales_rep or an email",
    ),
    ("bad email", step1(recipients=["ar@"]), "steps[1].recipients[1]", "is not role:"),
    ("group recipient", step1(recipients=["group:ar"]), "steps[1].recipients[1]", "cannot receive"),
    ("number recipient", step1(recipients=[42]), "steps[1].recipients[1]", "must be text"),
    (
        "duplicate recipient",
        step1(recipients=["role:billing", "Role:Billing"]),
        "steps[1].recipients[2]",
        "listed twice",
    ),
    ("bad cc", step1(cc=["boss"]), "steps[1].cc[1]", "is not role:"),
    ("role owner", step2(owners=["role:billing"]), "steps[2].owners[1]", "cannot own"),
    (
        "bad owner",
        step2(owners=["boss"]),
        "steps[2].owners[1]",
        "'boss' is not owner, sales_rep, group:NAME or an email address",
    ),
    ("empty group", step2(owners=["group:"]), "steps[2].owners[1]", "needs a group name"),
    (
        "attach",
        step1(attach="all"),
        "steps[1].attach",
        "'all' is not one of none, reference, overdue, open",
    ),
    ("email subject", drop_from_step1("subject"), "steps[1].subject", "required for email"),
    (
        "letter subject",
        step1(channel="letter", subject=" "),
        "steps[1].subject",
        "required for letter",
    ),
    ("subject two lines", step1(subject="Hello\nthere"), "steps[1].subject", "single line"),
    ("subject number", step1(subject=12), "steps[1].subject", "must be text"),
    ("body missing", drop_from_step1("body"), "steps[1].body", "is required"),
    ("body blank", step2(body="  \n "), "steps[2].body", "is required"),
    ("body list", step2(body=["a"]), "steps[2].body", "must be text, not a list"),
    (
        "body syntax",
        step1(body="Hello\n\n{{ x }\n"),
        "steps[1].body",
        "line 3, column 1: unexpected '}'",
    ),
    ("subject syntax", step1(subject="{% if x %}"), "steps[1].subject", "line 1, column 1: "),
    ("unclosed for", step2(body="a\n{% for i in x %}"), "steps[2].body", "'endfor'"),
]


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_each_error_names_its_path(
    mutate: Callable[[dict[str, Any]], None], path: str, fragment: str
) -> None:
    data = valid_plan()
    mutate(data)
    errors = errors_of(data)
    assert path in errors, errors
    assert fragment in errors[path]


def test_error_message_and_path_match_the_documented_form() -> None:
    data = valid_plan()
    data["steps"][1]["channel"] = "fax"
    with pytest.raises(PlanError) as caught:
        parse_plan(data, "standard")
    assert str(caught.value) == (
        "standard: steps[2].channel: 'fax' is not one of email, sms, letter, call, task"
    )
    assert isinstance(caught.value, ValueError)


def test_plan_that_is_not_a_mapping_is_rejected() -> None:
    assert errors_of(["code", "name"]) == {
        "plan": "a plan must be a mapping (code, name, steps, …), not a list"
    }
    assert list(errors_of("x", "imported")) == ["imported"]


def test_all_errors_are_collected_at_once() -> None:
    data = valid_plan()
    data["code"] = "Bad Code"
    data["min_contact_delay_days"] = -3
    data["tolerance"] = {"EUR": "-1"}
    data["colour"] = "red"
    data["steps"][0].update(channel="fax", body="{{ oops }")
    data["steps"][1].update(trigger={"days": True}, owners=["nobody"])
    data["steps"].append({"name": "Reminder", "trigger": {"days": 40}, "channel": "task"})

    with pytest.raises(PlanError) as caught:
        parse_plan(data)

    paths = [problem.path for problem in caught.value.problems]
    assert paths == [
        "colour",
        "code",
        "min_contact_delay_days",
        "tolerance.EUR",
        "steps[1].channel",
        "steps[1].body",
        "steps[2].trigger.days",
        "steps[2].owners[1]",
        "steps[3].body",
        "steps[3].name",
    ]
    lines = str(caught.value).splitlines()
    assert len(lines) == len(paths)
    assert all(line.startswith(f"{path}: ") for line, path in zip(lines, paths, strict=True))


def test_plan_error_survives_pickling() -> None:
    error = PlanError([Problem("code", "is required"), Problem("name", "is required")])
    clone = pickle.loads(pickle.dumps(error))
    assert clone.problems == error.problems
    assert str(clone) == "code: is required\nname: is required"


# ---------------------------------------------------------------------------------------------
# Warnings


def test_valid_base_plan_has_no_warnings() -> None:
    assert warnings_of(valid_plan()) == {}


def test_unbounded_repeat_of_an_automatic_last_step_warns() -> None:
    data = valid_plan()
    data["steps"][1] = {
        "name": "Notice",
        "trigger": {"days": 45},
        "channel": "letter",
        "recipients": ["role:legal"],
        "subject": "Formal notice",
        "body": "Pay.",
    }
    data["repeat_last_every_days"] = 30
    warnings = warnings_of(data)
    assert list(warnings) == ["repeat_last_every_days"]
    assert "it would repeat until paid" in warnings["repeat_last_every_days"]
    assert 'step 2 "Notice"' in warnings["repeat_last_every_days"]

    data["repeat_last_max"] = 3
    assert warnings_of(data) == {}


def test_repeating_a_manual_last_step_does_not_warn() -> None:
    data = valid_plan()
    data["repeat_last_every_days"] = 7
    assert warnings_of(data) == {}


def test_repeat_max_without_interval_warns() -> None:
    data = valid_plan()
    data["repeat_last_max"] = 2
    assert "no effect" in warnings_of(data)["repeat_last_max"]


def test_trigger_order_is_checked_within_each_trigger_origin() -> None:
    data = valid_plan()
    data["steps"][0]["trigger"] = {"days": 30}
    warnings = warnings_of(data)
    assert list(warnings) == ["steps[2].trigger.days"]
    assert warnings["steps[2].trigger.days"].startswith("trigger order inconsistent")
    assert 'step 1 "Reminder"' in warnings["steps[2].trigger.days"]
    assert "steps[" not in warnings["steps[2].trigger.days"]  # the step in words, not a path

    data["steps"][0]["trigger"] = {"days": 60, "from": "issue_date"}
    assert warnings_of(data) == {}, "different origins are not compared"

    data["steps"][0]["trigger"] = {"days": 20}
    assert warnings_of(data) == {}, "equal offsets are in order"


def test_trigger_order_compares_with_the_previous_step_of_the_same_origin() -> None:
    data = valid_plan()
    data["steps"][1]["trigger"] = {"days": 90, "from": "issue_date"}
    data["steps"].append(
        {
            "name": "Late",
            "trigger": {"days": 5},
            "channel": "task",
            "owners": ["sales_rep"],
            "body": "Check the account.",
        }
    )
    warnings = warnings_of(data)
    assert list(warnings) == ["steps[3].trigger.days"]
    assert 'after step 1 "Reminder" (+10 days)' in warnings["steps[3].trigger.days"]


@pytest.mark.parametrize("channel", ["email", "sms", "letter", "call"])
def test_customer_facing_step_without_recipients_warns(channel: str) -> None:
    data = valid_plan()
    data["steps"][0].update(channel=channel, recipients=[], owners=["owner"])
    warnings = warnings_of(data)
    assert list(warnings) == ["steps[1].recipients"]
    assert "no recipients" in warnings["steps[1].recipients"]


def test_internal_task_without_recipients_does_not_warn() -> None:
    data = valid_plan()
    data["steps"][1].update(channel="task", recipients=[])
    assert warnings_of(data) == {}


def test_manual_step_without_owners_warns() -> None:
    data = valid_plan()
    data["steps"][0]["mode"] = "manual"
    data["steps"][1].pop("owners")
    warnings = warnings_of(data)
    assert list(warnings) == ["steps[1].owners", "steps[2].owners"]
    assert "nobody's Actions inbox" in warnings["steps[2].owners"]


def test_fixed_email_address_in_recipients_or_cc_warns() -> None:
    data = valid_plan()
    data["steps"][0].update(recipients=["role:billing", "ar@example.com"], cc=["boss@example.com"])
    warnings = warnings_of(data)
    assert list(warnings) == ["steps[1].recipients[2]", "steps[1].cc[1]"]
    assert "for every customer on the plan" in warnings["steps[1].recipients[2]"]
    assert 'boss@example.com in step 1 "Reminder"' in warnings["steps[1].cc[1]"]


def test_staff_email_as_owner_does_not_warn() -> None:
    data = valid_plan()
    data["steps"][1]["owners"] = ["jane@example.com"]
    assert warnings_of(data) == {}


def test_warnings_are_prefixed_with_the_plan_code_by_default() -> None:
    data = valid_plan()
    data["steps"][0]["cc"] = ["boss@example.com"]
    [problem] = plan_warnings(parse_plan(data))
    assert problem.path == "basic: steps[1].cc[1]"
    assert problem.severity == "warning"
    assert str(problem).startswith("basic: steps[1].cc[1]: warning: ")


def test_parse_plan_collects_plan_warnings_too() -> None:
    data = valid_plan()
    data["steps"][0]["cc"] = ["boss@example.com"]
    collected: list[Problem] = []
    parse_plan(data, warnings=collected)
    assert [p.path for p in collected] == ["steps[1].cc[1]"]


# ---------------------------------------------------------------------------------------------
# Documents of several plans


def other_plan(code: str | None = "other") -> dict[str, Any]:
    data = valid_plan()
    if code is None:
        data.pop("code")
    else:
        data["code"] = code
    data["name"] = "Other"
    return data


def test_parse_plans_accepts_one_mapping_or_a_list() -> None:
    assert [p.code for p in parse_plans(valid_plan())] == ["basic"]
    assert [p.code for p in parse_plans([valid_plan(), other_plan()])] == ["basic", "other"]
    assert [p.code for p in parse_plans((valid_plan(),))] == ["basic"]


def test_parse_plans_prefixes_paths_with_code_or_position() -> None:
    broken = valid_plan()
    broken["steps"][1]["channel"] = "fax"
    nameless = other_plan(code=None)
    nameless["steps"][0]["body"] = ""

    with pytest.raises(PlanError) as caught:
        parse_plans([broken, nameless])

    assert [p.path for p in caught.value.problems] == [
        "basic: steps[2].channel",
        "plans[2]: code",
        "plans[2]: steps[1].body",
    ]


def test_single_plan_without_code_is_called_plan() -> None:
    with pytest.raises(PlanError) as caught:
        parse_plans(other_plan(code=None))
    assert [p.path for p in caught.value.problems] == ["plan: code"]


def test_duplicate_codes_in_one_document_are_an_error() -> None:
    with pytest.raises(PlanError) as caught:
        parse_plans([valid_plan(), other_plan("other"), other_plan("basic")])
    assert [str(p) for p in caught.value.problems] == [
        "plans[3]: code: duplicate plan code 'basic' (also plan 1)"
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [([], "contains no plans"), ("standard", "must be a plan or a list of plans"), (3, "3")],
)
def test_parse_plans_rejects_documents_that_hold_no_plan(document: object, message: str) -> None:
    with pytest.raises(PlanError) as caught:
        parse_plans(document)
    [problem] = caught.value.problems
    assert problem.path == "document"
    assert message in problem.message


def test_parse_plans_passes_warnings_through() -> None:
    second = other_plan()
    second["steps"][1]["mode"] = "auto"
    collected: list[Problem] = []
    parse_plans([valid_plan(), second], warnings=collected)
    assert [p.path for p in collected] == ["other: steps[2].mode"]


# ---------------------------------------------------------------------------------------------
# YAML


BASIC_YAML = """\
code: basic
name: Basic
steps:
  - name: Reminder
    trigger: {days: 10}
    channel: email
    recipients: [role:billing]
    subject: "Invoice {{ reference.number }}"
    body: "Dear {{ customer.name }},\\nplease pay."
  - name: Call
    trigger: {days: 20, from: due_date}
    channel: call
    recipients: [role:billing]
    owners: [owner]
    body: "Call {{ customer.name }}."
"""


def test_yaml_plan_parses_like_the_mapping() -> None:
    [plan] = load_plans_yaml(BASIC_YAML)
    assert plan == parse_plan(valid_plan())


def test_yaml_block_scalar_body_keeps_its_lines() -> None:
    text = BASIC_YAML.replace('"Call {{ customer.name }}."', "|\n      Call.\n\n      Be nice.\n")
    [plan] = load_plans_yaml(text)
    assert plan.steps[1].body == "Call.\n\nBe nice.\n"


def test_yaml_list_of_plans() -> None:
    text = yaml.safe_dump([valid_plan(), other_plan()])
    assert [p.code for p in load_plans_yaml(text)] == ["basic", "other"]


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("code: x\nname: y\n\tsteps: []\n", "line 3, column 1", "cannot start any token"),
        (
            "code: x\nname: y\nsteps:\n  - name: a\n   channel: email\n",
            "line 5, column 4",
            "expected <block end>",
        ),
        ("code: x\nname: [a, b\nsteps: []\n", "line 3, column 6", "expected ',' or ']'"),
        ("code: a\nname: b\ncode: c\n", "line 3, column 1", "found duplicate key 'code'"),
        ("code: a\nname: b\n---\ncode: c\n", "line 3, column 1", "single document"),
    ],
)
def test_yaml_errors_report_line_and_column(text: str, where: str, fragment: str) -> None:
    with pytest.raises(PlanError) as caught:
        load_plans_yaml(text)
    [problem] = caught.value.problems
    assert problem.path == where
    assert problem.message.startswith("invalid YAML: ")
    assert fragment in problem.message


def test_yaml_merge_keys_may_override_without_being_duplicates() -> None:
    text = BASIC_YAML + (
        "  - &base\n"
        "    name: Letter\n"
        "    trigger: {days: 30}\n"
        "    channel: letter\n"
        "    recipients: [role:legal]\n"
        "    subject: Notice\n"
        "    body: Pay.\n"
        "  - <<: *base\n"
        "    name: Second letter\n"
        "    trigger: {days: 60}\n"
    )
    [plan] = load_plans_yaml(text)
    assert [s.name for s in plan.steps[2:]] == ["Letter", "Second letter"]
    assert plan.steps[3].trigger_days == 60
    assert plan.steps[3].subject == "Notice"


@pytest.mark.parametrize("text", ["", "   \n", "# nothing here\n", "null\n"])
def test_empty_yaml_document_is_an_error(text: str) -> None:
    with pytest.raises(PlanError) as caught:
        load_plans_yaml(text)
    assert [str(p) for p in caught.value.problems] == [
        "document: is empty: expected a plan or a list of plans"
    ]


def test_yaml_booleans_are_not_day_counts() -> None:
    text = BASIC_YAML.replace("{days: 10}", "{days: yes}")
    with pytest.raises(PlanError) as caught:
        load_plans_yaml(text)
    assert [str(p) for p in caught.value.problems] == [
        "basic: steps[1].trigger.days: must be a whole number of days, not true (a boolean)"
    ]


def test_yaml_unquoted_tolerance_number_is_accepted() -> None:
    text = BASIC_YAML.replace("steps:\n", "tolerance: {EUR: 5.00, JPY: 100}\nsteps:\n", 1)
    [plan] = load_plans_yaml(text)
    assert plan.tolerance == {"EUR": Decimal("5.00"), "JPY": Decimal(100)}


# ---------------------------------------------------------------------------------------------
# plan_to_dict


def test_plan_to_dict_is_the_explicit_yaml_form() -> None:
    data = valid_plan()
    data.update(tolerance={"eur": 5, "KWD": "0.125"}, repeat_last_every_days=14, repeat_last_max=3)
    exported = plan_to_dict(parse_plan(data))

    assert exported["tolerance"] == {"EUR": "5", "KWD": "0.125"}
    assert (exported["repeat_last_every_days"], exported["repeat_last_max"]) == (14, 3)
    assert exported["steps"][1] == {
        "name": "Call",
        "trigger": {"days": 20, "from": "due_date"},
        "channel": "call",
        "mode": "manual",
        "recipients": ["role:billing"],
        "cc": [],
        "owners": ["owner"],
        "attach": "none",
        "template": "",
        "subject": "",
        "body": "Call {{ customer.name }}.",
        "notify_sales_rep_days_before": None,
        "variant_b": None,
    }
    assert set(exported) == set(fields.PLAN_KEYS)
    assert all(set(step) == set(fields.STEP_KEYS) for step in exported["steps"])


# Hypothesis: any valid plan survives export and re-import, through Python and through YAML.

SINGLE_LINE = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=20
).filter(str.strip)
# A subject written as plain text: no "{", which would open a Jinja2 tag.
PLAIN_LINE = SINGLE_LINE.filter(lambda t: "{" not in t)
# YAML folds its own line breaks (NEL, LS, PS) and a lone CR into newlines: not text people write.
FREE_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="{\x85\u2028\u2029\r"), max_size=60
)
TEMPLATES = st.sampled_from(
    [
        "Dear {{ customer.name }},",
        "{% for inv in invoices %}{{ inv.number }} {{ inv.amount_due }}\n{% endfor %}",
        "{# internal note #}Total: {{ totals }}",
        "{% if reference %}{{ reference.number|upper }}{% else %}-{% endif %}",
    ]
)
EMAILS = st.from_regex(r"[a-z0-9._+-]{1,10}@[a-z0-9]{1,10}\.(com|fr|co\.uk)", fullmatch=True)
RECIPIENTS = (
    st.sampled_from(
        ["role:billing", "role:escalation", "role:legal", "role:primary", "owner", "sales_rep"]
    )
    | EMAILS
)
OWNERS = (
    st.sampled_from(["owner", "sales_rep"])
    | EMAILS
    | st.from_regex(r"group:[A-Za-z0-9][A-Za-z0-9 _-]{0,15}", fullmatch=True)
)
CURRENCIES = ["EUR", "USD", "GBP", "JPY", "KWD", "CHF"]


def address_list(entries: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(entries, max_size=3, unique_by=str.lower)


@st.composite
def tolerance_data(draw: st.DrawFn) -> dict[str, object]:
    tolerance: dict[str, object] = {}
    for currency in draw(st.lists(st.sampled_from(CURRENCIES), unique=True, max_size=3)):
        amount = draw(st.decimals(min_value=0, max_value=10**6, places=minor_units(currency)))
        written = draw(st.sampled_from([str(amount), amount]))
        key = draw(st.sampled_from([currency, currency.lower()]))
        tolerance[key] = written
    return tolerance


@st.composite
def step_data(draw: st.DrawFn, name: str) -> dict[str, object]:
    channel = draw(st.sampled_from(CHANNELS))
    trigger: dict[str, object] = {"days": draw(st.integers(-MAX_DAYS, MAX_DAYS))}
    if draw(st.booleans()):
        trigger["from"] = draw(st.sampled_from(TRIGGER_FROMS))
    step: dict[str, object] = {"name": name, "trigger": trigger, "channel": channel}
    optional: dict[str, st.SearchStrategy[object]] = {
        "mode": st.sampled_from(["auto", "manual"]),
        "recipients": address_list(RECIPIENTS),
        "cc": address_list(RECIPIENTS),
        "owners": address_list(OWNERS),
        "attach": st.sampled_from(["none", "reference", "overdue", "open"]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            step[key] = draw(strategy)
    if channel in ("email", "letter") or draw(st.booleans()):
        step["subject"] = draw(PLAIN_LINE | TEMPLATES.filter(lambda t: "\n" not in t))
    step["body"] = draw(TEMPLATES | FREE_TEXT.filter(str.strip))
    if draw(st.booleans()):  # an A/B test of the text
        variant: dict[str, object] = {"body": draw(TEMPLATES | FREE_TEXT.filter(str.strip))}
        if channel in ("email", "letter"):
            variant["subject"] = draw(PLAIN_LINE)
        if draw(st.booleans()):
            variant["share"] = draw(st.integers(1, 99))
        step["variant_b"] = variant
    return step


@st.composite
def plan_data(draw: st.DrawFn) -> dict[str, object]:
    names = draw(
        st.lists(SINGLE_LINE, min_size=1, max_size=5, unique_by=lambda s: s.strip().casefold())
    )
    data: dict[str, object] = {
        "code": draw(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,15}", fullmatch=True)),
        "name": draw(SINGLE_LINE),
        "steps": [draw(step_data(name)) for name in names],
    }
    optional: dict[str, st.SearchStrategy[object]] = {
        "min_contact_delay_days": st.integers(0, MAX_DAYS),
        "tolerance": tolerance_data(),
        "repeat_last_every_days": st.none() | st.integers(1, MAX_DAYS),
        "repeat_last_max": st.none() | st.integers(1, 100),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            data[key] = draw(strategy)
    return data


PROPERTY_SETTINGS = settings(  # 150 examples, fewer under the quick profile
    max_examples=3 * settings.default.max_examples // 2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(plan_data())
def test_valid_plans_round_trip_through_plan_to_dict(data: dict[str, object]) -> None:
    plan = parse_plan(data)
    exported = plan_to_dict(plan)

    assert parse_plan(exported) == plan
    assert plan_to_dict(parse_plan(exported)) == exported
    assert all(isinstance(amount, str) for amount in exported["tolerance"].values())


@PROPERTY_SETTINGS
@given(plan_data())
def test_valid_plans_round_trip_through_yaml_text(data: dict[str, object]) -> None:
    plan = parse_plan(data)
    text = yaml.safe_dump(plan_to_dict(plan), allow_unicode=True, sort_keys=False)
    assert load_plans_yaml(text) == [plan]


@PROPERTY_SETTINGS
@given(plan_data(), st.sampled_from(["channel", "trigger", "body"]))
def test_one_broken_step_does_not_hide_the_others(data: dict[str, object], key: str) -> None:
    steps = data["steps"]
    assert isinstance(steps, list)
    for step in steps:
        step.pop(key)
    with pytest.raises(PlanError) as caught:
        parse_plan(data)
    paths = {problem.path for problem in caught.value.problems}
    assert paths == {f"steps[{i}].{key}" for i in range(1, len(steps) + 1)}


# ---------------------------------------------------------------------------------------------
# Architecture


def test_the_plans_package_is_pure_python() -> None:
    """Plans import nothing of Django and, outside their package, only money, merge fields and
    the error kinds."""
    imported: set[str] = set()
    for module in Path(fields.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
    roots = {name.split(".")[0] for name in imported}
    assert "django" not in roots
    outside = {
        name
        for name in imported
        if name.startswith("relance") and not name.startswith("relance.domain.plans")
    }
    assert outside <= {
        "relance.domain.errors",
        "relance.domain.money",
        "relance.domain.merge_fields",
        "relance.domain.texts",
    }
    assert Plan.__module__ == "relance.domain.plans.model"


def test_unknown_merge_fields_are_warnings_with_line_and_column() -> None:
    data = valid_plan()
    data["steps"][0].update(
        subject="Hi {{ cutsomer }}",
        body="Dear {{ customer.name }},\n{% for inv in invoices %}{{ inv.nubmer }}{% endfor %}",
    )
    warnings: list = []
    parse_plan(data, warnings=warnings)
    found = {w.path: w.message for w in warnings}
    assert "line 1, column 7: unknown merge field 'cutsomer'" in found["steps[1].subject"]
    assert "line 2, column 29: unknown merge field 'inv.nubmer'" in found["steps[1].body"]
    assert "fields of invoices" in found["steps[1].body"]


def test_a_step_may_tell_the_sales_rep_ahead_by_a_whole_number_of_days() -> None:
    data = valid_plan()
    data["steps"][1]["notify_sales_rep_days_before"] = 3
    assert parse_plan(data).steps[1].notify_sales_rep_days_before == 3
    data["steps"][1]["notify_sales_rep_days_before"] = 0
    with pytest.raises(
        PlanError,
        match=r"steps\[2\]\.notify_sales_rep_days_before: must be a number of days, 1 or more",
    ):
        parse_plan(data)


# ---------------------------------------------------------------------------------------------
# A/B tests of a step's text


def _with_variant(variant: object) -> dict[str, Any]:
    data = valid_plan()
    data["steps"][0]["variant_b"] = variant
    return data


def test_a_variant_is_checked_like_the_steps_own_text() -> None:
    plan = parse_plan(_with_variant({"subject": "Reminder", "body": "Please pay {{ totals }}."}))
    assert plan.steps[0].variant_b == Variant(50, "", "Reminder", "Please pay {{ totals }}.")
    assert plan.steps[1].variant_b is None
    assert errors_of(_with_variant({"body": "x", "share": 100, "colour": "red"})) == {
        "steps[1].variant_b.share": "must be a percentage from 1 to 99, not 100",
        "steps[1].variant_b.colour": errors_of(
            _with_variant({"colour": "red", "template": "first_reminder"})
        )["steps[1].variant_b.colour"],
        "steps[1].variant_b.subject": "is required for email steps without a template",
    }
    assert "steps[1].variant_b.body" in errors_of(
        _with_variant({"subject": "s", "body": "{{ oops"})
    )
    assert errors_of(_with_variant("B")) == {
        "steps[1].variant_b": (
            "must be a mapping with share, template, subject, body, not 'B' (text)"
        )
    }
    assert parse_plan(_with_variant({"template": "first_reminder", "share": 20})).steps[0].variant_b


def test_each_customer_stays_on_one_side_and_the_share_holds() -> None:
    step = parse_plan(_with_variant({"template": "first_reminder", "share": 30})).steps[0]
    sides = [variant_for(step, f"C{n}", "basic") for n in range(2000)]
    assert sides == [variant_for(step, f"C{n}", "basic") for n in range(2000)]
    assert set(sides) == {"A", "B"}
    assert 0.26 < sides.count("B") / len(sides) < 0.34
    plain = parse_plan(valid_plan()).steps[0]
    assert variant_for(plain, "C1", "basic") == ""
