"""Storing dunning plans and assigning them to customers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from relance.domain import assignment, assignment_rules
from relance.domain.errors import Conflict, Refusal
from relance.domain.plans.advice import plan_warnings
from relance.domain.plans.model import Plan as DomainPlan
from relance.domain.plans.problems import PlanError, Problem, error, read_yaml
from relance.domain.plans.reading import load_plans_yaml, parse_plan
from relance.domain.plans.writing import plan_to_dict
from relance.domain.texts import N_
from relance.models import AssignmentRules, Company, Customer, Execution, Plan, Step
from relance.services.organisation import journal


class PlanNotFound(Refusal, LookupError):
    """The plan named is not one of the company's: the request names it, so it is refused."""

    field = "plan"


@dataclass
class PlanLoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "warnings": [{"path": w.path, "message": w.message} for w in self.warnings],
        }


def load_plans(text: str, *, company: Company | None = None, source: str = "cli") -> PlanLoadResult:
    """Validate a YAML document of one plan or a list, then upsert every plan by code: into the
    company given, else into the library and every company (the operator's way to give all of
    them the same plan; each company's copy stays its own afterwards).

    Raises PlanError listing every problem; nothing is stored unless all plans are valid.
    A code is reported created when some company (or the library) did not have it, updated when
    one of them had it otherwise, unchanged when all had it as it is.
    """
    plans = load_plans_yaml(text)
    owners: list[Company | None] = [company] if company else [None, *Company.objects.all()]
    result = PlanLoadResult()
    with transaction.atomic():
        for plan in plans:
            outcomes = {_upsert(plan, owner, source) for owner in owners}
            if "created" in outcomes:
                result.created.append(plan.code)
            elif "updated" in outcomes:
                result.updated.append(plan.code)
            else:
                result.unchanged.append(plan.code)
                continue
            result.warnings.extend(
                replace(w, path=f"{plan.code}: {w.path}") for w in plan_warnings(plan)
            )
    return result


def _upsert(plan: DomainPlan, company: Company | None, source: str) -> str:
    """Store one plan for one company (None: the library): created, updated or unchanged."""
    stored = Plan.objects.filter(company=company, code=plan.code).first()
    if stored is not None and stored.definition == plan_to_dict(plan):
        return "unchanged"
    _store(stored or Plan(code=plan.code), plan, company)
    if company is not None:
        journal.record("plan.loaded", company, source=source, data={"plan": plan.code})
    return "updated" if stored else "created"


def copy_library(company: Company, *, source: str = "cli") -> list[str]:
    """Give a new company its own copy of every library plan it does not have yet (codes)."""
    own = set(Plan.objects.filter(company=company).values_list("code", flat=True))
    copied = []
    language = company_language(company)
    for row in Plan.objects.filter(company__isnull=True).exclude(code__in=own).order_by("code"):
        _upsert(parse_plan(in_language(row.definition, language), row.code), company, source)
        copied.append(row.code)
    return copied


#: The plans relance ships (and the default assignment rules beside them).
SHIPPED = Path(__file__).resolve().parents[2] / "plans"
#: Countries whose companies get the shipped plans in French (their staff's step names, call
#: scripts and task texts; what customers receive follows each customer's own language).
FRENCH_COUNTRIES = frozenset({"FR", "MC"})
#: The texts of a plan a person reads, translated when a company copies a shipped plan.
_READ = ("name", "subject", "body")


def company_language(company: Company) -> str:
    return "fr" if company.country in FRENCH_COUNTRIES else "en"


def in_language(definition: dict[str, Any], language: str) -> dict[str, Any]:
    """A library plan's definition with its shipped texts in `language`: the plan's name, each
    step's name, subject and body that the catalogue knows (a text adapted by the operator is
    not in it and stays as written)."""
    with translation.override(language):
        steps = [
            {**step, **{k: gettext(step[k]) for k in _READ if step.get(k)}}
            for step in definition.get("steps", [])
        ]
        name = gettext(definition["name"]) if definition.get("name") else definition.get("name")
    return {**definition, "name": name, "steps": steps}


def shipped_texts(directory: Path = SHIPPED) -> list[str]:
    """Every text of the shipped plans that `in_language` translates, for the catalogue
    (relance's makemessages collects them)."""
    found: list[str] = []
    for path in sorted(directory.glob("*.yaml")):
        document = read_yaml(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or "steps" not in document:
            continue
        found += [document["name"]] if document.get("name") else []
        found += [s[k] for s in document["steps"] for k in _READ if s.get(k)]
    return list(dict.fromkeys(found))


def seed_library(directory: Path = SHIPPED) -> list[str]:
    """Put the shipped plans (every YAML file of `directory` that is a plan) into the library when
    it lacks their code; a library plan already there, perhaps adapted, is left as it is."""
    added = []
    for path in sorted(directory.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        document = read_yaml(text)
        if not isinstance(document, dict) or "steps" not in document:
            continue  # the assignment rules live beside the plans
        for plan in load_plans_yaml(text):
            if not Plan.objects.filter(company__isnull=True, code=plan.code).exists():
                _store(Plan(code=plan.code), plan, None)
                added.append(plan.code)
    return added


def _store(
    stored: Plan,
    plan: DomainPlan,
    company: Company | None,
    renamed: Mapping[str, str] | None = None,
) -> Plan:
    stored.company = company
    stored.name = plan.name
    stored.min_contact_delay_days = plan.min_contact_delay_days
    stored.repeat_last_every_days = plan.repeat_last_every_days
    stored.repeat_last_max = plan.repeat_last_max
    stored.tolerance = {cur: str(amount) for cur, amount in plan.tolerance.items()}
    stored.definition = plan_to_dict(plan)
    stored.save()
    _sync_steps(stored, plan, renamed or {})
    return stored


def _sync_steps(stored: Plan, plan: DomainPlan, renamed: Mapping[str, str]) -> None:
    """Mirror the steps as rows, matched by name so a step keeps its id when the plan is edited;
    a step renamed in the editor (`renamed`: old name -> new) keeps its row too."""
    rows = list(stored.steps.all())
    existing = {row.name: row for row in rows if row.name not in renamed}
    for row in rows:
        if row.name in renamed:
            displaced = existing.pop(renamed[row.name], None)
            if displaced is not None:  # a removed step had that name: it keeps its row, renamed
                displaced.name = f"{displaced.name} (removed, {displaced.pk})"[:200]
                displaced.active = False
                displaced.save(update_fields=["name", "active"])
            existing[renamed[row.name]] = row
    keep = set()
    for position, step in enumerate(plan.steps, start=1):
        row = existing.get(step.name) or Step(plan=stored, name=step.name)
        row.name = step.name
        row.position = position
        row.trigger_days = step.trigger_days
        row.trigger_from = step.trigger_from
        row.channel = step.channel
        row.mode = step.mode
        row.active = True
        row.save()
        keep.add(step.name)
    for name, row in existing.items():
        if name not in keep:
            row.active = False
            row.save(update_fields=["active"])


def fingerprint(definition: Mapping[str, Any]) -> str:
    """A short digest of a plan's stored form: an editor sends back the one it started from, so
    two people editing the same plan cannot silently overwrite each other's changes."""
    text = json.dumps(definition, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class PlanChanged(Conflict, RuntimeError):
    """The plan was saved by someone else since the editor read it."""


@dataclass
class PlanSaved:
    plan: Plan
    warnings: list[Problem]


def save_plan(
    definition: Mapping[str, Any],
    *,
    company: Company,
    stored: Plan | None = None,
    expected: str | None = None,
    renamed: Mapping[str, str] | None = None,
    actor: Any = None,
    source: str = "web",
    event: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> PlanSaved:
    """Store one plan edited as a whole (the editor's way; YAML files go through load_plans).

    Raises PlanError listing every problem (paths without the plan's code, e.g.
    `steps[2].subject`), PlanChanged when `expected` is not the stored plan's fingerprint.
    A renamed step (`renamed`: old name -> new) stays the same step: its row and the history of
    what it already did keep counting, so the engine never runs it again for the same invoices.
    `event` names the journal's kind (default plan.created or plan.edited), `details` adds to
    its data.
    """
    warnings: list[Problem] = []
    plan = parse_plan(definition, "", warnings=warnings)
    renamed = {old: new for old, new in (renamed or {}).items() if old != new}
    with transaction.atomic():
        if stored is None:
            if Plan.objects.filter(company=company, code=plan.code).exists():
                raise PlanError(
                    [
                        error(
                            "code",
                            N_("a plan with the code '%(code)s' already exists"),
                            code=plan.code,
                        )
                    ]
                )
            row = Plan(code=plan.code)
            previous = None
        else:
            row = Plan.objects.select_for_update().get(pk=stored.pk)
            if row.company_id != company.pk:
                raise PlanNotFound(f"no plan '{row.code}' for company {company.code}")
            previous = row.definition
            if expected is not None and fingerprint(row.definition) != expected:
                raise PlanChanged(row.code)
            if plan.code != row.code:
                raise PlanError([error("code", N_("a plan's code cannot change"))])
        _store(row, plan, company, renamed)
        if renamed:
            _rename_history(row, company, renamed)
        data: dict[str, Any] = {"plan": plan.code, **(details or {})}
        if renamed:
            data["renamed"] = renamed
        journal.record(
            event or ("plan.created" if previous is None else "plan.edited"),
            company,
            actor=actor,
            source=source,
            data=data,
        )
    return PlanSaved(row, warnings)


def _rename_history(plan: Plan, company: Company, renamed: Mapping[str, str]) -> None:
    """The engine knows what a customer already had by step name (domain.engine.Past): carry the
    old name's executions over to the new one, for the plan's own company only."""
    for old, new in renamed.items():
        Execution.objects.filter(company=company, plan_code=plan.code, step_name=old).update(
            step_name=new
        )


def plans_for(company: Company) -> Any:
    """The plans a customer of this company may be given: the company's own."""
    return Plan.objects.filter(company=company).order_by("name")


def assign_plan(
    customer: Customer,
    plan_code: str | None,
    *,
    source: str = "cli",
    actor: Any = None,
) -> Customer:
    """Give a customer an explicit plan, which wins over the assignment rules; None hands the
    choice back to the rules."""
    plan = None
    if plan_code is not None:
        plan = plans_for(customer.company).filter(code=plan_code).first()
        if plan is None:
            raise PlanNotFound(f"unknown plan '{plan_code}' for company {customer.company.code}")
    with transaction.atomic():
        previous = customer.plan.code if customer.plan else None
        customer.plan = plan
        customer.save(update_fields=["plan"])
        journal.record(
            "plan.assigned",
            customer,
            actor=actor,
            source=source,
            data={"plan": plan.code if plan else None, "previous": previous},
        )
    return customer


@dataclass
class RulesLoadResult:
    rules: int
    company: str | None
    warnings: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "rules": self.rules,
            "company": self.company,
            "warnings": [{"path": w.path, "message": w.message} for w in self.warnings],
        }


def load_rules(
    text: str, *, company: Company | None = None, source: str = "cli"
) -> RulesLoadResult:
    """Replace the assignment rules (of one company, or the default set) after validating them
    against the plans that exist; raises PlanError listing every problem."""
    return save_rules(read_yaml(text), company=company, source=source)


def save_rules(
    document: object, *, company: Company | None, source: str = "web", actor: Any = None
) -> RulesLoadResult:
    """Replace the assignment rules with `document` (their YAML form, as the rules editor builds
    it); raises PlanError listing every problem, with paths such as rules[2].when.risk."""
    warnings: list[Problem] = []
    known = Plan.objects.filter(company=company) if company else Plan.objects.all()
    rules = assignment_rules.parse_rules(
        document, plans=set(known.values_list("code", flat=True)), warnings=warnings
    )
    with transaction.atomic():
        AssignmentRules.objects.update_or_create(
            company=company, defaults={"definition": assignment_rules.rules_to_dict(rules)}
        )
        if company is not None:
            journal.record(
                "rules.loaded", company, actor=actor, source=source, data={"rules": len(rules)}
            )
    return RulesLoadResult(len(rules), company.code if company else None, warnings)


def rules_of(company: Company) -> tuple[list[dict[str, Any]], bool]:
    """The YAML form of the rules that apply to the company's customers, and whether they are
    the company's own (False: the default set for every company, or none at all)."""
    own = AssignmentRules.objects.filter(company=company).first()
    if own is not None:
        return own.definition, True
    default = AssignmentRules.objects.filter(company__isnull=True).first()
    return (default.definition if default else []), False


def rules_by_company() -> dict[int | None, list[assignment.Rule]]:
    """Every stored rule set, keyed by company id (None: the default for every company)."""
    return {
        row.company_id: assignment_rules.parse_rules(row.definition)
        for row in AssignmentRules.objects.all()
    }
