"""Rendering a message's subject and body for one customer, in a Jinja2 sandbox.

Automatic messages are composed when they are delivered, not when the cycle queues them: the text
then shows what is owed at the moment it leaves (a partial payment between the two is reflected),
a corrected template applies to what is still queued, and the daily cycle only decides. Manual
items are rendered by the cycle, since a person reads them in the inbox.

The full merge-field catalogue, languages and Babel formatting come with the channels work.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from relance.domain import engine
from relance.domain.money import Money, Totals, format_amount
from relance.models import Company, Execution, Invoice, OutboxMessage
from relance.services.snapshots import Debtor, Person, PlanCache, amounts_due, debtors

#: Messages the engine sends outside any plan step, by execution step name.
BUILT_IN: dict[str, tuple[str, str]] = {
    engine.MISSED_PAYMENT_NOTICE: (
        "Missed payment: your promise to pay by {{ promise.pay_by }}",
        "Dear {{ customer.name }},\n\n"
        "We have not received the payment you promised for {{ promise.pay_by }}:\n\n"
        "{% for inv in invoices %}- {{ inv.number }}: {{ inv.amount_due }} {{ inv.currency }}\n"
        "{% endfor %}\n"
        "Please pay these invoices now, or contact us to agree on a new date.\n\n"
        "{{ company.name }}",
    ),
}


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


def _person(person: Person | None) -> dict[str, str]:
    return person._asdict() if person else {"name": "", "email": ""}


def context(
    company: Company,
    customer: Debtor,
    reference: engine.Item,
    invoices: tuple[engine.Item, ...],
    totals: Totals,
    today: date,
) -> dict[str, Any]:
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
        "owner": _person(customer.owner),
        "sales_rep": _person(customer.sales_rep),
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
    except Exception as exc:  # e.g. {{ name / 2 }}: the template's fault, never the sender's
        raise ValueError(f"template error: {type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class Composed:
    """A message ready to leave, or why it cannot (`problem`: never retried, a person must look)."""

    subject: str = ""
    body: str = ""
    problem: str = ""


def compose(messages: list[OutboxMessage], as_of: date) -> dict[int, Composed]:
    """Subject and body of these queued messages (by pk), with the amounts due on `as_of`.

    A few queries for the whole batch: executions, customers, invoices and their amounts due. The
    invoices listed are those the cycle chose that still have something to pay."""
    executions = Execution.objects.in_bulk([m.execution_id for m in messages if m.execution_id])
    customers = {c.pk: c for c in debtors(sorted({m.customer_id for m in messages}))}
    companies = Company.objects.in_bulk({c.company_id for c in customers.values()})
    wanted = {pk for m in messages for pk in m.invoice_ids} | {
        e.reference_invoice_id for e in executions.values() if e.reference_invoice_id
    }
    invoices = {
        pk: (ext, number, issued, due, currency)
        for pk, ext, number, issued, due, currency in Invoice.objects.filter(
            pk__in=wanted
        ).values_list("pk", "external_id", "number", "issue_date", "due_date", "currency")
    }
    owed: dict[int, Any] = defaultdict(int)
    for row in amounts_due(sorted(customers), as_of):
        owed[row[0]] = row[-1]
    plans = PlanCache()

    def item(pk: int) -> engine.Item:
        ext, number, issued, due, currency = invoices[pk]
        return engine.Item(ext, number, issued, due, currency, owed[pk])

    composed: dict[int, Composed] = {}
    for message in messages:
        execution = executions.get(message.execution_id or 0)
        if execution is None:  # written by hand or by an older version: sent as it stands
            composed[message.pk] = Composed(message.subject, message.body)
            continue
        source = _source(execution, plans)
        if source is None:
            composed[message.pk] = Composed(
                problem=f"step '{execution.step_name}' is no longer in plan '{execution.plan_code}'"
            )
            continue
        listed = tuple(item(pk) for pk in message.invoice_ids if owed[pk] > 0 and pk in invoices)
        reference_pk = execution.reference_invoice_id
        if reference_pk not in invoices and not listed:
            composed[message.pk] = Composed(problem="none of its invoices can be found any more")
            continue
        reference = item(reference_pk) if reference_pk in invoices else listed[0]
        customer = customers[message.customer_id]
        values = context(
            companies[customer.company_id],
            customer,
            reference,
            listed,
            Totals(Money(i.amount_due, i.currency) for i in listed),
            as_of,
        )
        values.update(message.merge_data)
        try:
            composed[message.pk] = Composed(render(source[0], values), render(source[1], values))
        except ValueError as exc:
            composed[message.pk] = Composed(problem=f"could not render the message ({exc})")
    return composed


def _source(execution: Execution, plans: PlanCache) -> tuple[str, str] | None:
    """(subject, body) templates of the step that produced this execution, as the plan is now."""
    if execution.plan_id is None:
        return BUILT_IN.get(execution.step_name)
    try:
        _, plan, _ = plans.get(execution.plan_id)
    except KeyError:
        return None
    step = next((s for s in plan.steps if s.name == execution.step_name), None)
    return (step.subject, step.body) if step else None
