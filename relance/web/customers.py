"""Customers: the list a credit controller works from, and one customer's page.

Amounts are computed for the customers shown (one query for the page), in the database, as of
today in the company's time zone: what is owed and, of it, what is overdue, per currency.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from relance.messaging import formatting
from relance.models import Contact, Customer
from relance.services import access, snapshots, timeline
from relance.services.forecasting import forecast
from relance.services.statements import statement
from relance.web import dialogue

PAGE_SIZE = 50
UPCOMING_DAYS = 60  # how far ahead a customer's page forecasts its plan


def _language() -> str:
    return (get_language() or "en")[:2]


def _amounts(customers: list[Customer], today: date) -> dict[int, dict[str, list[str]]]:
    """Customer pk -> {"owed": [...], "overdue": [...]}, each a formatted amount per currency."""
    owed: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    overdue: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in snapshots.amounts_due(sorted(c.pk for c in customers), today):
        customer, due, currency, amount = row[1], row[5], row[6], row[7]
        owed[customer][currency] += amount
        if due < today:
            overdue[customer][currency] += amount
    language = _language()

    def shown(sums: dict[str, Decimal]) -> list[str]:
        return [formatting.money(v, c, language) for c, v in sorted(sums.items()) if v]

    return {
        c.pk: {"owed": shown(owed.get(c.pk, {})), "overdue": shown(overdue.get(c.pk, {}))}
        for c in customers
    }


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    """Search by name or id, filter by company, 50 a page; htmx asks for the table alone."""
    query = access.customers(request.user).select_related("company", "plan", "sales_rep")
    search = request.GET.get("q", "").strip()
    if search:
        query = query.filter(Q(name__icontains=search) | Q(external_id__icontains=search))
    companies = list(access.companies(request.user))
    company = request.GET.get("company", "")
    if company:
        query = query.filter(company__code=company)
    page = Paginator(query.order_by("name", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    context: dict[str, Any] = {
        "page": page,
        "rows": [(c, amounts) for c, amounts in zip(shown, _rows(shown), strict=True)],
        "search": search,
        "companies": companies,
        "company": company,
    }
    partial = request.headers.get("HX-Request") == "true"
    name = "relance/customer_rows.html" if partial else "relance/customer_list.html"
    return render(request, name, context)


def _rows(customers: list[Customer]) -> list[dict[str, list[str]]]:
    amounts = _amounts(customers, timezone.localdate())
    return [amounts[c.pk] for c in customers]


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(
        access.customers(request.user).select_related("company", "plan", "owner", "sales_rep"),
        pk=pk,
    )
    today = timezone.localdate()
    language = _language()
    owed = statement(customer.external_id, today, customer.company, strict=False)
    context = {
        "customer": customer,
        "today": formatting.day(today, language),
        "hold_until": formatting.day(customer.hold_until, language) if customer.hold_until else "",
        "invoices": [_shown(row, language) for row in owed["invoices"]],
        "totals": [
            formatting.money(Decimal(v), c, language) for c, v in sorted(owed["totals"].items())
        ],
        "credit": [
            formatting.money(Decimal(v), c, language) for c, v in sorted(owed["credit"].items())
        ],
        "missing_rates": owed["missing_rates"],
        "contacts": Contact.objects.filter(customer=customer).order_by("name", "pk"),
        "timeline": [
            _described(e, language) for e in reversed(timeline.customer_timeline(customer))
        ][:100],
        "upcoming": [
            {**step, "date": formatting.day(date.fromisoformat(step["date"]), language)}
            for step in forecast(today, today + timedelta(days=UPCOMING_DAYS), customer_ids=[pk])
        ],
        "upcoming_days": UPCOMING_DAYS,
        "forms": dialogue.forms_for(customer)
        if access.may_act(request.user, customer.company_id)
        else None,
    }
    return render(request, "relance/customer_detail.html", context)


def _shown(row: dict[str, Any], language: str) -> dict[str, Any]:
    """A statement line with its amounts in the reader's language."""
    currency = row["currency"]
    money = {
        name: formatting.money(Decimal(row[name]), currency, language) if row[name] else None
        for name in ("total", "amount_due", "late_interest", "fixed_indemnity")
    }
    return {**row, **money}


_KINDS = {
    "invoice.issued": _("Invoice issued"),
    "payment.received": _("Payment received"),
    "credit_note.issued": _("Credit note"),
    "step.executed": _("Step executed"),
    "step.skipped": _("Step skipped"),
    "message.planned": _("Message queued"),
    "message.claimed": _("Message being sent"),
    "message.sent": _("Message sent"),
    "message.printing": _("Letter in the print run"),
    "message.failed": _("Message failed"),
    "message.dead": _("Message not sent"),
    "message.cancelled": _("Message cancelled"),
    "dispute.opened": _("Dispute opened"),
    "dispute.resolved": _("Dispute resolved"),
    "promise.created": _("Promise to pay"),
    "promise.kept": _("Promise kept"),
    "promise.broken": _("Promise broken"),
    "customer.held": _("On hold"),
    "contact.bounced": _("Contact bounced"),
    "plan.assigned": _("Plan assigned"),
}


def _described(entry: dict[str, Any], language: str) -> dict[str, Any]:
    """A timeline entry as a line: when, what, about which invoice, and the details that
    matter for its kind."""
    kind = entry["kind"]
    if kind.startswith("step."):
        details = f"{entry.get('step', '')} ({entry.get('channel') or entry.get('plan', '')})"
        details += f": {entry['reason']}" if entry.get("reason") else ""
    elif kind.startswith("message."):
        to = ", ".join(entry.get("to") or [])
        details = f"{entry.get('channel', '')} → {to}: {entry.get('subject', '')}"
        details += f" ({entry['error']})" if entry.get("error") else ""
    elif kind in ("invoice.issued", "payment.received", "credit_note.issued"):
        amount = formatting.money(Decimal(entry["amount"]), entry["currency"], language)
        details = f"{entry.get('number') or entry.get('id', '')} {amount}"
    else:
        skip = {"date", "kind", "invoice", "key"}
        details = ", ".join(f"{k}: {v}" for k, v in entry.items() if k not in skip and v)
    return {
        "date": formatting.day(date.fromisoformat(entry["date"]), language),
        "kind": kind,
        "label": _KINDS.get(kind, kind),
        "invoice": entry.get("invoice") or "",
        "details": details,
    }
