"""The calendar: what the plans will send or ask people to do over the next 30 days, day by day,
with the engine's reason for each, the amount each step chases and the customer's owner,
filtered by company, channel, plan or owner (services.dunning.calendar)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relance.messaging import formatting
from relance.messaging.reasons import written
from relance.models import ForecastEntry, Invoice, Plan
from relance.services.dunning import calendar
from relance.services.organisation import access, team
from relance.web import pages
from relance.web.plan_forms import CHANNELS

PAGE_SIZE = 100
NO_OWNER = "none"
CHANNEL_LABELS = dict(CHANNELS)


def _owners(entries: Any) -> list[Any]:
    """The owners of the customers in the calendar, by name."""
    ids = entries.exclude(customer__owner=None).values("customer__owner").distinct().order_by()
    people = get_user_model().objects.filter(pk__in=ids)
    return sorted(people, key=lambda u: team.display_name(u).lower())


def _names(entries: list[ForecastEntry]) -> tuple[dict[Any, str], dict[Any, str]]:
    """The page's plans by name and invoices by number, keyed (company, code or external id)."""
    companies = {e.company_id for e in entries}
    plans = {
        (company, code): name
        for company, code, name in Plan.objects.filter(
            company_id__in=companies, code__in={e.plan_code for e in entries}
        ).values_list("company_id", "code", "name")
    }
    numbers = {
        (company, ext): number
        for company, ext, number in Invoice.objects.filter(
            company_id__in=companies, external_id__in={e.reference for e in entries}
        ).values_list("company_id", "external_id", "number")
    }
    return plans, numbers


def _entry(
    entry: ForecastEntry, language: str, names: tuple[dict[Any, str], dict[Any, str]]
) -> dict[str, Any]:
    owner = entry.customer.owner
    plans, numbers = names
    return {
        "entry": entry,
        "plan": plans.get((entry.company_id, entry.plan_code)) or entry.plan_code,
        "invoice": numbers.get((entry.company_id, entry.reference)) or entry.reference,
        "channel": CHANNEL_LABELS.get(entry.channel, entry.channel),
        "amount": formatting.amounts(
            {currency: Decimal(value) for currency, value in (entry.amounts or {}).items()},
            language,
        ),
        "owner": team.display_name(owner) if owner else "",
    }


class CalendarFilter(forms.Form):
    company = forms.ChoiceField(required=False, label=_("Company"))
    channel = forms.ChoiceField(
        required=False, label=_("Channel"), choices=[("", _("Any channel")), *CHANNELS]
    )
    plan = forms.ChoiceField(required=False, label=_("Plan"))
    owner = forms.ChoiceField(required=False, label=_("Owner"))

    def __init__(
        self, data: Any, companies: list[Any], plans: list[tuple[str, str]], owners: list[Any]
    ) -> None:
        super().__init__(data)
        company: Any = self.fields["company"]
        company.choices = [("", _("All companies")), *((str(c.pk), c.name) for c in companies)]
        plan: Any = self.fields["plan"]
        plan.choices = [("", _("Any plan")), *plans]
        owner: Any = self.fields["owner"]
        owner.choices = [
            ("", _("Any owner")),
            (NO_OWNER, _("No owner")),
            *((str(u.pk), team.display_name(u)) for u in owners),
        ]
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = field.label
        self.is_valid()

    def chosen(self, name: str) -> str:
        return str(self.cleaned_data.get(name) or "")


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    companies = list(access.companies(request.user))
    today = access.today(request.user, companies)
    entries = calendar.upcoming(request.user, today, today + timedelta(days=calendar.DAYS - 1))
    codes = set(entries.values_list("plan_code", flat=True).order_by().distinct())
    named = dict(
        Plan.objects.filter(company__in=companies, code__in=codes).values_list("code", "name")
    )
    plans = sorted(((c, named.get(c, c)) for c in codes), key=lambda p: p[1].lower())
    chosen = CalendarFilter(request.GET, companies, plans, _owners(entries))
    if company := chosen.chosen("company"):
        entries = entries.filter(company_id=int(company))
    if channel := chosen.chosen("channel"):
        entries = entries.filter(channel=channel)
    if plan := chosen.chosen("plan"):
        entries = entries.filter(plan_code=plan)
    if owner := chosen.chosen("owner"):
        entries = entries.filter(
            customer__owner=None if owner == NO_OWNER else int(owner)  # among the choices
        )
    language = pages.language()
    counts = {
        row["day"]: row["n"] for row in entries.values("day").annotate(n=Count("pk")).order_by()
    }
    listed = pages.paged(
        request,
        entries.select_related("customer__owner").order_by("day", "customer__name"),
        PAGE_SIZE,
    )
    shown = list(listed["page"].object_list)
    names = _names(shown)
    for entry in shown:  # the engine's reason in the reader's words
        entry.reason = written(entry.reason, language, entry.reason_data)
    days = [
        {
            "day": formatting.day(day, language),
            "count": counts.get(day, 0),
            "entries": [_entry(e, language, names) for e in rows],
        }
        for day, rows in groupby(shown, key=lambda e: e.day)
    ]
    at = calendar.computed_at(entries)
    zone = ZoneInfo(companies[0].time_zone) if companies else timezone.get_current_timezone()
    context = {
        "filters": chosen,
        "several_companies": len(companies) > 1,
        "days": days,
        "total": sum(counts.values()),
        "computed_at": formatting.day(at.astimezone(zone).date(), language) if at else "",
        "computed_time": at.astimezone(zone).strftime("%H:%M") if at else "",
        **listed,
    }
    return render(request, "relance/calendar.html", context)
