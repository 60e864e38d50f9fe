"""The Actions inbox: the manual work of the day (calls, tasks, messages to approve, customers
nobody could be reached at), the user's own first, highest priority first, each closed in one
click with its outcome. A call that got a promise or a dispute records it on the spot."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages as notices
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from relance.messaging import formatting
from relance.models import ActionItem
from relance.services.dunning import actions
from relance.services.organisation import access, hours
from relance.web import pages

OUTCOMES = [
    ("done", gettext_lazy("Done")),
    ("reached", gettext_lazy("Reached")),
    ("voicemail", gettext_lazy("Left a voicemail")),
    ("promised", gettext_lazy("Promised to pay")),
    ("disputed", gettext_lazy("Disputed")),
    ("wrong_contact", gettext_lazy("Wrong contact")),
]
PAGE_SIZE = 25


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(choices=OUTCOMES, label=gettext_lazy("Outcome"))
    pay_by = forms.DateField(
        required=False,
        label=gettext_lazy("Will pay by"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(required=False, label=gettext_lazy("Note"), max_length=2000)


def _parts(item: ActionItem) -> list[str]:
    """The priority's parts in words (domain.priority), as they were when the item was made."""
    parts = item.priority_parts or {}
    words = []
    if days := parts.get("days_late"):
        words.append(
            ngettext("%(n)s day late", "%(n)s days late", days) % {"n": days},
        )
    if points := parts.get("amount"):
        words.append(_("%(n)s for the amount") % {"n": points})
    if points := parts.get("risk"):
        words.append(_("%(n)s for the risk (%(risk)s)") % {"n": points, "risk": item.customer.risk})
    if points := parts.get("broken_promise"):
        words.append(_("%(n)s for a broken promise") % {"n": points})
    return words


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Mine (assigned to me, my groups, my aliases) or everyone's within my reach."""
    visible = access.action_items(request.user).filter(status=ActionItem.Status.OPEN)
    scope = "all" if request.GET.get("scope") == "all" else "mine"
    items = actions.for_user(request.user, visible) if scope == "mine" else visible
    items = items.select_related("customer__company", "execution").order_by(
        "-priority", "due_date", "pk"
    )
    listed = pages.paged(request, items, PAGE_SIZE)
    page = listed["page"]
    language = pages.language()
    acting = access.acting_in(request.user)
    shown = ActionItem.objects.filter(pk__in=[i.pk for i in page.object_list])
    own = set(actions.for_user(request.user, shown).values_list("pk", flat=True))
    rows = [
        {
            "item": item,
            "due": formatting.day(item.due_date, language),
            "owed": _owed(item, language),
            "parts": _parts(item),
            "form": CloseForm(
                prefix=f"item{item.pk}",
                initial={"pay_by": hours.company_today(item.customer.company) + timedelta(7)},
            ),
            "may_close": item.company_id in acting or item.pk in own,
        }
        for item in page.object_list
    ]
    context = {
        "rows": rows,
        **listed,
        "scope": scope,
        "mine": actions.for_user(request.user, visible).count(),
        "everyone": visible.count(),
    }
    return render(request, "relance/inbox.html", context)


def _owed(item: ActionItem, language: str) -> list[str]:
    """What the step was about, per currency (the totals its execution recorded)."""
    totals = item.execution.totals if item.execution else {}
    return [formatting.money(Decimal(v), c, language) for c, v in sorted(totals.items())]


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(access.action_items(request.user).select_related("customer"), pk=pk)
    mine = actions.for_user(request.user, ActionItem.objects.filter(pk=pk)).exists()
    if not (mine or access.may_act(request.user, item.company_id)):
        raise PermissionDenied
    form = CloseForm(request.POST, prefix=f"item{pk}")
    skip = "skip" in request.POST
    if not form.is_valid():
        for errors in form.errors.values():
            notices.error(request, " ".join(str(e) for e in errors))
        return redirect(_back(request))
    try:
        actions.close(
            pk,
            by=request.user,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            skip=skip,
            source="web",
            record=True,
            pay_by=form.cleaned_data["pay_by"],
            today=hours.company_today(item.customer.company),
        )
    except actions.ActionRefused as exc:
        notices.error(request, str(exc))
    else:
        text = _("Skipped: %(title)s") if skip else _("Done: %(title)s")
        notices.success(request, text % {"title": item.title})
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/actions/") else "/actions/"
