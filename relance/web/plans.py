"""The plan editor: a plan as a vertical timeline of its steps around the due date, a side panel
to edit one step or the plan's settings, and a live preview of a step on a real customer.

Every change goes to the plan's draft (services.dunning.plan_drafts), validated whole by
relance.domain.plans, shown beside the live plan with what it changes; "publish" makes it the
plan's new version through services.plans.save_plan. Nothing half-valid is ever kept, and the
editor carries the version it started from so two people cannot overwrite each other's work
without knowing. Admins and credit controllers edit their company's plans, which are that
company's alone; everyone who may read a plan sees its draft too.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from relance.domain.merge_fields import CATALOGUE
from relance.domain.plans.advice import plan_warnings
from relance.domain.plans.model import with_side
from relance.domain.plans.problems import PlanError, Problem
from relance.domain.plans.reading import parse_plan
from relance.messaging import formatting, sms
from relance.messaging.sandbox import RenderError
from relance.models import Company, Customer, Event, Plan, PlanDraft
from relance.services.dunning import plan_drafts, preview
from relance.services.dunning import plans as service
from relance.services.ledger import snapshots
from relance.services.organisation import access, hours
from relance.web import pages
from relance.web.plan_forms import (
    ATTACHMENTS,
    CHANNELS,
    MODES,
    WHO,
    NewPlanForm,
    SettingsForm,
    StepForm,
    attach_warnings,
    first_step,
    step_of,
    template_title,
)

PREVIEW_CUSTOMERS = 20


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
            has_draft=Exists(PlanDraft.objects.filter(plan=OuterRef("pk"))),
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


def _preview_customers(
    request: HttpRequest, plan: Plan, search: str = "", chosen: str = ""
) -> list[Customer]:
    """Customers who owe something to preview a step on, found by name or number: those on the
    plan first. At most PREVIEW_CUSTOMERS; `chosen` (an id) is kept when it is one of them."""
    reach = access.customers(request.user).filter(invoices__status="open", company=_owner(plan))
    search = search.strip()[:100]
    if search:
        reach = reach.filter(Q(name__icontains=search) | Q(external_id__icontains=search))
    on_plan = list(reach.filter(plan=plan).distinct().order_by("name")[:PREVIEW_CUSTOMERS])
    others = reach.exclude(pk__in=[c.pk for c in on_plan]).distinct().order_by("name")
    candidates = on_plan + list(others[: PREVIEW_CUSTOMERS * 4])
    if chosen.isdigit() and all(str(c.pk) != chosen for c in candidates):
        candidates = list(reach.filter(pk=int(chosen)).distinct()) + candidates
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


_SETTING_LABELS = {
    "name": SettingsForm.base_fields["name"].label,
    "min_contact_delay_days": SettingsForm.base_fields["min_contact_delay_days"].label,
    "tolerance": SettingsForm.base_fields["tolerance"].label,
    "repeat_last_every_days": SettingsForm.base_fields["repeat_last_every_days"].label,
    "repeat_last_max": SettingsForm.base_fields["repeat_last_max"].label,
}
_STEP_LABELS = {
    "trigger": _("When"),
    "channel": StepForm.base_fields["channel"].label,
    "mode": StepForm.base_fields["mode"].label,
    "recipients": StepForm.base_fields["recipients"].label,
    "cc": StepForm.base_fields["cc"].label,
    "owners": StepForm.base_fields["owners"].label,
    "attach": StepForm.base_fields["attach"].label,
    "template": StepForm.base_fields["template"].label,
    "subject": StepForm.base_fields["subject"].label,
    "body": StepForm.base_fields["body"].label,
    "notify_sales_rep_days_before": StepForm.base_fields["notify_sales_rep_days_before"].label,
    "variant_b": _("A/B test of the text"),
}
_SHORT = 80


def _shown(key: str, value: Any, step: dict[str, Any] | None = None) -> str:
    """A value of a plan or a step as a person reads it in the diff."""
    if value in (None, "", [], {}):
        return "—"
    if key == "trigger" and step is not None:
        return _timing({**step, "trigger": value})
    if key == "channel":
        return str(dict(CHANNELS).get(value, value))
    if key == "mode":
        return str(dict(MODES).get(value, value)).split(":")[0]
    if key == "attach":
        return str(dict(ATTACHMENTS).get(value, value))
    if key == "template":
        return template_title(str(value))
    if key in ("recipients", "cc", "owners"):
        words = dict(WHO)
        return ", ".join(str(words.get(e, str(e).removeprefix("group:"))) for e in value)
    if key == "tolerance" and isinstance(value, dict):
        return ", ".join(f"{c} {a}" for c, a in value.items())
    if key == "variant_b" and isinstance(value, dict):
        return _("%(share)s %% of customers") % {"share": value.get("share")}
    text = " ".join(str(value).split())
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def _diff(plan: Plan, draft: PlanDraft) -> dict[str, Any]:
    """The draft against the live plan, in words: settings and steps, old -> new."""
    found = plan_drafts.differences(plan.definition, draft.definition, draft.renamed or {})
    steps = []
    for change in found.steps:
        rows = [
            {
                "label": _STEP_LABELS.get(key, key),
                "old": _shown(key, old, change.live),
                "new": _shown(key, new, change.draft),
            }
            for key, old, new in change.fields
        ]
        steps.append(
            {"kind": change.kind, "name": change.name, "old_name": change.old_name, "rows": rows}
        )
    settings = [
        {"label": _SETTING_LABELS.get(key, key), "old": _shown(key, old), "new": _shown(key, new)}
        for key, old, new in found.settings
    ]
    return {"any": bool(found), "steps": steps, "settings": settings, "reordered": found.reordered}


def _person(user: Any) -> str:
    if user is None:
        return _("someone")
    return user.get_full_name() or user.email or user.username


def _history(plan: Plan) -> list[dict[str, str]]:
    """The plan's last versions (publications, and edits saved before drafts existed), newest
    first, in words."""
    events = (
        Event.objects.filter(
            company=_owner(plan),
            kind__in=("plan.published", "plan.edited", "plan.created", "plan.loaded"),
            data__plan=plan.code,
        )
        .select_related("actor")
        .order_by("-at")[:5]
    )
    zone, language = _owner(plan).time_zone, pages.language()
    found = []
    for event in events:
        if event.kind == "plan.published":
            what = _("%(who)s published a new version") % {"who": _person(event.actor)}
        elif event.kind == "plan.created":
            what = _("%(who)s created the plan") % {"who": _person(event.actor)}
        elif event.kind == "plan.loaded":
            what = _("A new version was loaded from YAML")
        else:
            what = _("%(who)s saved a new version") % {"who": _person(event.actor)}
        found.append({"when": formatting.moment(event.at, zone, language), "what": what})
    return found


def _moment(plan: Plan, at: Any) -> str:
    return formatting.moment(at, _owner(plan).time_zone, pages.language())


def _editor(
    request: HttpRequest,
    plan: Plan,
    *,
    step_form: StepForm | None = None,
    settings_form: SettingsForm | None = None,
    selected: int | None = None,
    status: int = 200,
) -> HttpResponse:
    draft = plan_drafts.draft_of(plan)
    live_view = draft is None or request.GET.get("live") is not None
    definition = plan.definition if live_view else draft.definition  # type: ignore[union-attr]
    may_edit = _may_edit(request, plan)
    editing = may_edit and (draft is None or not live_view)
    steps = definition.get("steps") or []
    if selected is None and settings_form is None and request.GET.get("settings") is None:
        chosen = request.GET.get("step", "")
        selected = int(chosen) if chosen.isdigit() and 1 <= int(chosen) <= len(steps) else None
    if selected is not None and step_form is None:
        step = steps[selected - 1]
        step_form = StepForm(initial=StepForm.initial_for(step), company=plan.company, step=step)
    if selected is None and settings_form is None:
        settings_form = SettingsForm(initial=SettingsForm.initial_for(definition))
    warnings = _warnings(definition)
    panel_warnings: list[str] = []
    if step_form is not None and selected is not None:
        panel_warnings = step_form.show_warnings(warnings, selected)
    elif settings_form is not None:
        plan_level = [w for w in warnings if step_of(w.path) is None]
        panel_warnings = attach_warnings(settings_form, plan_level, None)
    visible = access.customers(request.user)
    context = {
        "plan": plan,
        "draft": draft,
        "live_view": live_view,
        "stale": draft is not None and plan_drafts.is_stale(plan, draft),
        "diff": _diff(plan, draft) if draft is not None else None,
        "draft_version": service.fingerprint(draft.definition) if draft else "",
        "draft_started": _moment(plan, draft.started_at) if draft else "",
        "draft_updated": _moment(plan, draft.updated_at) if draft else "",
        "draft_by": _person(draft.started_by) if draft else "",
        "draft_updated_by": _person(draft.updated_by) if draft else "",
        "history": _history(plan),
        "version": service.fingerprint(definition),
        "timeline": _timeline(definition, selected),
        "step_count": len(steps),
        "plan_warnings": [w for w in warnings if step_of(w.path) is None],
        "panel_warnings": panel_warnings,
        "selected": selected,
        "step_form": step_form,
        "settings_form": settings_form,
        "may_edit": may_edit,
        "editing": editing,
        "on_plan": visible.filter(plan=plan).count(),
        "preview_customers": _preview_customers(request, plan) if step_form and editing else [],
        "merge_fields": _fields(),
    }
    return render(request, "relance/plan_editor.html", context, status=status)


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(_visible(request), pk=pk))


def _keep(
    request: HttpRequest,
    plan: Plan,
    definition: dict[str, Any],
    renamed: dict[str, str] | None = None,
) -> plan_drafts.DraftSaved | None:
    """Keep the change in the plan's draft; None (and a message) when someone changed the draft
    meanwhile. PlanError goes to the caller, which shows it next to the fields."""
    try:
        return plan_drafts.edit(
            plan,
            definition,
            actor=request.user,
            expected=request.POST.get("version"),
            renamed=renamed,
        )
    except plan_drafts.DraftChanged:
        messages.error(
            request,
            _(
                "Someone changed this plan's draft while you were editing it: "
                "your change was not kept."
            ),
        )
        return None


def _kept(
    request: HttpRequest, plan: Plan, saved: plan_drafts.DraftSaved, where: str
) -> HttpResponse:
    count = len(saved.warnings)
    if count:
        text = ngettext(
            "Kept in the draft, with %(count)s warning: see it next to its field.",
            "Kept in the draft, with %(count)s warnings: see them next to their fields.",
            count,
        ) % {"count": count}
        messages.warning(request, text)
    else:
        messages.success(request, _("Kept in the draft. Publish it to make it live."))
    return redirect(reverse("plan", args=[plan.pk]) + where)


def _index_of(definition: dict[str, Any], name: str, default: int) -> int:
    """Where the step named `name` is now (the steps are kept ordered by their trigger)."""
    for index, step in enumerate(definition.get("steps") or [], start=1):
        if step.get("name") == name:
            return index
    return default


def _step_definition(definition: dict[str, Any], index: int, form: StepForm) -> dict[str, Any]:
    steps = list(definition["steps"])
    steps[index - 1] = form.as_step()
    return {**definition, "steps": steps}


def _step_form(plan: Plan, definition: dict[str, Any], index: int, data: Any) -> StepForm:
    steps = definition.get("steps") or []
    if not 1 <= index <= len(steps):
        raise PermissionDenied  # a step that is not there: the page is out of date
    return StepForm(data, company=plan.company, step=steps[index - 1])


@login_required
@require_POST
def step_save(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    plan = _editable(request, pk)
    definition = plan_drafts.working(plan)
    form = _step_form(plan, definition, index, request.POST)
    if form.is_valid():
        changed = _step_definition(definition, index, form)
        old = definition["steps"][index - 1]["name"]
        try:
            saved = _keep(request, plan, changed, renamed={old: form.cleaned_data["name"]})
        except PlanError as exc:
            form.show_problems(exc.problems, index)
        else:
            if saved is not None:
                at = _index_of(saved.draft.definition, form.cleaned_data["name"].strip(), index)
                return _kept(request, plan, saved, f"?step={at}")
            return redirect(reverse("plan", args=[plan.pk]) + f"?step={index}")
    return _editor(request, plan, step_form=form, selected=index)


@login_required
@require_POST
def settings_save(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editable(request, pk)
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            saved = _keep(request, plan, form.apply(plan_drafts.working(plan)))
        except PlanError as exc:
            form.show_problems(exc.problems)
        else:
            if saved is not None:
                return _kept(request, plan, saved, "?settings=1")
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
    """Add a step after this one, duplicate or delete it: in the draft. Steps are ordered by
    their trigger, so there is no moving them: a step moves when its day changes."""
    plan = _editable(request, pk)
    definition = plan_drafts.working(plan)
    steps = list(definition.get("steps") or [])
    if not 1 <= index <= len(steps) and not (change == "add" and index == len(steps)):
        raise PermissionDenied
    taken = {str(s.get("name", "")).casefold() for s in steps}
    shown = ""  # the step to show afterwards, by name
    if change == "add":
        new = first_step()
        last = steps[index - 1]["trigger"]["days"] if steps else 0
        new["trigger"] = {"days": int(last) + 15, "from": "due_date"}
        new["name"] = shown = _copy_name(_("New step"), taken)
        steps.insert(index, new)
    elif change == "duplicate":
        copy = dict(steps[index - 1])
        copy["name"] = shown = _copy_name(str(copy.get("name", "")), taken)
        steps.insert(index, copy)
    elif change == "delete":
        del steps[index - 1]
        if steps:
            shown = str(steps[min(index, len(steps)) - 1].get("name", ""))
    else:
        raise PermissionDenied
    try:
        saved = _keep(request, plan, {**definition, "steps": steps})
    except PlanError as exc:
        for problem in exc.problems:
            messages.error(request, f"{problem.path}: {problem.message}")
        return redirect(reverse("plan", args=[plan.pk]) + f"?step={index}")
    if saved is None:
        return redirect(reverse("plan", args=[plan.pk]))
    at = _index_of(saved.draft.definition, shown, 0)
    return _kept(request, plan, saved, f"?step={at}" if at else "")


@login_required
@require_POST
def draft_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the draft the live plan, as the person saw it (its fingerprint comes back)."""
    plan = _editable(request, pk)
    back = redirect(reverse("plan", args=[plan.pk]))
    try:
        saved = plan_drafts.publish(plan, actor=request.user, expected=request.POST.get("draft"))
    except plan_drafts.NoDraft:
        messages.error(
            request, _("There is no draft to publish: someone published or discarded it.")
        )
        return back
    except plan_drafts.DraftChanged:
        messages.error(
            request,
            _("The draft changed since you looked at it: look at the changes again, then publish."),
        )
        return back
    except plan_drafts.DraftStale:
        messages.error(
            request,
            _(
                "The live plan changed since this draft was started (someone published another "
                "version): the draft was not published. Discard it and make your changes again."
            ),
        )
        return back
    except PlanError as exc:
        for problem in exc.problems:
            messages.error(request, f"{problem.path}: {problem.message}")
        return back
    messages.success(
        request, _("Published: %(plan)s now runs this version.") % {"plan": saved.plan.name}
    )
    return back


@login_required
@require_POST
def draft_discard(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editable(request, pk)
    try:
        plan_drafts.discard(plan, actor=request.user)
    except plan_drafts.NoDraft:
        messages.error(request, _("There is no draft to discard."))
    else:
        messages.success(request, _("Draft discarded: the live plan is unchanged."))
    return redirect(reverse("plan", args=[plan.pk]))


@login_required
def preview_customers(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview's customer choices matching a search (name or number): options for the
    editor's select. Only for those who may edit the plan, as the preview itself."""
    plan = _editable(request, pk)
    found = _preview_customers(
        request, plan, request.GET.get("q", ""), request.GET.get("preview_customer", "")
    )
    return render(
        request,
        "relance/plan_preview_customers.html",
        {"customers": found, "chosen": request.GET.get("preview_customer", "")},
    )


def _outside_gsm(result: dict[str, Any]) -> list[str]:
    """For an SMS in UCS-2, the characters that put it there (each part then holds 70
    characters, not 160), named so they can be found: an invisible space is given its code."""
    if (result.get("sms") or {}).get("encoding") != "UCS-2":
        return []
    found = dict.fromkeys(c for c in sms.plain(result["body"]) if not sms.in_gsm7(c))
    return [c if c.strip() else f"U+{ord(c):04X}" for c in found][:10]


@login_required
@require_POST
def step_preview(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """The step as the form shows it now, unkept, rendered for one real customer. Only those
    who may edit the plan may preview it: rendering runs the text they type (bounded by the
    sandbox, still work for the server), and read-only users and sales reps only read plans."""
    plan = _editable(request, pk)
    definition = plan_drafts.working(plan)
    form = _step_form(plan, definition, index, request.POST)
    context: dict[str, Any] = {"problems": [], "result": None}
    customer = (
        access.customers(request.user)
        .filter(pk=request.POST.get("preview_customer") or 0, company=_owner(plan))
        .first()
    )
    if not form.is_valid():
        context["problems"] = [str(e) for errors in form.errors.values() for e in errors]
    elif customer is None:
        context["problems"] = [_("Choose a customer to preview the step on.")]
    else:
        try:
            draft = parse_plan(_step_definition(definition, index, form))
            step = with_side(draft.steps[index - 1], request.POST.get("preview_side", ""))
            context["result"] = preview.render_step(customer, draft, step, _today(plan))
            context["customer"] = customer
            context["wide"] = _outside_gsm(context["result"])
        except PlanError as exc:
            context["problems"] = [f"{p.path}: {p.message}" for p in exc.problems]
        except (preview.PreviewError, RenderError) as exc:
            context["problems"] = [str(exc)]
    return render(request, "relance/plan_preview.html", context)


@login_required
def plan_yaml(request: HttpRequest, pk: int) -> HttpResponse:
    """The live plan as YAML, for `relance plan load` or version control; with `?draft=1`, its
    unpublished draft (the same reader may see both on the editor)."""
    plan = get_object_or_404(_visible(request), pk=pk)
    draft = plan_drafts.draft_of(plan) if request.GET.get("draft") else None
    if request.GET.get("draft") and draft is None:
        raise Http404("no draft")
    definition = draft.definition if draft is not None else plan.definition
    text = yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=100)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    name = f"{plan.code}-draft" if draft is not None else plan.code
    response["Content-Disposition"] = f'attachment; filename="{name}.yaml"'
    return response
