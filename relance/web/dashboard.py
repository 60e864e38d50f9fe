"""The dashboard a credit controller starts the day with: what is owed and overdue per currency
and its aging, DSO over the last days, today's manual work, promises due and broken, disputes by
age, and the outbox's problems.

Whole-company figures come stored per day (services.ledger.receivables) so the page stays fast on a
million invoices; a sales rep's are computed on their own customers. The lists are small live
queries that each use an index.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Min, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from relance.messaging import formatting
from relance.models import (
    ActionItem,
    Company,
    Customer,
    DailyFigures,
    Dispute,
    Membership,
    OutboxMessage,
    Promise,
)
from relance.services.dunning import actions, calendar
from relance.services.ledger import receivables
from relance.services.organisation import access, hours
from relance.web import pages

LISTED = 8
TREND_DAYS = 30
RECENTLY_BROKEN_DAYS = 7
OLD_DISPUTE_DAYS = 30  # until companies set a dispute SLA (customer portal issue)


def _companies(request: HttpRequest) -> list[Company]:
    """The companies shown: the one chosen, or every one within reach."""
    reach = list(access.companies(request.user))
    chosen = [c for c in reach if str(c.pk) == request.GET.get("company")]
    return chosen or reach


def _figures(request: HttpRequest, companies: list[Company]) -> tuple[dict[str, Any], Any]:
    """Currency -> figures added over the companies, and when the stored ones were computed."""
    roles = access.roles(request.user)
    total: dict[str, receivables.Figures] = {}
    stored_at = None
    for company in companies:
        today = hours.company_today(company)
        if roles.get(company.pk) == Membership.Role.SALES_REP:
            own = list(
                Customer.objects.filter(company=company, sales_rep_id=request.user.pk).values_list(
                    "pk", flat=True
                )
            )
            found = receivables.compute(today, customer_ids=own)
        else:
            found = receivables.of_day(company, today)
            computed = DailyFigures.objects.filter(company=company, day=today).aggregate(
                at=Min("computed_at")
            )["at"]
            stored_at = min(filter(None, (stored_at, computed)), default=None)
        for currency, figures in found.items():
            total[currency] = total[currency] + figures if currency in total else figures
    return total, stored_at


def _money(amount: Decimal, currency: str, language: str) -> str:
    return formatting.money(amount, currency, language)


def _days(value: Decimal | None, language: str) -> str:
    """A number of days with one decimal, as the reader writes it ("109,1" / "109.1")."""
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0.0", locale=formatting.locale(language))


def _aging(figures: receivables.Figures, language: str) -> list[dict[str, Any]]:
    """Bars of the aging chart: not yet due, then each bucket, as a share of the largest."""
    parts = [("current", figures.current)] + [
        (name, figures.aging.get(name, Decimal(0))) for name, _, _ in receivables.BUCKETS
    ]
    largest = max((amount for _, amount in parts), default=Decimal(0)) or Decimal(1)
    return [
        {
            "bucket": name,
            "amount": _money(amount, figures.currency, language),
            "percent": int(amount / largest * 100),
        }
        for name, amount in parts
    ]


def _sparkline(points: list[tuple[date, Decimal | None]]) -> dict[str, Any] | None:
    """An SVG polyline of DSO per day (a 100 by 30 view box), None with fewer than two points."""
    known = [(day, value) for day, value in points if value is not None]
    if len(known) < 2:
        return None
    values = [float(value) for _, value in known]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = 100 / (len(values) - 1)
    line = " ".join(
        f"{i * step:.1f},{28 - (v - low) / span * 26:.1f}" for i, v in enumerate(values)
    )
    return {"points": line, "low": f"{low:.1f}", "high": f"{high:.1f}", "days": len(values)}


def _trend(companies: list[Company], request: HttpRequest, since: date) -> dict[str, Any]:
    roles = access.roles(request.user)
    whole = [c.pk for c in companies if roles.get(c.pk) != Membership.Role.SALES_REP]
    return {
        currency: _sparkline([(day, f.dso) for day, f in days])
        for currency, days in receivables.trend(whole, since).items()
    }


def _week(request: HttpRequest, ids: list[int], today: date, language: str) -> list[Any]:
    """The steps the stored forecast holds for the next 7 days: per day, how many per channel."""
    entries = calendar.upcoming(request.user, today, today + timedelta(days=6))
    counts = (
        entries.filter(company_id__in=ids)
        .values_list("day", "channel")
        .annotate(n=Count("pk"))
        .order_by("day", "channel")
    )
    days: dict[date, list[tuple[str, int]]] = {}
    for day, channel, n in counts:
        days.setdefault(day, []).append((channel, n))
    return [
        {"day": formatting.day(day, language), "channels": found, "total": sum(n for _, n in found)}
        for day, found in days.items()
    ]


def _lists(request: HttpRequest, companies: list[Company], today: date) -> dict[str, Any]:
    ids = [c.pk for c in companies]
    open_items: QuerySet[ActionItem] = access.action_items(request.user).filter(
        company_id__in=ids, status=ActionItem.Status.OPEN
    )
    visible = access.about_customers(request.user) & Q(company_id__in=ids)
    promises = Promise.objects.filter(visible).select_related("customer")
    disputes = (
        Dispute.objects.filter(visible, resolved_on=None)
        .select_related("customer", "invoice")
        .order_by("opened_on", "pk")
    )
    messages = access.messages(request.user).filter(company_id__in=ids)
    problems = messages.filter(status__in=[OutboxMessage.Status.FAILED, OutboxMessage.Status.DEAD])
    language = pages.language()
    return {
        "week": _week(request, ids, today, language),
        "actions_mine": actions.for_user(request.user, open_items).count(),
        "actions_all": open_items.count(),
        "promises_due": [
            {"promise": p, "pay_by": formatting.day(p.pay_by, language)}
            for p in promises.filter(status=Promise.Status.OPEN, pay_by=today).order_by("pk")[
                :LISTED
            ]
        ],
        "promises_broken": [
            {"promise": p, "broken_on": formatting.day(p.broken_on, language)}
            for p in promises.filter(
                status=Promise.Status.BROKEN,
                broken_on__gte=today - timedelta(days=RECENTLY_BROKEN_DAYS),
            ).order_by("-broken_on", "-pk")[:LISTED]
        ],
        "disputes": [{"dispute": d, "age": (today - d.opened_on).days} for d in disputes[:LISTED]],
        "disputes_count": disputes.count(),
        "old_dispute_days": OLD_DISPUTE_DAYS,
        "problems": problems.select_related("customer").order_by("-pk")[:5],
        "problems_count": problems.count(),
        "queued": messages.filter(status=OutboxMessage.Status.PLANNED).count(),
    }


@login_required
def start(request: HttpRequest) -> HttpResponse:
    """Where a person lands after logging in: a sales rep's day starts with their customers,
    everyone else's with the dashboard."""
    if set(access.roles(request.user).values()) == {Membership.Role.SALES_REP}:
        return redirect("my-customers")
    return redirect("dashboard")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    companies = _companies(request)
    today = access.today(request.user, companies)
    language = pages.language()
    figures, stored_at = _figures(request, companies)
    trend = _trend(companies, request, today - timedelta(days=TREND_DAYS))
    currencies = [
        {
            "currency": currency,
            "owed": _money(f.receivables, currency, language),
            "overdue": _money(f.overdue, currency, language),
            "dso": _days(f.dso, language),
            "add": _days(f.add, language),
            "aging": _aging(f, language),
            "trend": trend.get(currency),
        }
        for currency, f in sorted(figures.items())
    ]
    context = {
        "companies": list(access.companies(request.user)),
        "company": companies[0] if len(companies) == 1 else None,
        "today": formatting.day(today, language),
        "currencies": currencies,
        "stored_at": timezone.localtime(stored_at).strftime("%H:%M") if stored_at else "",
        **_lists(request, companies, today),
    }
    return render(request, "relance/dashboard.html", context)
