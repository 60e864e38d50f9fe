"""The JSON form of payments, promises, disputes and action items: what the API answers and what
a webhook's `data` holds, so an integrator reads one shape for one thing (as Stripe's events
carry the API's objects). Dates stay `date`s; the caller's encoder writes them."""

from __future__ import annotations

from typing import Any

from relance.domain.money import format_amount
from relance.models import ActionItem, CreditNote, Dispute, Payment, Promise


def settlement(s: CreditNote | Payment) -> dict[str, Any]:
    return {
        "external_id": s.external_id,
        "customer_id": s.customer.external_id,
        "invoice_id": s.invoice.external_id if s.invoice else None,
        "date": s.date,
        "currency": s.currency,
        "amount": format_amount(s.amount, s.currency),
    }


def promise(p: Promise) -> dict[str, Any]:
    return {
        "id": p.pk,
        "customer_id": p.customer.external_id,
        "invoice_ids": sorted(i.external_id for i in p.invoices.all()),
        "promised_on": p.promised_on,
        "pay_by": p.pay_by,
        "amount": format_amount(p.amount, p.currency) if p.amount is not None else None,
        "currency": p.currency,
        "status": p.status,
        "broken_on": p.broken_on,
    }


def dispute(d: Dispute) -> dict[str, Any]:
    return {
        "id": d.pk,
        "customer_id": d.customer.external_id,
        "invoice_id": d.invoice.external_id,
        "opened_on": d.opened_on,
        "resolved_on": d.resolved_on,
        "category": d.category,
        "reason": d.reason,
        "resolution": d.resolution,
    }


def action(item: ActionItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "customer_id": item.customer.external_id,
        "kind": item.kind,
        "title": item.title,
        "body": item.body,
        "due_date": item.due_date,
        "priority": item.priority,
        "status": item.status,
        "outcome": item.outcome,
        "note": item.note,
        "assignees": sorted(u.email for u in item.assignees.all()),
    }
