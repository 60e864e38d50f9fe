"""Timelines: everything that happened to a customer or an invoice, in order (the UI comes later).

Events (executions, skips, disputes, promises, holds, imports…) are merged with the ledger's own
documents (invoices issued, payments received, credit notes) so nothing is recorded twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from relance.domain import reasons
from relance.domain.money import format_amount
from relance.models import (
    CreditNote,
    Customer,
    Event,
    Execution,
    Invoice,
    OutboxMessage,
    Payment,
)


def _entry(
    when: date | datetime,
    kind: str,
    invoice: str | None,
    data: dict[str, Any],
    zone: str = "UTC",
) -> dict[str, Any]:
    """An entry on the day it happened where the company is (a moment just after midnight in
    Paris belongs to that day, not to the day before as UTC has it)."""
    day = timezone.localtime(when, ZoneInfo(zone)).date() if isinstance(when, datetime) else when
    return {"date": day.isoformat(), "kind": kind, "invoice": invoice, **data}


def _documents(
    invoices: list[Invoice], customer: Customer, invoice: Invoice | None
) -> list[dict[str, Any]]:
    entries = [
        _entry(
            i.issue_date,
            "invoice.issued",
            i.external_id,
            {
                "number": i.number,
                "amount": format_amount(i.total, i.currency),
                "currency": i.currency,
            },
        )
        for i in invoices
    ]
    for model, kind in ((Payment, "payment.received"), (CreditNote, "credit_note.issued")):
        rows = model.objects.filter(customer=customer).select_related("invoice")
        if invoice is not None:
            rows = rows.filter(Q(invoice=invoice) | Q(allocations__invoice=invoice)).distinct()
        entries += [
            _entry(
                r.date,
                kind,
                r.invoice.external_id if r.invoice else None,
                {
                    "id": r.external_id,
                    "amount": format_amount(r.amount, r.currency),
                    "currency": r.currency,
                },
            )
            for r in rows
        ]
    return entries


def _who(actor: Any) -> str | None:
    """The person as colleagues know them: full name, else email, else username."""
    if actor is None:
        return None
    return actor.get_full_name().strip() or actor.email or actor.get_username()


def _events(query: Any, zone: str) -> list[dict[str, Any]]:
    return [
        _entry(
            (e.data.get("date") and date.fromisoformat(e.data["date"])) or e.at,
            e.kind,
            e.invoice.external_id if e.invoice else None,
            {
                "source": e.source,
                "by": e.actor.get_username() if e.actor else None,
                "who": _who(e.actor),
                **{k: v for k, v in e.data.items() if k != "date"},
            },
            zone,
        )
        for e in query.select_related("invoice", "actor")
    ]


def _messages(customer: Customer, invoice: Invoice | None) -> list[dict[str, Any]]:
    """Outbox messages with their delivery state (sent, failed, cancelled…)."""
    entries = []
    for m in OutboxMessage.objects.filter(customer=customer):
        if invoice is not None and invoice.pk not in m.invoice_ids:
            continue
        entries.append(
            _entry(
                m.sent_at or m.created_at,
                f"message.{m.status}",
                None,
                {
                    "channel": m.channel,
                    "to": m.to,
                    "subject": m.subject,
                    "attempts": m.attempts,
                    "error": m.last_error,
                },
                customer.company.time_zone,
            )
        )
    return entries


def _executions(customer: Customer, invoice: Invoice | None) -> list[dict[str, Any]]:
    """Steps executed, and those they superseded, with the engine's reason, read from the
    executions themselves: they are the record, an event would only repeat them."""
    entries = []
    for e in Execution.objects.filter(customer=customer).order_by("date", "pk"):
        if invoice is not None and invoice.external_id not in (
            e.invoices or [e.reference_external_id]
        ):
            continue
        entries += [
            _entry(
                e.date,
                "step.skipped",
                e.reference_external_id or None,
                {
                    "plan": e.plan_code,
                    "step": s["step"],
                    "step_index": s["step_index"],
                    "reason": (why := reasons.reason(reasons.SUPERSEDED_BY, step=e.step_name)),
                    "reason_data": why.as_json(),
                },
            )
            for s in e.superseded
        ]
        entries.append(
            _entry(
                e.date,
                f"step.{e.status}",
                e.reference_external_id or None,
                {
                    "plan": e.plan_code,
                    "step": e.step_name,
                    "step_index": e.step_index,
                    "variant": e.variant,
                    "channel": e.channel,
                    "reason": e.reason,
                    "reason_data": e.reason_data,
                    "invoices": e.invoices,
                    "totals": e.totals,
                },
            )
        )
    return entries


def customer_timeline(customer: Customer) -> list[dict[str, Any]]:
    entries = _documents(list(customer.invoices.all()), customer, None)
    entries += _executions(customer, None)
    entries += _messages(customer, None)
    entries += _events(Event.objects.filter(customer=customer), customer.company.time_zone)
    return sorted(entries, key=lambda e: e["date"])


def invoice_timeline(invoice: Invoice) -> list[dict[str, Any]]:
    customer = invoice.customer
    entries = _documents([invoice], customer, invoice)
    entries += _executions(customer, invoice)
    entries += _messages(customer, invoice)
    # Events naming the invoice among several (a grouped reminder) keep it in their data; JSON
    # containment is not portable across databases, so that part is filtered here.
    entries += [
        e
        for e in _events(Event.objects.filter(customer=customer), customer.company.time_zone)
        if e["invoice"] == invoice.external_id or invoice.external_id in e.get("invoices", ())
    ]
    return sorted(entries, key=lambda e: e["date"])
