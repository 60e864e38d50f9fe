"""`relance plan`: dunning plans and assignment rules from YAML, and a customer's own plan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from relance.cli.options import CONTEXT, company_option, json_option
from relance.cli.output import emit, reject, rejections


@click.group(context_settings=CONTEXT)
def plan() -> None:
    """Dunning plans: load from YAML, assign to customers."""


def _load_yaml_file(
    file: Path,
    company_code: str | None,
    as_json: bool,
    what: str,
    load: Callable[..., Any],
) -> Any:
    """Read a YAML file people wrote and hand it to a loading service; every problem found in it
    is printed with its place, and the command exits 1."""
    from relance.domain.plans.problems import PlanError
    from relance.services.organisation.companies import get_company

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reject(f"cannot read {file}: {exc}", as_json)
    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        try:
            return load(text, company=target)
        except PlanError as exc:  # every problem by its path, under the file's name
            problems = [{"path": p.path, "message": p.message} for p in exc.problems]
            reject(f"{file}: the {what} not valid:\n{exc}", as_json, {"errors": problems})


@plan.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--company",
    "company_code",
    metavar="CODE",
    help="Into this company's plans only (default: the library and every company).",
)
@json_option
def plan_load(file: Path, company_code: str | None, as_json: bool) -> None:
    """Validate and upsert (by code) the plan or list of plans in a YAML FILE.

    With --company, into that company's plans only; without, into the library and every
    company (each keeps its own copy, which later loads with --company change alone)."""
    from relance.services.dunning.plans import load_plans

    result = _load_yaml_file(file, company_code, as_json, "plan is", load_plans)
    lines = [
        f"{label} plan {code}"
        for label, codes in (
            ("Created", result.created),
            ("Updated", result.updated),
            ("Unchanged", result.unchanged),
        )
        for code in codes
    ]
    lines += [f"warning: {w.path}: {w.message}" for w in result.warnings]
    emit(as_json, result.as_json(), "\n".join(lines))


@plan.command("rules")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@company_option
@json_option
def plan_rules(file: Path, company_code: str | None, as_json: bool) -> None:
    """Replace the assignment rules (YAML list) that give customers without a plan their plan."""
    from relance.services.dunning.plans import load_rules

    result = _load_yaml_file(file, company_code, as_json, "rules are", load_rules)
    lines = [f"Loaded {result.rules} assignment rules for {result.company or 'every company'}."]
    lines += [f"warning: {w.path}: {w.message}" for w in result.warnings]
    emit(as_json, result.as_json(), "\n".join(lines))


@plan.command("assign")
@click.argument("customer_id")
@click.argument("plan_code")
@company_option
@json_option
def plan_assign(customer_id: str, plan_code: str, company_code: str | None, as_json: bool) -> None:
    """Assign plan PLAN_CODE to customer CUSTOMER_ID (external id)."""
    from relance.services.dunning.plans import assign_plan
    from relance.services.ledger import lookup
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        customer = assign_plan(lookup.customer(customer_id, target), plan_code)
    emit(
        as_json,
        {"customer": customer.external_id, "company": customer.company.code, "plan": plan_code},
        f"Customer {customer.external_id} ({customer.name}) now follows plan {plan_code}.",
    )
