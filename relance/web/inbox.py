"""The Actions inbox: the manual work of the day (calls, tasks, messages to approve, customers
nobody could be reached at), the user's own first, highest priority first, each closed in one
click with its outcome. A call that got a promise or a dispute records it on the spot."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages as notices
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relance.messaging import formatting
from relance.models import ActionItem, Company, Contact
from relance.services.dunning import actions
from relance.services.organisation import access, hours
from relance.web import pages
from relance.web.customer_filters import Filters
from relance.web.dialogue import promised_amount

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
    amount = promised_amount()
    note = forms.CharField(required=False, label=gettext_lazy("Note"), max_length=2000)


def _parts(item: ActionItem) -> list[str]:
    """The priority's parts in words (domain.priority), as they were when the item was made.
    Lateness counts for at most a year of points: said as points, the days themselves are shown
    apart, as they are today."""
    parts = item.priority_parts or {}
    words = []
    if points := parts.get("days_late"):
        words.append(_("%(n)s for lateness") % {"n": points})
    if points := parts.get("amount"):
        words.append(_("%(n)s for the amount") % {"n": points})
    if points := parts.get("risk"):
        words.append(
            _("%(n)s for the risk (%(risk)s)")
            % {"n": points, "risk": str(item.customer.get_risk_display()).lower()}
        )
    if points := parts.get("broken_promise"):
        words.append(_("%(n)s for a broken promise") % {"n": points})
    return words


LATE_BUCKETS = [
    ("1-30", gettext_lazy("1 to 30 days late")),
    ("31-60", gettext_lazy("31 to 60 days late")),
    ("61-90", gettext_lazy("61 to 90 days late")),
    ("91-", gettext_lazy("Over 90 days late")),
]


class InboxFilter(Filters):
    """The inbox's filters."""

    kind = forms.ChoiceField(required=False, label=gettext_lazy("Type"))
    company = forms.ChoiceField(required=False, label=gettext_lazy("Company"))
    owner = forms.ChoiceField(required=False, label=gettext_lazy("Assigned to"))
    plan = forms.ChoiceField(required=False, label=gettext_lazy("Plan"))
    late = forms.ChoiceField(required=False, label=gettext_lazy("Overdue"))

    def __init__(self, data: Any, visible: QuerySet[ActionItem], user: Any) -> None:
        super().__init__(data)
        companies = Company.objects.filter(pk__in=visible.values("company_id").order_by()).order_by(
            "name"
        )
        people = get_user_model().objects.filter(
            pk__in=ActionItem.assignees.through.objects.filter(actionitem__in=visible).values(
                "user_id"
            )
        )
        plans = sorted(
            set(
                visible.exclude(execution__plan_code="")
                .values_list("execution__plan_code", flat=True)
                .order_by()
            )
            - {None}
        )
        self._offer("kind", _("Every type"), list(ActionItem.Kind.choices))
        self._offer("company", _("Every company"), [(str(c.pk), c.name) for c in companies])
        named = sorted(((str(u.pk), _who(u)) for u in people), key=lambda c: c[1].lower())
        self._offer("owner", _("Anyone"), [("none", _("Nobody yet")), *named])
        self._offer("plan", _("Every plan"), [(p, p) for p in plans])
        self._offer("late", _("Any lateness"), LATE_BUCKETS)
        self.labelled()
        self.several_companies = len(companies) > 1
        self.is_valid()

    def apply(self, items: QuerySet[ActionItem], today: date) -> QuerySet[ActionItem]:
        if kind := self.chosen("kind"):
            items = items.filter(kind=kind)
        if company := self.chosen("company"):
            items = items.filter(company_id=int(company))
        if (owner := self.chosen("owner")) == "none":
            items = items.filter(assignees=None, groups=None, aliases=None)
        elif owner:
            items = items.filter(assignees=int(owner))
        if plan := self.chosen("plan"):
            items = items.filter(execution__plan_code=plan)
        if late := self.chosen("late"):
            low, _sep, high = late.partition("-")
            items = items.filter(customer__oldest_unpaid_due__lte=today - timedelta(int(low)))
            if high:
                items = items.filter(customer__oldest_unpaid_due__gte=today - timedelta(int(high)))
        return items

    def query(self) -> str:
        return urlencode({k: v for k in self.fields if (v := self.chosen(k))})


def _who(user: Any) -> str:
    return str(user.get_full_name() or user.email or user.get_username())


def _holders(item: ActionItem) -> str:
    names = [_who(u) for u in item.assignees.all()]
    names += [g.name for g in item.groups.all()]
    names += [a.name or a.email for a in item.aliases.all()]
    return ", ".join(names)


def _contact(item: ActionItem) -> Contact | None:
    """Whom a call is for: a contact of the customer with a phone number, billing first."""
    phones = [c for c in item.customer.contacts.all() if c.phone]
    billing = [c for c in phones if "billing" in (c.roles or [])]
    found = billing or phones
    return found[0] if found else None


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Mine (assigned to me, my groups, my aliases) or everyone's within my reach, filtered by
    type, company, assignee, plan and lateness, with the count of each type."""
    visible = access.action_items(request.user).filter(status=ActionItem.Status.OPEN)
    scope = "all" if request.GET.get("scope") == "all" else "mine"
    items = actions.for_user(request.user, visible) if scope == "mine" else visible
    today = access.today(request.user)
    filters = InboxFilter(request.GET, visible, request.user)
    chosen = filters.apply(items, today)
    by_kind = dict(
        filters.apply(items, today)
        .values_list("kind")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
        .values_list("kind", "n")
    )
    listed_items = (
        chosen.distinct()
        .select_related("customer__company", "execution")
        .prefetch_related("assignees", "groups", "aliases", "customer__contacts")
        .order_by("-priority", "due_date", "pk")
    )
    listed = pages.paged(request, listed_items, PAGE_SIZE)
    page = listed["page"]
    language = pages.language()
    acting = access.acting_in(request.user)
    shown = ActionItem.objects.filter(pk__in=[i.pk for i in page.object_list])
    own = set(actions.for_user(request.user, shown).values_list("pk", flat=True))
    rows = []
    for item in page.object_list:
        company_today = hours.company_today(item.customer.company)
        oldest = item.customer.oldest_unpaid_due
        rows.append(
            {
                "item": item,
                "due": formatting.day(item.due_date, language),
                "owed": _owed(item, language),
                "parts": _parts(item),
                "days_late": max((company_today - oldest).days, 0) if oldest else 0,
                "holders": _holders(item),
                "contact": _contact(item) if item.kind == ActionItem.Kind.CALL else None,
                "form": CloseForm(
                    prefix=f"item{item.pk}",
                    initial={"pay_by": company_today + timedelta(7)},
                ),
                "may_close": item.company_id in acting or item.pk in own,
            }
        )
    kind_query = {k: v for k in filters.fields if k != "kind" and (v := filters.chosen(k))}
    context = {
        "rows": rows,
        **listed,
        "scope": scope,
        "mine": actions.for_user(request.user, visible).count(),
        "everyone": visible.count(),
        "filters": filters,
        "query": filters.query(),
        "kinds": [
            {
                "value": value,
                "label": label,
                "count": by_kind.get(value, 0),
                "query": urlencode({"scope": scope, **kind_query, "kind": value}),
                "current": filters.chosen("kind") == value,
            }
            for value, label in ActionItem.Kind.choices
            if by_kind.get(value)
        ],
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
            amount=form.cleaned_data["amount"]
            if form.cleaned_data["outcome"] == "promised"
            else None,
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
