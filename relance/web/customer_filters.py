"""The customers list's filters, shared by the page and its CSV export."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from relance.models import Customer, Plan
from relance.services.dunning import segments
from relance.services.organisation import hours

FLAGS = [
    ("", _("Any state")),
    ("hold", _("On hold")),
    ("dispute", _("With an open dispute")),
    ("promise", _("With an open promise")),
]
NO_PLAN = segments.NO_PLAN
LATE = [
    ("", _("Any lateness")),
    ("current", _("Nothing overdue")),
    ("1-30", _("1 to 30 days late")),
    ("31-60", _("31 to 60 days late")),
    ("61-90", _("61 to 90 days late")),
    ("91-", _("Over 90 days late")),
    ("paid", _("Nothing owed")),
]
OWES = [
    ("", _("Owing or not")),
    ("overdue", _("Has an overdue invoice")),
    ("yes", _("Has an unpaid invoice, due or not")),
    ("no", _("Owes nothing")),
]
PAYS_BY = [
    ("", _("Any way of paying")),
    ("yes", _("Pays by bank transfer")),
    ("no", _("Does not pay by bank transfer")),
]
SORTS = [
    ("", _("By name")),
    ("late", _("Most late first")),
    ("id", _("By customer id")),
]
ORDER: dict[str, list[Any]] = {
    "": ["name", "pk"],
    "late": [F("oldest_unpaid_due").asc(nulls_last=True), "name", "pk"],
    "id": ["external_id", "pk"],
}


class Filters(forms.Form):
    """A bar of filters: every field optional; a value that is not a choice is ignored, never an
    error page. Subclasses offer their choices with `_offer` and read them with `chosen`."""

    def _offer(self, name: str, anything: Any, choices: list[tuple[str, Any]]) -> None:
        field: Any = self.fields[name]
        field.choices = [("", anything), *choices]

    def offered(self, name: str) -> int:
        """How many values the filter offers (besides "any")."""
        field: Any = self.fields[name]
        return len(field.choices) - 1

    def chosen(self, name: str) -> str:
        value = self.cleaned_data.get(name)
        return "" if value is None else str(value)  # 0 days or 0.00 is a choice too

    def labelled(self) -> None:
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = field.label


class CustomerFilter(Filters):
    """The customers list's filters (and a campaign's segment)."""

    q = forms.CharField(required=False, label=_("Search"))
    company = forms.ChoiceField(required=False, label=_("Company"))
    segment = forms.ChoiceField(required=False, label=_("Segment"))
    risk = forms.ChoiceField(required=False, label=_("Risk"))
    plan = forms.ChoiceField(required=False, label=_("Plan"))
    rep = forms.ChoiceField(required=False, label=_("Sales rep"))
    owner = forms.ChoiceField(required=False, label=_("Owner"))
    late = forms.ChoiceField(required=False, label=_("Overdue"), choices=LATE)
    flag = forms.ChoiceField(required=False, label=_("State"), choices=FLAGS)
    owes = forms.ChoiceField(required=False, label=_("Owes"), choices=OWES)
    bank_transfer = forms.ChoiceField(required=False, label=_("Pays by"), choices=PAYS_BY)
    late_over = forms.IntegerField(
        required=False, min_value=0, max_value=36500, label=_("Overdue by more than (days)")
    )
    owed_over = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        localize=True,
        label=_("Owes more than (company currency)"),
    )
    sort = forms.ChoiceField(required=False, label=_("Sort"), choices=SORTS)

    def __init__(self, data: Any, visible: QuerySet[Customer], companies: list[Any]) -> None:
        super().__init__(data)
        self.visible = visible
        self.today = hours.first_company_today(companies)
        # order_by(): the default ordering would join the DISTINCT and return every customer
        segments = visible.exclude(segment="").values_list("segment", flat=True).order_by()
        plans = Plan.objects.filter(
            pk__in=visible.exclude(plan=None).values("plan_id").order_by()
        ).order_by("name")
        self._offer("company", _("All companies"), [(c.code, c.name) for c in companies])
        self._offer("segment", _("Any segment"), [(s, s) for s in sorted(set(segments.distinct()))])
        self._offer("risk", _("Any risk"), list(Customer.Risk.choices))
        self._offer(
            "plan",
            _("Any plan"),
            [(NO_PLAN, _("by the rules")), *((p.code, p.name) for p in plans)],
        )
        self._offer("rep", _("Any sales rep"), _people(visible, "sales_rep"))
        self._offer("owner", _("Any owner"), _people(visible, "owner"))
        self.labelled()
        for name in ("late_over", "owed_over"):
            self.fields[name].widget.attrs.update(placeholder=self.fields[name].label, size=12)
        self.offered_segment = self.offered("segment")
        self.offered_rep = self.offered("rep")
        self.offered_owner = self.offered("owner")
        self.is_valid()  # fills cleaned_data with the valid fields

    def apply(self, query: QuerySet[Customer]) -> QuerySet[Customer]:
        criteria = {name: self.chosen(name) for name in self.fields if name != "sort"}
        return segments.matching(query, criteria, self.today)

    def ordering(self) -> list[Any]:
        return ORDER[self.chosen("sort")]

    def active(self) -> bool:
        return any(self.chosen(name) for name in self.fields if name not in ("q", "sort"))


def _people(visible: QuerySet[Customer], role: str) -> list[tuple[str, str]]:
    """The sales reps (or owners) of these customers, by name: people are few and customers
    many, so each person is probed through the customers' index on that role."""
    theirs = visible.filter(**{role: OuterRef("pk")}).order_by()
    found = (
        get_user_model()
        .objects.filter(Exists(theirs))
        .values_list("pk", "first_name", "last_name", "email")
    )
    return sorted(
        ((str(pk), f"{first} {last}".strip() or email) for pk, first, last, email in found),
        key=lambda choice: choice[1].lower(),
    )
