"""The plan editor: a plan as a vertical timeline of its steps around the due date, a side panel
to edit one step or the plan's settings, and a live preview of a step on a real customer.

Every change is a whole new version of the plan, validated by relance.domain.plans and stored by
services.plans.save_plan: nothing half-valid is ever saved, and the editor carries the version it
started from so two people cannot overwrite each other's work without knowing. Admins and credit
controllers edit their company's plans, which are that company's alone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relance.domain.merge_fields import CATALOGUE
from relance.domain.plans.advice import plan_warnings
from relance.domain.plans.model import with_side
from relance.domain.plans.problems import PlanError, Problem
from relance.domain.plans.reading import parse_plan
from relance.messaging.sandbox import RenderError
from relance.models import Company, Customer, Plan
from relance.services.dunning import plans as service
from relance.services.dunning import preview
from relance.services.ledger import snapshots
from relance.services.organisation import access, hours
from relance.web.plan_forms import (
    CHANNELS,
    WHO,
    NewPlanForm,
    SettingsForm,
    StepForm,
    first_step,
    step_of,
)

PREVIEW_CUSTOMERS = 25


def _visible(request: HttpRequest) -> Any:
    return access.plans(request.user)


def _may_create(request: HttpRequest) -> bool:
    """Admins and credit controllers of a company; superusers too, even before any company."""
    return bool(access.acting_in(request.user) or request.user.is_superuser)


def _may_edit(request: HttpRequest, plan: Plan) -> bool:
    return plan.company_id is not None and access.may_act(request.user, plan.company_id)


def _editable(request: HttpRequest, pk: int) -> Plan:
    plan = get_object_or_404(_visible(request), pk=pk)
    if not _may_edit(request, plan):
        raise PermissionDenied
    return plan


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    customers = access.customers(request.user)
    plans = (
        _visible(request)
        .select_related("company")
        .annotate(
            on_plan=Count("customers", filter=Q(customers__in=customers), distinct=True),
            step_count=Count("steps", filter=Q(steps__active=True), distinct=True),
        )
        .order_by("company__name", "name")
    )
    return render(
        request,
        "relance/plan_list.html",
        {"plans": plans, "may_create": _may_create(request)},
    )


def _new_form(request: HttpRequest, data: Any = None) -> NewPlanForm:
    acting = access.acting_in(request.user)
    return NewPlanForm(
        data,
        companies=list(Company.objects.filter(pk__in=acting).order_by("name")),
        copies=list(_visible(request).filter(company__in=acting).order_by("company__name", "name")),
    )


@login_required
def plan_new(request: HttpRequest) -> HttpResponse:
    if not _may_create(request):
        raise PermissionDenied
    form = _new_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        company = Company.objects.get(pk=data["company"])
        source = _visible(request).filter(pk__in=[data["start_from"] or 0]).first()
        definition = dict(source.definition) if source else {"steps": [first_step()]}
        definition.update(code=data["code"], name=data["name"].strip())
        try:
            saved = service.save_plan(definition, company=company, actor=request.user)
        except PlanError as exc:
            for problem in exc.problems:
                key = problem.path.split(".")[0]
                form.add_error(key if key in form.fields else None, problem.message)
        else:
            messages.success(request, _("Plan %(plan)s created.") % {"plan": saved.plan.name})
            return redirect(reverse("plan", args=[saved.plan.pk]) + "?step=1")
    return render(request, "relance/plan_new.html", {"form": form})


def _owner(plan: Plan) -> Company:
    """The company of a plan the editor shows: always one (library plans are not shown)."""
    assert plan.company is not None
    return plan.company


def _today(plan: Plan) -> date:
    return hours.company_today(_owner(plan))


def _timing(step: dict[str, Any]) -> str:
    trigger = step.get("trigger") or {}
    days, start = int(trigger.get("days") or 0), trigger.get("from", "due_date")
    values = {"days": abs(days)}
    if start == "issue_date":
        if days == 0:
            return _("on the issue date")
        return _("%(days)s days after issue") % values
    if days == 0:
        return _("on the due date")
    if days < 0:
        return _("%(days)s days before the due date") % values
    return _("%(days)s days after the due date") % values


def _sent_to(step: dict[str, Any]) -> str:
    """Who a step reaches (or, for a call or a task, who does it), in words."""
    words = dict(WHO)
    key = "owners" if step.get("channel") in ("call", "task") else "recipients"
    entries = step.get(key) or ()
    return ", ".join(str(words.get(e, e.removeprefix("group:"))) for e in entries) or "—"


def _warnings(definition: dict[str, Any]) -> list[Problem]:
    try:
        return plan_warnings(parse_plan(definition), "")
    except PlanError as exc:
        return exc.problems  # written before a rule existed: shown, fixed at the next save


def _timeline(definition: dict[str, Any], selected: int | None) -> list[dict[str, Any]]:
    """The steps in plan order, with the due date marked where the steps cross it."""
    warnings = _warnings(definition)
    channel = dict(CHANNELS)
    rows: list[dict[str, Any]] = []
    marked = False
    for index, step in enumerate(definition.get("steps") or [], start=1):
        trigger = step.get("trigger") or {}
        if (
            not marked
            and trigger.get("from", "due_date") == "due_date"
            and int(trigger.get("days") or 0) >= 0
        ):
            rows.append({"marker": True})
            marked = True
        rows.append(
            {
                "index": index,
                "step": step,
                "timing": _timing(step),
                "channel": channel.get(step.get("channel", ""), step.get("channel")),
                "sent_to": _sent_to(step),
                "warnings": [w for w in warnings if step_of(w.path) == index],
                "selected": index == selected,
            }
        )
    if not marked:
        rows.append({"marker": True})
    return rows


def _preview_customers(request: HttpRequest, plan: Plan) -> list[Customer]:
    """Customers who owe something to preview a step on: those on the plan first."""
    reach = access.customers(request.user).filter(invoices__status="open", company=_owner(plan))
    on_plan = list(reach.filter(plan=plan).distinct().order_by("name")[:PREVIEW_CUSTOMERS])
    others = reach.exclude(pk__in=[c.pk for c in on_plan]).distinct().order_by("name")
    candidates = on_plan + list(others[: PREVIEW_CUSTOMERS * 4])
    today = _today(plan)
    owing = {row[1] for row in snapshots.amounts_due([c.pk for c in candidates], today)}
    return [c for c in candidates if c.pk in owing][:PREVIEW_CUSTOMERS]


def _fields() -> list[dict[str, Any]]:
    """The merge-field picker's entries, from the one catalogue the renderer checks against."""
    found: list[dict[str, Any]] = []
    for root, fields in CATALOGUE.items():
        if fields is None:
            found.append({"code": f"{{{{ {root} }}}}", "label": root})
        elif root != "invoices":
            found += [
                {"code": f"{{{{ {root}.{name} }}}}", "label": f"{root}.{name}", "help": text}
                for name, text in fields.items()
            ]
    loop = "{% for inv in invoices %}{{ inv.number }}: {{ inv.amount_due }}\n{% endfor %}"
    found.append({"code": loop, "label": _("the invoices listed"), "help": ""})
    return found


def _editor(
    request: HttpRequest,
    plan: Plan,
    *,
    step_form: StepForm | None = None,
    settings_form: SettingsForm | None = None,
    selected: int | None = None,
    status: int = 200,
) -> HttpResponse:
    definition = plan.definition
    steps = definition.get("steps") or []
    if selected is None and settings_form is None and request.GET.get("settings") is None:
        chosen = request.GET.get("step", "")
        selected = int(chosen) if chosen.isdigit() and 1 <= int(chosen) <= len(steps) else None
    if selected is not None and step_form is None:
        step = steps[selected - 1]
        step_form = StepForm(initial=StepForm.initial_for(step), company=plan.company, step=step)
    if selected is None and settings_form is None:
        settings_form = SettingsForm(initial=SettingsForm.initial_for(definition))
    visible = access.customers(request.user)
    context = {
        "plan": plan,
        "version": service.fingerprint(definition),
        "timeline": _timeline(definition, selected),
        "step_count": len(steps),
        "plan_warnings": [w for w in _warnings(definition) if step_of(w.path) is None],
        "selected": selected,
        "step_form": step_form,
        "settings_form": settings_form,
        "may_edit": _may_edit(request, plan),
        "on_plan": visible.filter(plan=plan).count(),
        "preview_customers": _preview_customers(request, plan) if step_form else [],
        "merge_fields": _fields(),
    }
    return render(request, "relance/plan_editor.html", context, status=status)


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(_visible(request), pk=pk))


def _save(
    request: HttpRequest,
    plan: Plan,
    definition: dict[str, Any],
    renamed: dict[str, str] | None = None,
) -> service.PlanSaved | None:
    """Store the new version; None (and a message) when someone saved the plan meanwhile.
    PlanError goes to the caller, which shows it next to the fields."""
    try:
        return service.save_plan(
            definition,
            company=_owner(plan),
            stored=plan,
            expected=request.POST.get("version"),
            renamed=renamed,
            actor=request.user,
        )
    except service.PlanChanged:
        messages.error(
            request,
            _("Someone saved this plan while you were editing it: your change was not saved."),
        )
        return None


def _saved(request: HttpRequest, saved: service.PlanSaved, where: str) -> HttpResponse:
    count = len(saved.warnings)
    if count:
        text = _("Saved, with %(count)s warning(s) to look at.") % {"count": count}
        messages.warning(request, text)
    else:
        messages.success(request, _("Saved."))
    return redirect(reverse("plan", args=[saved.plan.pk]) + where)


def _step_definition(plan: Plan, index: int, form: StepForm) -> dict[str, Any]:
    definition = dict(plan.definition)
    steps = list(definition["steps"])
    steps[index - 1] = form.as_step()
    definition["steps"] = steps
    return definition


def _step_form(plan: Plan, index: int, data: Any) -> StepForm:
    steps = plan.definition.get("steps") or []
    if not 1 <= index <= len(steps):
        raise PermissionDenied  # a step that is not there: the page is out of date
    return StepForm(data, company=plan.company, step=steps[index - 1])


@login_required
@require_POST
def step_save(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    plan = _editable(request, pk)
    form = _step_form(plan, index, request.POST)
    if form.is_valid():
        definition = _step_definition(plan, index, form)
        old = plan.definition["steps"][index - 1]["name"]
        try:
            saved = _save(request, plan, definition, renamed={old: form.cleaned_data["name"]})
        except PlanError as exc:
            form.show_problems(exc.problems, index)
        else:
            if saved is not None:
                return _saved(request, saved, f"?step={index}")
            plan.refresh_from_db()
            form = _step_form(plan, index, None)
            form.initial = StepForm.initial_for(plan.definition["steps"][index - 1])
    return _editor(request, plan, step_form=form, selected=index)


@login_required
@require_POST
def settings_save(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editable(request, pk)
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            saved = _save(request, plan, form.apply(plan.definition))
        except PlanError as exc:
            form.show_problems(exc.problems)
        else:
            if saved is not None:
                return _saved(request, saved, "?settings=1")
            return redirect(reverse("plan", args=[plan.pk]) + "?settings=1")
    return _editor(request, plan, settings_form=form)


def _copy_name(name: str, taken: set[str]) -> str:
    number = 2
    while f"{name} ({number})".casefold() in taken:
        number += 1
    return f"{name} ({number})"


@login_required
@require_POST
def step_change(request: HttpRequest, pk: int, index: int, change: str) -> HttpResponse:
    """Add after, duplicate, delete, move up or down one step."""
    plan = _editable(request, pk)
    steps = list(plan.definition.get("steps") or [])
    if not 1 <= index <= len(steps) and not (change == "add" and index == len(steps)):
        raise PermissionDenied
    taken = {str(s.get("name", "")).casefold() for s in steps}
    at = index  # the step to show afterwards
    if change == "add":
        new = first_step()
        last = steps[index - 1]["trigger"]["days"] if steps else 0
        new["trigger"] = {"days": int(last) + 15, "from": "due_date"}
        new["name"] = _copy_name(_("New step"), taken)
        steps.insert(index, new)
        at = index + 1
    elif change == "duplicate":
        copy = dict(steps[index - 1])
        copy["name"] = _copy_name(str(copy.get("name", "")), taken)
        steps.insert(index, copy)
        at = index + 1
    elif change == "delete":
        del steps[index - 1]
        at = min(index, len(steps))
    elif change in ("up", "down"):
        other = index - 1 if change == "up" else index + 1
        if not 1 <= other <= len(steps):
            return redirect(reverse("plan", args=[plan.pk]) + f"?step={index}")
        steps[index - 1], steps[other - 1] = steps[other - 1], steps[index - 1]
        at = other
    else:
        raise PermissionDenied
    try:
        saved = _save(request, plan, {**plan.definition, "steps": steps})
    except PlanError as exc:
        for problem in exc.problems:
            messages.error(request, f"{problem.path}: {problem.message}")
        return redirect(reverse("plan", args=[plan.pk]) + f"?step={index}")
    if saved is None:
        return redirect(reverse("plan", args=[plan.pk]))
    return _saved(request, saved, f"?step={at}" if at else "")


@login_required
@require_POST
def step_preview(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """The step as the form shows it now, unsaved, rendered for one real customer. Only those
    who may edit the plan may preview it: rendering runs the text they type (bounded by the
    sandbox, still work for the server), and read-only users and sales reps only read plans."""
    plan = _editable(request, pk)
    form = _step_form(plan, index, request.POST)
    context: dict[str, Any] = {"problems": [], "result": None}
    customer = (
        access.customers(request.user).filter(pk=request.POST.get("preview_customer") or 0).first()
    )
    if not form.is_valid():
        context["problems"] = [str(e) for errors in form.errors.values() for e in errors]
    elif customer is None:
        context["problems"] = [_("Choose a customer to preview the step on.")]
    else:
        try:
            draft = parse_plan(_step_definition(plan, index, form))
            step = with_side(draft.steps[index - 1], request.POST.get("preview_side", ""))
            context["result"] = preview.render_step(customer, draft, step, _today(plan))
            context["customer"] = customer
        except PlanError as exc:
            context["problems"] = [f"{p.path}: {p.message}" for p in exc.problems]
        except (preview.PreviewError, RenderError) as exc:
            context["problems"] = [str(exc)]
    return render(request, "relance/plan_preview.html", context)


@login_required
def plan_yaml(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan as YAML, for `relance plan load` or version control."""
    plan = get_object_or_404(_visible(request), pk=pk)
    text = yaml.safe_dump(plan.definition, sort_keys=False, allow_unicode=True, width=100)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{plan.code}.yaml"'
    return response
