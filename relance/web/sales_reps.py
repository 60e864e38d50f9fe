"""The sales rep's pages: their customers' unpaid invoices, and the page a signed link opens
(no login) to hold a customer, flag a dispute or record a promise (services.dunning.sales_reps).

A link opened is never acted on by the GET itself (mail scanners follow links): the page asks
for the click that confirms, and the form says which invoices and, for a promise, which date.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from relance.messaging import formatting
from relance.messaging.reasons import written
from relance.services.dialogue import pauses
from relance.services.dunning import sales_reps
from relance.services.dunning.sales_reps import DISPUTE, HOLD, PROMISE
from relance.services.ledger import lookup
from relance.services.organisation import access, hours
from relance.web import pages


def titles() -> dict[str, str]:
    """What each link does, in the reader's language."""
    return {
        HOLD: gettext("Pause dunning for %(days)s days") % {"days": sales_reps.HOLD_DAYS},
        DISPUTE: gettext("Flag a dispute"),
        PROMISE: gettext("Record a promise to pay"),
    }


#: The statuses "My customers" filters on: what stops or speeds up the dunning of a customer.
STATUSES = [
    ("overdue", _("With an overdue invoice")),
    ("on_hold", _("On hold")),
    ("disputed", _("With a dispute")),
    ("promised", _("With a promise to pay")),
]
SEARCH_LENGTH = 100


def _status(entry: sales_reps.Unpaid, status: str) -> bool:
    if status == "overdue":
        return any(i["days_late"] > 0 for i in entry.invoices)
    if status == "on_hold":
        return entry.on_hold
    if status == "disputed":
        return bool(entry.disputed)
    if status == "promised":
        return bool(entry.promised)
    return True


@login_required
def my_customers(request: HttpRequest) -> HttpResponse:
    """The unpaid invoices of the customers whose sales rep the reader is, most late first,
    with their next step and the same one-click actions as in the digest; above them what they
    owe in all, what is overdue and the steps of the coming week, and a search by name or
    reference and a filter by status."""
    mine = list(
        access.customers(request.user).filter(sales_rep=request.user.pk).select_related("company")
    )
    today = hours.company_today(mine[0].company) if mine else None
    search = request.GET.get("q", "").strip()[:SEARCH_LENGTH]
    status = request.GET.get("status", "")
    if status not in dict(STATUSES):
        status = ""
    rows = []
    language = pages.language()
    owed: dict[str, Decimal] = {}
    overdue: dict[str, Decimal] = {}
    next_week = 0
    for entry in sales_reps.unpaid(mine, today) if today else []:
        for invoice in entry.invoices:
            currency = invoice["currency"]
            owed[currency] = owed.get(currency, Decimal(0)) + invoice["amount_due"]
            if invoice["days_late"] > 0:
                overdue[currency] = overdue.get(currency, Decimal(0)) + invoice["amount_due"]
            invoice["amount"] = formatting.money(invoice["amount_due"], currency, language)
            invoice["due"] = formatting.day(invoice["due_date"], language)
        step = entry.next_step
        if step and today and (step.day - today).days < 7:
            next_week += 1
        needle = search.casefold()
        if needle and not (
            needle in entry.customer.name.casefold()
            or needle in entry.customer.external_id.casefold()
        ):
            continue
        if not _status(entry, status):
            continue
        rows.append(
            {
                "entry": entry,
                "next": step
                and {
                    "step": step.step,
                    "day": formatting.day(step.day, language),
                    "reason": written(step.reason, language, step.reason_data),
                },
                "totals": formatting.amounts(entry.totals, pages.language()),
                "links": [
                    (label, sales_reps.token(request.user, entry.customer, action))
                    for action, label in titles().items()
                ],
            }
        )
    context = {
        "rows": rows,
        "count": len(mine),
        "summary": {
            "owed": formatting.amounts(owed, language),
            "overdue": formatting.amounts(overdue, language),
            "next_week": next_week,
        },
        "search": search,
        "status": status,
        "statuses": STATUSES,
        "filtered": bool(search or status),
    }
    return render(request, "relance/my_customers.html", context)


class LinkForm(forms.Form):
    invoices = forms.MultipleChoiceField(
        label=_("Invoices"), required=False, widget=forms.CheckboxSelectMultiple
    )
    pay_by = forms.DateField(
        label=_("Promised payment date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        label=_("What is wrong"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, data: Any, action: str, invoices: list[dict[str, Any]]) -> None:
        super().__init__(data)
        field: Any = self.fields["invoices"]
        language = pages.language()
        field.choices = [
            (
                i["id"],
                gettext("%(number)s · %(amount)s · due on %(day)s")
                % {
                    "number": i["number"],
                    "amount": formatting.money(i["amount_due"], i["currency"], language),
                    "day": formatting.day(i["due_date"], language),
                },
            )
            for i in invoices
        ]
        field.initial = [i["id"] for i in invoices]
        if action != PROMISE:
            del self.fields["pay_by"]
        if action != DISPUTE:
            del self.fields["reason"]
        if action == HOLD:
            del self.fields["invoices"]


def rep_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link does and asks to confirm; POST does it."""
    try:
        grant = sales_reps.read(token)
    except sales_reps.LinkRefused as exc:
        return render(request, "relance/rep_link.html", {"refused": str(exc)}, status=403)
    customer = grant.customer
    today = hours.company_today(customer.company)
    owing = sales_reps.unpaid([customer], today)
    invoices = owing[0].invoices if owing else []
    form = LinkForm(request.POST if request.method == "POST" else None, grant.action, invoices)
    done = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            done = sales_reps.act(
                grant,
                today,
                invoices=lookup.invoices_of(customer, data.get("invoices") or []),
                pay_by=data.get("pay_by"),
                reason=data.get("reason") or "",
            )
        except (pauses.Refused, lookup.NotTheirs) as exc:
            form.add_error(None, str(exc))
    context = {
        "grant": grant,
        "title": titles()[grant.action],
        "customer": customer,
        "invoices": invoices,
        "totals": formatting.amounts(owing[0].totals, pages.language()) if owing else "",
        "form": form,
        "done": done,
    }
    return render(request, "relance/rep_link.html", context)
