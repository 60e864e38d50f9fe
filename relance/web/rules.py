"""The assignment rules editor: the ordered list that gives a plan to every customer without one
of their own, edited as rows (the first matching rule wins), and tried on a real customer.

A company without rules of its own uses the default set; saving the page gives it its own set.
The rows are checked by relance.domain.assignment, whose problems (paths like
`rules[2].when.max_average_days_late`) come back next to the row and field they are about.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relance.domain import assignment
from relance.domain.plans.problems import PlanError, Problem
from relance.messaging.reasons import written
from relance.models import Company
from relance.services.dunning import plan_choice, plans
from relance.services.organisation import access, hours
from relance.web import pages

LISTS = ("segment", "country", "currency")
NUMBERS = assignment.NUMERIC_CONDITIONS
RISKS = [
    ("low", gettext_lazy("low")),
    ("medium", gettext_lazy("medium")),
    ("high", gettext_lazy("high")),
]
_SPLIT = re.compile(r"[\s,;]+")
_PATH = re.compile(r"rules\[(\d+)\](?:\.when)?(?:\.([a-z_]+))?")


def _number(label: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=False, min_value=0, decimal_places=2)


class RuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Rule"), max_length=200)
    plan = forms.ChoiceField(label=gettext_lazy("Plan"))
    segment = forms.CharField(label=gettext_lazy("Segments"), required=False)
    risk = forms.MultipleChoiceField(
        label=gettext_lazy("Risk"),
        choices=RISKS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    country = forms.CharField(label=gettext_lazy("Countries"), required=False)
    currency = forms.CharField(label=gettext_lazy("Currencies"), required=False)
    min_credit_limit_use = _number(gettext_lazy("Credit limit used, at least (%)"))
    max_credit_limit_use = _number(gettext_lazy("at most (%)"))
    min_average_days_late = _number(gettext_lazy("Average days late, at least"))
    max_average_days_late = _number(gettext_lazy("at most"))

    @staticmethod
    def initial_for(rule: dict[str, Any]) -> dict[str, Any]:
        when = rule.get("when") or {}
        initial = {"name": rule.get("name", ""), "plan": rule.get("plan", "")}
        initial.update({key: ", ".join(when.get(key, ())) for key in LISTS})
        initial["risk"] = list(when.get("risk", ()))
        initial.update({key: when.get(key) for key in NUMBERS})
        return initial

    def as_rule(self) -> dict[str, Any]:
        data = self.cleaned_data
        when: dict[str, Any] = {}
        for key in LISTS:
            if values := [v for v in _SPLIT.split(data[key]) if v]:
                when[key] = values
        if data["risk"]:
            when["risk"] = data["risk"]
        for key in NUMBERS:
            number: Decimal | None = data[key]
            if number is not None:
                when[key] = f"{number:f}"
        return {"name": data["name"].strip(), "plan": data["plan"], "when": when}


RuleFormSet = forms.formset_factory(RuleForm, extra=1, can_delete=True, can_order=True)


def _company(request: HttpRequest) -> Company | None:
    reach = access.companies(request.user)
    chosen = request.GET.get("company") or request.POST.get("company") or ""
    if chosen.isdigit():
        return get_object_or_404(reach, pk=int(chosen))
    return reach.first()


def _formset(company: Company, data: Any = None) -> Any:
    definition, _ = plans.rules_of(company)
    formset = RuleFormSet(data, initial=[RuleForm.initial_for(rule) for rule in definition])
    choices = [(p.code, p.name) for p in plans.plans_for(company)]
    for form in formset.forms:
        field: Any = form.fields["plan"]
        field.choices = [("", "—"), *choices]
    return formset


def _kept(formset: Any) -> list[RuleForm]:
    """The rows to save, in the order asked: deleted and untouched blank rows left out."""
    return [
        f
        for f in formset.ordered_forms
        if f.cleaned_data and not f.cleaned_data.get("DELETE") and (f.has_changed() or f.initial)
    ]


def _show(problems: list[Problem], rows: list[RuleForm], formset: Any) -> None:
    for problem in problems:
        found = _PATH.match(problem.path)
        if found is None or not 1 <= int(found.group(1)) <= len(rows):
            formset._non_form_errors = [*formset.non_form_errors(), problem.message]
            continue
        form, key = rows[int(found.group(1)) - 1], found.group(2) or ""
        form.add_error(key if key in form.fields else None, problem.message)


def _page(request: HttpRequest, company: Company | None, formset: Any = None) -> HttpResponse:
    context: dict[str, Any] = {"company": company, "companies": access.companies(request.user)}
    if company is not None:
        context.update(
            own=plans.rules_of(company)[1],
            formset=formset or _formset(company),
            may_edit=access.may_act(request.user, company.pk),
            tried=_try(request, company),
        )
    return render(request, "relance/rules.html", context)


def _try(request: HttpRequest, company: Company) -> dict[str, Any] | None:
    """Which plan the cycle would give one customer today, and why."""
    wanted = request.GET.get("customer", "").strip()
    if not wanted:
        return None
    customer = access.customers(request.user).filter(company=company, external_id=wanted).first()
    if customer is None:
        return {"customer": wanted, "missing": True}
    code, reason = plan_choice.explain_plan(customer.pk, hours.company_today(company))
    return {"customer": customer, "plan": code, "reason": written(reason, pages.language())}


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    return _page(request, _company(request))


@login_required
@require_POST
def rules_save(request: HttpRequest) -> HttpResponse:
    company = _company(request)
    if company is None or not access.may_act(request.user, company.pk):
        raise PermissionDenied
    formset = _formset(company, request.POST)
    if formset.is_valid():
        rows = _kept(formset)
        try:
            saved = plans.save_rules(
                [row.as_rule() for row in rows], company=company, actor=request.user
            )
        except PlanError as exc:
            _show(exc.problems, rows, formset)
        else:
            for warning in saved.warnings:
                messages.warning(request, warning.message)
            messages.success(request, _("Assignment rules saved."))
            return redirect(reverse("rules") + f"?company={company.pk}")
    return _page(request, company, formset)
