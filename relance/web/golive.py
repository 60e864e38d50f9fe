"""The go-live page, for a company's admins: what the first cycle would do under the first-run
policy being chosen (services.dunning.golive projects it, nothing is written or sent), then a
button that switches automatic sending on, recorded on the company's timeline."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from relance.messaging import formatting
from relance.models import Company, Customer
from relance.models.company import FIRST_RUN_BY_AGE, FIRST_RUN_IGNORE_BEFORE, FIRST_RUN_STEP1
from relance.services.dunning import golive, golive_jobs
from relance.services.organisation import hours
from relance.web import pages
from relance.web.team import _company, administered

POLICY_LABELS = {
    FIRST_RUN_STEP1: gettext_lazy("Start everyone at step 1 of their plan"),
    FIRST_RUN_BY_AGE: gettext_lazy(
        "By age: each customer at the step their oldest invoice warrants"
    ),
    FIRST_RUN_IGNORE_BEFORE: gettext_lazy("Ignore invoices due before a date"),
}
POLICY_HELP = {
    FIRST_RUN_STEP1: gettext_lazy(
        "Recommended. The first cycle sends each customer the first step of their plan only "
        "(for an invoice already overdue, the first step after its due date); the next steps "
        "follow the plan's own delays from that day."
    ),
    FIRST_RUN_BY_AGE: gettext_lazy(
        "Customers with old invoices may get a firm reminder or the formal notice on day one."
    ),
    FIRST_RUN_IGNORE_BEFORE: gettext_lazy(
        "Older invoices are never chased (they still count in balances and KPIs); the others "
        "go by age."
    ),
}


class PolicyForm(forms.Form):
    policy = forms.ChoiceField(
        label=gettext_lazy("Where does each customer start?"),
        choices=list(POLICY_LABELS.items()),
        widget=forms.RadioSelect,
    )
    before = forms.DateField(
        label=gettext_lazy("Ignore invoices due before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("policy") == FIRST_RUN_IGNORE_BEFORE and not data.get("before"):
            self.add_error("before", _("Give the date: invoices due before it are not chased."))
        if data.get("policy") != FIRST_RUN_IGNORE_BEFORE:
            data["before"] = None
        return data


def _today(company: Company) -> date:
    return hours.company_today(company, timezone.now())


def _initial(company: Company) -> dict[str, Any]:
    """A company not live yet is offered 'step 1' (the issue's default); a live one its own."""
    if not company.automatic_sending:
        return {"policy": FIRST_RUN_STEP1}
    return {"policy": company.first_run, "before": company.first_run_before}


@login_required
@require_http_methods(["GET", "POST"])
def golive_page(request: HttpRequest) -> HttpResponse:
    company = _company(request)  # admins only: PermissionDenied for the others
    if request.method == "POST":
        return _switch_on(request, company)
    asked = "policy" in request.GET
    form = PolicyForm(request.GET if asked else None, initial=_initial(company))
    return _page(request, company, form)


def _page(request: HttpRequest, company: Company, form: PolicyForm) -> HttpResponse:
    language = pages.language()
    today = _today(company)
    projection = None
    if form.is_bound and form.is_valid():
        policy, before = form.cleaned_data["policy"], form.cleaned_data["before"]
    elif not form.is_bound:
        policy, before = form.initial["policy"], form.initial.get("before")
    else:
        policy, before = None, None
    running = None
    if policy:
        again = request.GET.get("retry") == "1"
        projection, running = golive_jobs.wanted(company, today, policy, before, again=again)
    if projection is not None:
        for notice in projection.notices:
            notice["due"] = formatting.day(notice["due_date"], language)
            notice["owed"] = formatting.money(notice["amount"], notice["currency"], language)
    context = {
        "company": company,
        "companies": administered(request.user),
        "form": form,
        "policies": [
            {"value": value, "label": label, "help": POLICY_HELP[value]}
            for value, label in POLICY_LABELS.items()
        ],
        "chosen": policy or "",
        "policy_label": POLICY_LABELS.get(policy or "", ""),
        "before": before.isoformat() if before else "",
        "projection": projection,
        "computing": running is not None and running.status == running.Status.RUNNING,
        "failed": running.error or _("an unexpected error")
        if running is not None and running.status == running.Status.FAILED
        else "",
        "retry_url": _retry_url(request),
        "customer_count": Customer.objects.filter(company=company).count()
        if running is not None
        else 0,
        "today": formatting.day(today, language),
        "history": [
            {
                "event": e,
                "at": formatting.moment(e.at, company.time_zone, language),
                "policy": POLICY_LABELS.get(e.data.get("policy", ""), e.data.get("policy", "")),
                "before": formatting.day(date.fromisoformat(e.data["before"]), language)
                if e.data.get("before")
                else "",
            }
            for e in golive.history(company)
        ],
    }
    return render(request, "relance/golive.html", context)


def _retry_url(request: HttpRequest) -> str:
    """The same question, asked again after a failed computation."""
    asked = request.GET.copy()
    asked["retry"] = "1"
    return f"{request.path}?{asked.urlencode()}"


def _switch_on(request: HttpRequest, company: Company) -> HttpResponse:
    form = PolicyForm(request.POST)
    if not form.is_valid():
        return _page(request, company, form)
    policy, before = form.cleaned_data["policy"], form.cleaned_data["before"]
    try:
        golive.go_live(company, policy, before, actor=request.user, source="web")
    except ValidationError as exc:
        for field, problems in exc.message_dict.items():
            form.add_error("before" if field == "first_run_before" else None, problems)
        return _page(request, company, form)
    messages.success(
        request,
        _("Automatic sending is on for %(company)s: the next daily cycle sends what it shows.")
        % {"company": company.name},
    )
    return redirect(reverse("golive") + f"?company={company.pk}")
