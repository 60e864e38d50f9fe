"""Print runs in the staff app, for those who act on a company (admins and credit controllers):
each run's letters and pages, its PDF to print (one or two-sided), and "posted" once the
envelopes left, which records its letters as sent. The page hands the same last letter to the
download and to "posted", so a letter filed in between is never recorded as posted unprinted: it
waits in the next run (services/dunning/print_runs.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relance.messaging import formatting
from relance.models import Company, PrintBatch
from relance.services.dunning import print_runs
from relance.services.organisation import access
from relance.web import pages
from relance.web.reach import acting_on, chosen_company

SHOWN = 50


class PostedForm(forms.Form):
    through = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reference = forms.CharField(
        label=gettext_lazy("Reference (optional)"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("e.g. the post office receipt or the print shop's job number"),
    )


def _acting(request: HttpRequest) -> list[Company]:
    return list(access.companies(request.user).filter(pk__in=access.acting_in(request.user)))


def _run(request: HttpRequest, pk: int) -> PrintBatch:
    visible = PrintBatch.objects.select_related("company").filter(
        company__in=access.companies(request.user)
    )
    return acting_on(request, visible, pk)


def _who(user: Any) -> str:
    return str(user.get_full_name() or user.email or user.get_username())


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    company = chosen_company(request, acting)
    language = pages.language()
    batches = (
        PrintBatch.objects.filter(company=company)
        .annotate(count=Count("letters"), page_total=Sum("letters__pages"))
        .order_by("status", "-created_on", "-pk")[:SHOWN]
    )
    rows = [
        {
            "run": b,
            "created": formatting.day(b.created_on, language),
            "posted": formatting.moment(b.posted_at, company.time_zone, language),
            "through": print_runs.last_letter(b) if b.status == PrintBatch.Status.OPEN else None,
        }
        for b in batches
    ]
    context = {"company": company, "companies": acting, "rows": rows}
    return render(request, "relance/print_runs.html", context)


@login_required
def run_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _run(request, pk)
    through = request.GET.get("through", "")
    try:
        pdf = print_runs.document(
            batch.pk,
            duplex=request.GET.get("duplex") == "1",
            through=int(through) if through.isdigit() else None,
        )
    except print_runs.PrintRunError as exc:
        messages.error(request, str(exc))
        return redirect(reverse("print-runs") + f"?company={batch.company_id}")
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{batch.company.code}-print-run-{batch.pk}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def run_posted(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _run(request, pk)
    form = PostedForm(request.POST)
    back = redirect(reverse("print-runs") + f"?company={batch.company_id}")
    if not form.is_valid():
        messages.error(request, _("Reload the page: the run changed since it was shown."))
        return back
    try:
        done = print_runs.mark_posted(
            batch.pk,
            _who(request.user),
            form.cleaned_data["reference"],
            through=form.cleaned_data["through"],
        )
    except print_runs.PrintRunError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Print run %(run)s is posted: its letters are recorded as sent.")
            % {"run": done["id"]},
        )
    return back
