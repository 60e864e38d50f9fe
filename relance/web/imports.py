"""The import pages, for a company's admins and credit controllers: send a ledger file (checked
first by default, then imported for real), follow its job's progress, read every problem on its
row and column (and download them as CSV), and the history of the company's imports with undo of
the latest while nothing depends on it. Read-only users and sales reps get 403.

The jobs are services/ledger/import_jobs.py's: the upload returns as soon as the file is stored.
"""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relance.domain import csv_cells
from relance.domain.errors import Refusal
from relance.domain.tabular import FormatError
from relance.messaging import formatting
from relance.models import Company, ImportJob
from relance.services.ledger import import_columns, import_jobs, import_undo, mapping_store
from relance.services.ledger.import_kinds import columns_of
from relance.services.organisation import access
from relance.web import pages
from relance.web.reach import acting_on, chosen_company

SHOWN_ERRORS = 200
#: Customers whose plan the import changes, shown on the job's page (the job keeps 1,000).
SHOWN_PLAN_CHANGES = 50
RECENT = 5
HISTORY_PAGE = 25
Status = ImportJob.Status

KINDS = [
    ("customers", gettext_lazy("Customers")),
    ("contacts", gettext_lazy("Contacts")),
    ("invoices", gettext_lazy("Invoices")),
    ("credit-notes", gettext_lazy("Credit notes")),
    ("payments", gettext_lazy("Payments")),
]
STATUSES = {
    Status.DRAFT: gettext_lazy("Columns to choose"),
    Status.QUEUED: gettext_lazy("Waiting to start"),
    Status.RUNNING: gettext_lazy("Running"),
    Status.DONE: gettext_lazy("Done"),
    Status.FAILED: gettext_lazy("Failed"),
    Status.UNDONE: gettext_lazy("Undone"),
}


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=KINDS)
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "CSV (any usual separator and encoding) or a workbook (.xlsx, .xls, .ods), "
            "with a header row"
        ),
        allow_empty_file=True,  # the service refuses it with its own words
    )
    mapping = forms.ChoiceField(
        label=gettext_lazy("Columns"),
        required=False,
        help_text=gettext_lazy(
            "The file's columns are relance's, or those of another product's export: choose it."
        ),
    )
    sheet = forms.CharField(
        label=gettext_lazy("Sheet"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("A workbook's sheet to read; empty: the first."),
    )

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        known = mapping_store.all_mappings(company)
        self.kinds = {m.name: m.kind for m in known}
        field = self.fields["mapping"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", gettext_lazy("relance's own column names")),
            *((m.name, f"{m.label or m.name} ({m.name})") for m in known),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        mapping, kind = cleaned.get("mapping"), cleaned.get("kind")
        if mapping and kind and self.kinds.get(mapping) != kind:
            self.add_error(
                "mapping",
                _("This mapping reads %(kind)s, not what you chose the file holds.")
                % {"kind": self.kinds.get(mapping, "")},
            )
        return cleaned

    dry_run = forms.BooleanField(
        label=gettext_lazy("Check the file only (nothing is saved)"),
        required=False,
        initial=True,
        help_text=gettext_lazy(
            "Recommended: you see what the import would do, then import it for real."
        ),
    )


def _acting(request: HttpRequest) -> list[Company]:
    return list(access.companies(request.user).filter(pk__in=access.acting_in(request.user)))


def _company(request: HttpRequest) -> Company:
    return chosen_company(request, _acting(request))


def job_of(request: HttpRequest, pk: int) -> ImportJob:
    visible = ImportJob.objects.select_related("company", "uploaded_by").filter(
        company__in=access.companies(request.user)
    )
    return acting_on(request, visible, pk)


def _who(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.email or user.get_username())


def _row(job: ImportJob, language: str) -> dict[str, Any]:
    return {
        "job": job,
        "kind": dict(KINDS).get(job.kind, job.kind),
        "status": _("Checked")
        if job.dry_run and job.status == Status.DONE
        else STATUSES.get(Status(job.status), job.status),
        "when": formatting.moment(job.queued_at, job.company.time_zone, language),
        "who": _who(job.uploaded_by),
        "size": filesizeformat(job.size),
    }


def _columns() -> list[dict[str, Any]]:
    found = []
    for kind, label in KINDS:
        columns, required = columns_of(kind)
        found.append(
            {
                "label": label,
                "required": [c for c in columns if c in required],
                "optional": [c for c in columns if c not in required],
            }
        )
    return found


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    company = _company(request)
    language = pages.language()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, company=company)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            chosen = ("mapping", "sheet")
            options = {key: form.cleaned_data[key] for key in chosen if form.cleaned_data[key]}
            options["language"] = get_language()  # the job's messages, in the uploader's words
            try:
                job = import_jobs.submit(
                    company,
                    form.cleaned_data["kind"],
                    upload,
                    request.user,
                    dry_run=form.cleaned_data["dry_run"],
                    name=upload.name,
                    options=options,
                    draft=True,
                )
                return _next_step(job)
            except Refusal as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        status = 400
    else:
        kind = request.GET.get("kind", "")
        form = UploadForm(initial={"kind": kind} if kind in dict(KINDS) else None, company=company)
        status = 200
    recent = ImportJob.objects.filter(company=company).select_related("company", "uploaded_by")
    context = {
        "company": company,
        "companies": _acting(request),
        "form": form,
        "max_size": filesizeformat(import_jobs.max_bytes()),
        "running": import_jobs.active(company),
        "recent": [_row(j, language) for j in recent[:RECENT]],
        "columns": _columns(),
    }
    return render(request, "relance/import.html", context, status=status)


def _next_step(job: ImportJob) -> HttpResponse:
    """Straight to the check when the file names its columns as relance does (and no mapping
    was chosen); to the column step otherwise, or when the file cannot be read (which that
    page explains)."""
    if "mapping" not in job.options:
        try:
            found = import_columns.sample(
                import_jobs.path_of(job), job.file_name, job.options.get("sheet") or None
            )
        except FormatError:
            found = None
        if found is not None and import_columns.own_columns(job.kind, found.headers):
            job = import_jobs.start(job, job.options)
            return redirect("import-job", job.pk)
    return redirect("import-columns", job.pk)


def _status_context(job: ImportJob) -> dict[str, Any]:
    language = pages.language()
    if not job.finished:
        import_jobs.expire_stale(job.company)
        job.refresh_from_db()
    read = import_jobs.progress(job) if not job.finished else job.size
    refusal = import_undo.undo_refusal(job) if job.status in (Status.DONE,) else ""
    return {
        "job": job,
        "row": _row(job, language),
        "read": read,
        "read_text": filesizeformat(read),
        "percent": int(read * 100 / job.size) if job.size else 0,
        "errors": job.errors[:SHOWN_ERRORS],
        "more_errors": max(0, job.error_count - SHOWN_ERRORS),
        "plan_changes": job.plan_changes[:SHOWN_PLAN_CHANGES],
        "more_plan_changes": max(0, job.plan_change_count - SHOWN_PLAN_CHANGES),
        "finished_at": formatting.moment(job.finished_at, job.company.time_zone, language),
        "may_confirm": job.dry_run
        and job.status == Status.DONE
        and not job.error_count
        and bool(job.stored_file),
        "undo_refusal": refusal,
        "may_undo": job.status == Status.DONE and not job.dry_run and not refusal,
        "undone_at": formatting.moment(job.undone_at, job.company.time_zone, language),
        "undone_by": _who(job.undone_by),
    }


@login_required
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_of(request, pk)
    if job.status == Status.DRAFT:
        return redirect("import-columns", job.pk)
    return render(request, "relance/import_job.html", _status_context(job))


@login_required
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The part of the job page that changes, polled by htmx every second until the job ends."""
    job = job_of(request, pk)
    return render(request, "relance/import_status.html", _status_context(job))


@login_required
@require_POST
def job_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    checked = job_of(request, pk)
    try:
        job = import_jobs.confirm(checked, request.user)
    except Refusal as exc:
        messages.error(request, str(exc))
        return redirect("import-job", checked.pk)
    return redirect("import-job", job.pk)


@login_required
@require_POST
def job_undo(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_of(request, pk)
    try:
        deleted = import_undo.undo(job, request.user)
    except Refusal as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Import undone: %(count)s rows it created were deleted.") % {"count": deleted},
        )
    return redirect("import-job", job.pk)


@login_required
def job_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """Every problem kept (the first 1,000) as CSV: row, column, problem. Cells that a
    spreadsheet could read as formulas are neutralised (relance.domain.csv_cells)."""
    job = job_of(request, pk)
    out = io.StringIO()
    writer = csv_cells.writer(out)
    writer.writerow([_("Row"), _("Column"), _("Problem")])
    for error in job.errors:
        writer.writerow([error.get("row"), error.get("field") or "", error.get("message", "")])
    if job.error_count > len(job.errors):
        more = job.error_count - len(job.errors)
        writer.writerow(["", "", _("… and %(count)s more problems") % {"count": more}])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-problems.csv"'
    return response


@login_required
def history(request: HttpRequest) -> HttpResponse:
    company = _company(request)
    import_jobs.expire_stale(company)
    language = pages.language()
    jobs = (
        ImportJob.objects.filter(company=company)
        .exclude(status=Status.DRAFT)
        .select_related("company", "uploaded_by")
    )
    listing = pages.paged(request, jobs, HISTORY_PAGE)
    rows = []
    for job in listing["page"]:
        row = _row(job, language)
        refusal = import_undo.undo_refusal(job) if job.status == Status.DONE else "-"
        row["may_undo"] = not job.dry_run and refusal == ""
        rows.append(row)
    context = {
        "company": company,
        "companies": _acting(request),
        "rows": rows,
        **listing,
    }
    return render(request, "relance/import_history.html", context)
