"""The Analytics page: KPIs month by month over the last twelve months (DSO, best-possible DSO,
ADD, CEI, what is owed and overdue, credit sales) per currency, for the companies and customers the
reader chooses (the customers list's filters), as a chart (Chart.js, vendored) and a table, and
the same as CSV (services.analytics.trends)."""

from __future__ import annotations

import calendar
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import EmptyResultSet
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, gettext_lazy

from relance.domain import csv_cells
from relance.domain.money import quantize
from relance.messaging import formatting
from relance.models import Customer, Execution, Plan
from relance.services.analytics import effectiveness, trends
from relance.services.organisation import access, team
from relance.web import pages
from relance.web.customer_filters import CustomerFilter
from relance.web.plan_forms import CHANNELS

MONTHS = 12
EFFECT_DAYS = 90  # steps of the last 90 days: the 30 days after most of them have passed
GROUP_LABELS = {
    "step": gettext_lazy("Plan step"),
    "channel": gettext_lazy("Channel"),
    "owner": gettext_lazy("Owner"),
    "sales_rep": gettext_lazy("Sales rep"),
    "segment": gettext_lazy("Segment"),
    "variant": gettext_lazy("A/B test (step and variant)"),
}
CRITERIA = ("company", "segment", "risk", "plan", "rep", "owner")


def _chosen(request: HttpRequest) -> tuple[CustomerFilter, QuerySet[Customer], date]:
    """The filters, the customers they keep among those the reader sees, and today."""
    companies = list(access.companies(request.user))
    visible = access.customers(request.user)
    chosen = CustomerFilter(request.GET, visible, companies)
    today = chosen.today
    criteria = {name: chosen.chosen(name) for name in CRITERIA}
    return chosen, chosen.apply(visible) if any(criteria.values()) else visible, today


def _trend(request: HttpRequest) -> tuple[CustomerFilter, dict[str, list[trends.Month]]]:
    chosen, customers, today = _chosen(request)
    try:
        sql, params = customers.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # no company at all: nothing to show
        return chosen, {}
    scope = (f"i.customer_id IN ({sql})", list(params))
    return chosen, trends.cached_monthly(scope, _months(today))


def _names(rows: list[effectiveness.Row], by: str, companies: list[Any]) -> dict[str, str]:
    """What the effectiveness rows' raw keys read as: plan codes as the plans' names, owners'
    and sales reps' addresses as the people's names, channels by their labels."""
    names: dict[str, str] = {code: str(label) for code, label in CHANNELS}
    if by in ("step", "variant"):
        codes = {row.group[0] for row in rows}
        for code, name in Plan.objects.filter(company__in=companies, code__in=codes).values_list(
            "code", "name"
        ):
            names[code] = name or code
    if by in ("owner", "sales_rep"):
        emails = {row.group[0] for row in rows if row.group[0]}
        for person in get_user_model().objects.filter(email__in=emails):
            names[person.email] = team.display_name(person)
    return names


def _label(row: effectiveness.Row, by: str, names: dict[str, str]) -> tuple[str, str]:
    """A row's label as (what, detail): "Payment reminder", "Standard B2B · Email"."""
    group = row.group
    if by == "step":
        plan, step, channel = group
        return step, f"{names.get(plan, plan)} · {names.get(channel, channel)}"
    if by == "variant":
        plan, step, variant = group
        side = gettext("variant %(name)s") % {"name": variant}
        return f"{step} · {side}", names.get(plan, plan)
    if by == "channel":
        return names.get(group[0], group[0]), ""
    if by in ("owner", "sales_rep") and not group[0]:
        return gettext("Nobody"), ""
    return names.get(group[0], group[0]) or "—", ""


def _totals(rows: list[effectiveness.Row]) -> list[effectiveness.Row]:
    """One row per currency adding up the others (no median: it does not add up)."""
    totals: dict[str, effectiveness.Row] = {}
    for row in rows:
        total = totals.setdefault(row.currency, effectiveness.Row((), row.currency))
        total.executions += row.executions
        total.owed += row.owed
        total.answered += row.answered
        for days in effectiveness.WINDOWS:
            total.paid[days] = total.paid.get(days, Decimal(0)) + row.paid.get(days, Decimal(0))
    return [totals[c] for c in sorted(totals)]


def _percent(value: Any, language: str) -> str:
    return "" if value is None else formatting.percent(value, language, 1)


def _partial(row: Any) -> bool:
    """A month counted only up to today: its DSO and CEI move until it ends."""
    return bool(row.end.day < calendar.monthrange(row.end.year, row.end.month)[1])


def _months(today: Any) -> list[Any]:
    return trends.months_until(today, MONTHS)


@login_required
def analytics_page(request: HttpRequest) -> HttpResponse:
    chosen, trend = _trend(request)
    language = pages.language()
    currencies = sorted(trend)
    currency = request.GET.get("currency") or (currencies[0] if currencies else "")
    rows = trend.get(currency, [])
    shown = [row.shown() for row in rows]
    table = [
        {
            **s,
            "label": formatting.day(row.end, language),
            "receivables": formatting.money(s["receivables"], currency, language),
            "overdue": formatting.money(s["overdue"], currency, language),
            "credit_sales": formatting.money(s["credit_sales"], currency, language),
            "cash_collected": formatting.money(s["cash_collected"], currency, language),
            "partial": _partial(row),
            "so_far": formatting.day(row.end, language),
        }
        for s, row in zip(shown, rows, strict=True)
    ]
    chart = {
        "labels": [
            s["month"] + (" *" if _partial(r) else "") for s, r in zip(shown, rows, strict=True)
        ],
        "dso": [s["dso"] for s in shown],
        "best": [s["best_possible_dso"] for s in shown],
        "cei": [s["cei"] for s in shown],
    }
    by = request.GET.get("by") or "step"
    by = by if by in effectiveness.GROUPS else "step"
    _f, customers, today = _chosen(request)
    ran = Execution.objects.filter(
        customer__in=customers, date__gt=today - timedelta(days=EFFECT_DAYS), date__lte=today
    )
    measured = effectiveness.measure(ran, by)
    names = _names(measured, by, list(access.companies(request.user)))

    def shown_row(row: effectiveness.Row) -> dict[str, Any]:
        what, detail = _label(row, by, names) if row.group else (gettext("Total"), "")
        return {
            "row": row,
            "what": what,
            "detail": detail,
            "owed": formatting.money(row.owed, row.currency, language),
            "paid": [
                (
                    formatting.money(row.paid[d], row.currency, language),
                    _percent(row.share(d), language),
                )
                for d in effectiveness.WINDOWS
            ],
            "answered": _percent(row.answer_rate, language),
        }

    steps = [shown_row(row) for row in measured]
    step_totals = [shown_row(row) for row in _totals(measured)] if len(measured) > 1 else []
    period = None
    if currency in trend:
        start = today - timedelta(days=EFFECT_DAYS - 1)
        companies = list(access.companies(request.user))
        m = trends.cached_measures(start, today, companies, currency, customers)
        period = {
            **m,
            "cash": formatting.money(Decimal(m["cash_collected"]), currency, language),
            "start": formatting.day(start, language),
        }
    context = {
        "period": period,
        "steps": steps,
        "step_totals": step_totals,
        "by": by,
        "groups": [(key, GROUP_LABELS[key]) for key in effectiveness.GROUPS],
        "effect_days": EFFECT_DAYS,
        "filters": chosen,
        "several_companies": len(list(access.companies(request.user))) > 1,
        "currencies": currencies,
        "currency": currency,
        "table": table,
        "chart": json.dumps(chart),
        "querystring": request.GET.urlencode(),
    }
    return render(request, "relance/analytics.html", context)


@login_required
def analytics_csv(request: HttpRequest) -> HttpResponse:
    """Every currency's months, amounts in the contract's form (DESIGN §4)."""
    _chosen, trend = _trend(request)
    out = io.StringIO()
    writer = csv_cells.writer(out)  # text that could be a formula is read as text
    writer.writerow(
        [
            "currency",
            "month",
            "dso",
            "best_possible_dso",
            "add",
            "cei",
            "percent_current",
            "receivables",
            "overdue",
            "credit_sales",
            "cash_collected",
        ]
    )
    for currency, rows in sorted(trend.items()):
        for row in rows:
            s = row.shown()
            writer.writerow(
                [
                    currency,
                    s["month"],
                    *(
                        "" if s[k] is None else s[k]
                        for k in ("dso", "best_possible_dso", "add", "cei", "percent_current")
                    ),
                    *(  # numbers, negative ones included, in the contract's form
                        quantize(s[k], currency)
                        for k in ("receivables", "overdue", "credit_sales", "cash_collected")
                    ),
                ]
            )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="relance-kpis.csv"'
    return response
