"""Storing dunning plans and assigning them to customers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q

from relance.domain import assignment
from relance.domain import plans as domain
from relance.models import AssignmentRules, Company, Customer, Event, Plan, Step
from relance.services import lookup


class PlanNotFound(LookupError):
    pass


class CustomerNotFound(LookupError):
    pass


@dataclass
class PlanLoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[domain.Problem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "warnings": [{"path": w.path, "message": w.message} for w in self.warnings],
        }


def load_plans(text: str, *, company: Company | None = None, source: str = "cli") -> PlanLoadResult:
    """Validate a YAML document of one plan or a list, then upsert every plan by code.

    Raises domain.PlanError listing every problem; nothing is stored unless all plans are valid.
    """
    plans = domain.load_plans_yaml(text)
    result = PlanLoadResult()
    with transaction.atomic():
        for plan in plans:
            definition = domain.plan_to_dict(plan)
            stored = Plan.objects.filter(code=plan.code).first()
            if (
                stored is not None
                and stored.definition == definition
                and (stored.company_id == (company.pk if company else None))
            ):
                result.unchanged.append(plan.code)
                continue
            if stored is None:
                stored = Plan(code=plan.code)
                result.created.append(plan.code)
            else:
                result.updated.append(plan.code)
            stored.company = company
            stored.name = plan.name
            stored.min_contact_delay_days = plan.min_contact_delay_days
            stored.repeat_last_every_days = plan.repeat_last_every_days
            stored.repeat_last_max = plan.repeat_last_max
            stored.tolerance = {cur: str(amount) for cur, amount in plan.tolerance.items()}
            stored.definition = definition
            stored.save()
            _sync_steps(stored, plan)
            result.warnings.extend(
                domain.Problem(f"{plan.code}: {w.path}", w.message, w.severity)
                for w in domain.plan_warnings(plan)
            )
            if company is not None:
                Event.objects.create(
                    company=company,
                    source=source,
                    kind="plan.loaded",
                    data={"plan": plan.code},
                )
    return result


def _sync_steps(stored: Plan, plan: domain.Plan) -> None:
    """Mirror the steps as rows, matched by name so a step keeps its id when the plan is edited."""
    existing = {s.name: s for s in stored.steps.all()}
    keep = set()
    for position, step in enumerate(plan.steps, start=1):
        row = existing.get(step.name) or Step(plan=stored, name=step.name)
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


def plans_for(company: Company) -> Any:
    """The plans a customer of this company may be given: the company's own and shared ones."""
    return Plan.objects.filter(Q(company=company) | Q(company__isnull=True)).order_by("name")


def assign_plan(
    customer_id: str,
    plan_code: str | None,
    *,
    company: Company | None = None,
    source: str = "cli",
    actor: Any = None,
) -> Customer:
    """Give a customer an explicit plan, which wins over the assignment rules; None hands the
    choice back to the rules."""
    try:
        customer = lookup.customer(customer_id, company)
    except lookup.NotFound as exc:
        raise CustomerNotFound(str(exc)) from None
    plan = None
    if plan_code is not None:
        plan = plans_for(customer.company).filter(code=plan_code).first()
        if plan is None:
            raise PlanNotFound(f"unknown plan '{plan_code}' for company {customer.company.code}")
    with transaction.atomic():
        previous = customer.plan.code if customer.plan else None
        customer.plan = plan
        customer.save(update_fields=["plan"])
        Event.objects.create(
            company=customer.company,
            customer=customer,
            source=source,
            actor=actor,
            kind="plan.assigned",
            data={"plan": plan.code if plan else None, "previous": previous},
        )
    return customer


@dataclass
class RulesLoadResult:
    rules: int
    company: str | None
    warnings: list[domain.Problem] = field(default_factory=list)

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
    against the plans that exist; raises domain.PlanError listing every problem."""
    warnings: list[domain.Problem] = []
    rules = assignment.load_rules_yaml(
        text, plans=set(Plan.objects.values_list("code", flat=True)), warnings=warnings
    )
    with transaction.atomic():
        AssignmentRules.objects.update_or_create(
            company=company, defaults={"definition": assignment.rules_to_dict(rules)}
        )
        if company is not None:
            Event.objects.create(
                company=company, source=source, kind="rules.loaded", data={"rules": len(rules)}
            )
    return RulesLoadResult(len(rules), company.code if company else None, warnings)


def rules_by_company() -> dict[int | None, list[assignment.Rule]]:
    """Every stored rule set, keyed by company id (None: the default for every company)."""
    return {
        row.company_id: assignment.parse_rules(row.definition)
        for row in AssignmentRules.objects.all()
    }
