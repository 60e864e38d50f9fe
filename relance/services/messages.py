"""Rendering a step's subject and body for one customer, in a Jinja2 sandbox.

The full merge-field catalogue, languages and Babel formatting come with the channels work; this
is the minimal, safe rendering the outbox needs to hold the exact text that will be sent.
"""

from __future__ import annotations

from datetime import date
from functools import cache, lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from relance.domain import engine
from relance.domain.money import Totals, format_amount
from relance.models import Company, Customer


@cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)


def _invoice(item: engine.Item, today: date) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "issue_date": item.issue_date.isoformat(),
        "due_date": item.due_date.isoformat(),
        "currency": item.currency,
        "amount_due": format_amount(item.amount_due, item.currency),
        "days_late": item.days_late(today),
    }


def describe_totals(totals: Totals) -> str:
    return ", ".join(f"{format_amount(totals[c], c)} {c}" for c in totals)


def context(
    company: Company,
    customer: Customer,
    reference: engine.Item,
    invoices: tuple[engine.Item, ...],
    totals: Totals,
    today: date,
) -> dict[str, Any]:
    def person(user: Any) -> dict[str, str]:
        if user is None:
            return {"name": "", "email": ""}
        return {"name": user.get_full_name() or user.email, "email": user.email}

    return {
        "company": {
            "name": company.name,
            "email": company.email,
            "phone": company.phone,
            "iban": company.iban,
            "bic": company.bic,
        },
        "customer": {"id": customer.external_id, "name": customer.name},
        "reference": _invoice(reference, today),
        "invoices": [_invoice(i, today) for i in invoices],
        "totals": describe_totals(totals),
        "owner": person(customer.owner),
        "sales_rep": person(customer.sales_rep),
        "today": today.isoformat(),
    }


@lru_cache(maxsize=1024)
def _template(source: str) -> Template:
    """Compiled once per process: compiling dominated a cycle that renders the same few steps for
    thousands of customers."""
    return _environment().from_string(source)


def render(source: str, values: dict[str, Any]) -> str:
    """Render, or raise ValueError with the template problem (never a sandbox escape)."""
    try:
        return _template(source).render(values)
    except TemplateError as exc:
        raise ValueError(f"template error: {exc}") from exc
