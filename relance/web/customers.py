"""Customers: the list a credit controller works from, and one customer's page.

Amounts are computed for the customers shown (one query for the page), in the database, as of
today (the reader's company's day): what is owed and, of it, what is overdue, per currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relance.domain import csv_cells
from relance.domain.money import format_amount
from relance.messaging import formatting
from relance.messaging.reasons import written
from relance.models import Contact, Customer, DiscountProposal, Dispute, PaymentPlan
from relance.services.analytics import timeline
from relance.services.dialogue import portal_disputes
from relance.services.dunning import plan_choice, plans
from relance.services.dunning.forecasting import forecast
from relance.services.ledger import snapshots
from relance.services.ledger.statements import statement
from relance.services.organisation import access, hours
from relance.services.portal import accounts, links
from relance.web import dialogue, pages, timeline_lines
from relance.web.customer_filters import CustomerFilter
from relance.web.customer_glance import glance

PAGE_SIZE = 50
UPCOMING_DAYS = 60  # how far ahead a customer's page forecasts its plan


Sums = dict[str, Decimal]  # currency -> amount


def _sums(customers: list[Customer], today: date) -> dict[int, tuple[Sums, Sums]]:
    """Customer pk -> (owed, overdue) per currency, in one query for them all."""
    found: dict[int, tuple[Sums, Sums]] = defaultdict(
        lambda: (defaultdict(Decimal), defaultdict(Decimal))
    )
    for row in snapshots.amounts_due(sorted(c.pk for c in customers), today):
        customer, due, currency, amount = row[1], row[5], row[6], row[7]
        owed, overdue = found[customer]
        owed[currency] += amount
        if due < today:
            overdue[currency] += amount
    return found


def _amounts(customers: list[Customer], today: date) -> dict[int, dict[str, list[str]]]:
    """Customer pk -> {"owed": [...], "overdue": [...]}, formatted per currency."""
    sums = _sums(customers, today)
    language = pages.language()

    def shown(by_currency: Sums) -> list[str]:
        return [formatting.money(v, c, language) for c, v in sorted(by_currency.items()) if v]

    return {
        c.pk: {"owed": shown(sums[c.pk][0]), "overdue": shown(sums[c.pk][1])} for c in customers
    }


def _filtered(request: HttpRequest) -> tuple[CustomerFilter, QuerySet[Customer]]:
    visible = access.customers(request.user)
    chosen = CustomerFilter(request.GET, visible, list(access.companies(request.user)))
    query = chosen.apply(visible).select_related("company", "plan", "owner", "sales_rep")
    return chosen, query.order_by(*chosen.ordering())


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    """Search and filters, 50 a page; htmx asks for the table alone."""
    chosen, query = _filtered(request)
    listed = pages.paged(request, query, PAGE_SIZE)
    shown = list(listed["page"].object_list)
    context: dict[str, Any] = {
        **listed,
        "rows": [
            (c, amounts) for c, amounts in zip(shown, _rows(shown, chosen.today), strict=True)
        ],
        "filters": chosen,
        "search": chosen.chosen("q"),
        "several_companies": chosen.offered("company") > 1,
    }
    partial = request.headers.get("HX-Request") == "true"
    name = "relance/customer_rows.html" if partial else "relance/customer_list.html"
    return render(request, name, context)


class _Echo:
    """A file-like object whose write gives the line back, for a streamed CSV."""

    def write(self, value: str) -> str:
        return value


@login_required
def customer_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, amounts per currency in the contract's plain form
    (`EUR 1250.00`), streamed a thousand customers at a time whatever the ledger's size."""
    chosen, query = _filtered(request)
    writer = csv_cells.writer(_Echo())  # text that could be a formula is read as text
    today = chosen.today

    def lines() -> Iterator[str]:
        yield writer.writerow(EXPORT_HEADER)
        ids = list(query.values_list("pk", flat=True))
        for start in range(0, len(ids), 1000):
            chunk = list(query.filter(pk__in=ids[start : start + 1000]))
            sums = _sums(chunk, today)
            for c in chunk:
                owed, overdue = sums.get(c.pk, ({}, {}))
                yield writer.writerow(
                    [
                        c.company.code,
                        c.external_id,
                        c.name,
                        c.segment,
                        c.risk,
                        c.plan.code if c.plan else "",
                        c.owner.email if c.owner else "",
                        c.sales_rep.email if c.sales_rep else "",
                        c.hold_until.isoformat() if c.hold_until else "",
                        _plain(owed),
                        _plain(overdue),
                    ]
                )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customers-{today}.csv"'
    return response


EXPORT_HEADER = [
    "company",
    "customer_id",
    "name",
    "segment",
    "risk",
    "plan",
    "owner_email",
    "sales_rep_email",
    "hold_until",
    "owed",
    "overdue",
]


def _plain(sums: dict[str, Decimal]) -> str:
    return "; ".join(f"{c} {format_amount(v, c)}" for c, v in sorted(sums.items()) if v)


def _rows(customers: list[Customer], today: date) -> list[dict[str, list[str]]]:
    amounts = _amounts(customers, today)
    return [amounts[c.pk] for c in customers]


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(
        access.customers(request.user).select_related("company", "plan", "owner", "sales_rep"),
        pk=pk,
    )
    today = hours.company_today(customer.company)
    language = pages.language()
    owed = statement(customer, today, strict=False)
    pks = dict(customer.invoices.values_list("external_id", "pk"))
    plan_code, plan_reason = plan_choice.explain_plan(customer.pk, today)
    may_act = access.may_act(request.user, customer.company_id)
    upcoming = [
        {
            **step,
            "date": formatting.day(date.fromisoformat(step["date"]), language),
            "reason": written(step["reason"], language),
        }
        for step in forecast(today, today + timedelta(days=UPCOMING_DAYS), customer_ids=[pk])
    ]
    context = {
        "customer": customer,
        "today": formatting.day(today, language),
        "hold_until": formatting.day(customer.hold_until, language) if customer.hold_until else "",
        "invoices": [
            {**_shown(row, language), "pk": pks.get(row["id"])} for row in owed["invoices"]
        ],
        "totals": [
            formatting.money(Decimal(v), c, language) for c, v in sorted(owed["totals"].items())
        ],
        "credit": [
            formatting.money(Decimal(v), c, language) for c, v in sorted(owed["credit"].items())
        ],
        "missing_rates": owed["missing_rates"],
        "contacts": Contact.objects.filter(customer=customer).order_by("name", "pk"),
        "timeline": timeline_lines.lines(
            list(reversed(timeline.customer_timeline(customer)))[:100],
            request.user,
            customer.company,
            language,
        ),
        "upcoming": upcoming,
        "glance": glance(customer, owed["invoices"], today, language, upcoming),
        "upcoming_days": UPCOMING_DAYS,
        "plan": plans.plans_for(customer.company).filter(code=plan_code or "").first(),
        "plan_reason": written(plan_reason, language),
        "forms": dialogue.forms_for(customer, plan_code=plan_code) if may_act else None,
        "disputes": _open_disputes(customer, language),
        "outcomes": list(portal_disputes.OUTCOMES.items()),
        "discounts": [
            {
                "proposal": d,
                "amount": formatting.money(d.amount, d.currency, language),
                "paid_on": formatting.day(d.paid_on, language),
            }
            for d in DiscountProposal.objects.filter(
                customer=customer, status=DiscountProposal.Status.PROPOSED
            ).select_related("invoice")
        ],
        "payment_plans": [
            accounts.plan_view(p, today, language)
            for p in PaymentPlan.objects.filter(customer=customer).exclude(
                status=PaymentPlan.Status.COMPLETED
            )[:5]
        ],
        "plan_range": range(2, customer.company.plan_max_instalments + 1),
        # staff open it from the address they use, not the one messages carry (RELANCE_BASE_URL)
        "portal_link": request.build_absolute_uri(links.path(customer)) if may_act else "",
    }
    return render(request, "relance/customer_detail.html", context)


def _open_disputes(customer: Customer, language: str) -> list[dict[str, Any]]:
    """Open disputes with what the customer said and where each stands against the company's
    service level (deadlines in the company's zone)."""
    now = timezone.now()
    zone = customer.company.time_zone

    def moment(at: datetime | None) -> str:
        return formatting.moment(at, zone, language)

    return [
        {
            "dispute": d,
            "opened": formatting.day(d.opened_on, language),
            "acknowledge_by": moment(d.acknowledge_by),
            "ack_late": d.acknowledged_at is None
            and d.acknowledge_by is not None
            and d.acknowledge_by < now,
            "resolve_by": moment(d.resolve_by),
            "resolve_late": d.resolve_by is not None and d.resolve_by < now,
        }
        for d in Dispute.objects.filter(customer=customer, resolved_on=None)
        .select_related("invoice")
        .order_by("opened_on", "pk")
    ]


def _shown(row: dict[str, Any], language: str) -> dict[str, Any]:
    """A statement line with its amounts in the reader's language."""
    currency = row["currency"]
    money = {
        name: formatting.money(Decimal(row[name]), currency, language) if row[name] else None
        for name in ("total", "amount_due", "late_interest", "fixed_indemnity")
    }
    return {**row, **money}


@login_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One invoice: what is left to pay and why (payments and credit notes applied), disputes,
    promises, and its own timeline."""
    invoice = get_object_or_404(
        access.invoices(request.user).select_related("customer", "company"), pk=pk
    )
    customer = invoice.customer
    today = hours.company_today(customer.company)
    language = pages.language()
    owed = statement(customer, today, strict=False)
    line = next((row for row in owed["invoices"] if row["id"] == invoice.external_id), None)
    money = partial(formatting.money, currency=invoice.currency, language=language)
    settled = invoice.allocations.select_related("payment", "credit_note").order_by("date", "pk")
    context = {
        "invoice": invoice,
        "customer": customer,
        "today": formatting.day(today, language),
        "issued": formatting.day(invoice.issue_date, language),
        "due": formatting.day(invoice.due_date, language),
        "total": money(invoice.total),
        "line": _shown(line, language) if line else None,
        "missing_rates": owed["missing_rates"],
        "allocations": [
            {
                "date": formatting.day(a.date, language),
                "what": _("Payment") if a.payment_id else _("Credit note"),
                "reference": (a.payment or a.credit_note).external_id,  # type: ignore[union-attr]
                "amount": money(a.amount),
            }
            for a in settled
        ],
        "disputes": [
            {
                "opened": formatting.day(d.opened_on, language),
                "resolved": formatting.day(d.resolved_on, language) if d.resolved_on else "",
                "reason": d.reason,
                "category": d.get_category_display() if d.category else "",
                "resolution": d.resolution,
            }
            for d in invoice.disputes.order_by("-opened_on")
        ],
        "promises": [
            {"pay_by": formatting.day(p.pay_by, language), "status": p.get_status_display()}
            for p in invoice.promises.order_by("-promised_on")
        ],
        "timeline": timeline_lines.lines(
            list(reversed(timeline.invoice_timeline(invoice))),
            request.user,
            invoice.company,
            language,
        ),
    }
    open_dispute = invoice.disputes.filter(resolved_on=None).exists()
    if access.may_act(request.user, customer.company_id) and line is not None:
        context["forms"] = dialogue.forms_for(customer)
        context["open_dispute"] = open_dispute
    return render(request, "relance/invoice_detail.html", context)
