"""The import wizard's column step, between the upload and the check: how relance read the file
(encoding, separator or sheet), which column feeds each field (suggested from a known mapping or
the headers, in English or French; the person confirms or corrects), the first rows as relance
reads them with every problem on its row and field, and saving the choices as the company's own
mapping for next month's file. Same people as the import page (admins and credit controllers).

A file whose header row is relance's own column names skips this step (web/imports.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relance.domain import column_matching
from relance.domain.errors import Invalid, Refusal
from relance.domain.ledger_files import REQUIRED
from relance.domain.mappings import Mapping, fields_of, to_dict, to_yaml
from relance.domain.tabular import FormatError
from relance.models import ImportJob
from relance.services.ledger import import_columns, import_jobs, mapping_store
from relance.services.ledger.import_preview import preview
from relance.web.imports import KINDS, job_of

PREVIEW_ROWS = 10

#: What each field is called on the page; the file's own column name sits beside it.
LABELS: dict[str, Any] = {
    "external_id": gettext_lazy("Reference (unique)"),
    "customer_id": gettext_lazy("Customer code"),
    "name": gettext_lazy("Name"),
    "currency": gettext_lazy("Currency"),
    "language": gettext_lazy("Language"),
    "time_zone": gettext_lazy("Time zone"),
    "country": gettext_lazy("Country"),
    "segment": gettext_lazy("Segment"),
    "risk": gettext_lazy("Risk"),
    "credit_limit": gettext_lazy("Credit limit"),
    "pays_by_bank_transfer": gettext_lazy("Pays by bank transfer"),
    "card_expiry": gettext_lazy("Card expiry"),
    "owner_email": gettext_lazy("Credit controller (email)"),
    "sales_rep_email": gettext_lazy("Sales rep (email)"),
    "plan": gettext_lazy("Dunning plan"),
    "address_line1": gettext_lazy("Address"),
    "address_line2": gettext_lazy("Address (second line)"),
    "postal_code": gettext_lazy("Postal code"),
    "city": gettext_lazy("City"),
    "late_interest_rate": gettext_lazy("Late interest rate (% a year)"),
    "late_fees_waived": gettext_lazy("Late fees waived"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "roles": gettext_lazy("Roles"),
    "number": gettext_lazy("Invoice number"),
    "issue_date": gettext_lazy("Issue date"),
    "due_date": gettext_lazy("Due date"),
    "total": gettext_lazy("Total (tax included)"),
    "status": gettext_lazy("Status"),
    "invoice_id": gettext_lazy("Invoice"),
    "date": gettext_lazy("Date"),
    "amount": gettext_lazy("Amount"),
}
CUSTOMER_REFERENCE = gettext_lazy("Customer code (unique)")
DATE_FORMATS = [
    ("", gettext_lazy("Recognise them (ISO, or one order for the whole file)")),
    ("%d/%m/%Y", "31/01/2026"),
    ("%d.%m.%Y", "31.01.2026"),
    ("%d-%m-%Y", "31-01-2026"),
    ("%d/%m/%y", "31/01/26"),
    ("%m/%d/%Y", "01/31/2026"),
    ("%Y-%m-%d", "2026-01-31"),
]
DECIMALS = [
    ("", gettext_lazy("Recognise it")),
    (",", gettext_lazy("Comma: 1 234,56")),
    (".", gettext_lazy("Point: 1,234.56")),
]
SEPARATORS = {
    ",": gettext_lazy("comma"),
    ";": gettext_lazy("semicolon"),
    "\t": gettext_lazy("tab"),
    "|": gettext_lazy("vertical bar"),
}


def label_of(kind: str, name: str) -> Any:
    return CUSTOMER_REFERENCE if (kind, name) == ("customers", "external_id") else LABELS[name]


class ColumnsForm(forms.Form):
    """One choice of column per field, a value for every row where the file has none, and how
    the file writes dates and amounts."""

    base = forms.CharField(required=False, widget=forms.HiddenInput)
    dates = forms.ChoiceField(label=gettext_lazy("Dates"), choices=DATE_FORMATS, required=False)
    decimal = forms.ChoiceField(
        label=gettext_lazy("Decimal mark"), choices=DECIMALS, required=False
    )
    save_as = forms.CharField(
        label=gettext_lazy("Save these columns as"),
        required=False,
        max_length=60,
        help_text=gettext_lazy(
            "Optional: a name such as sage-factures (lower-case letters, digits and dashes), "
            "to choose it for next month's file."
        ),
    )

    def __init__(self, *args: Any, kind: str, headers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        choices = [("", _("— not in the file —"))]
        choices += [(h, h) for h in dict.fromkeys(h for h in headers if h.strip())]
        for name in fields_of(kind):
            self.fields[f"column_{name}"] = forms.ChoiceField(
                label=label_of(kind, name), choices=choices, required=False
            )
            self.fields[f"default_{name}"] = forms.CharField(
                label=_("Same value for every row"), required=False, max_length=100
            )
        if kind == "invoices":
            self.fields["open_amount"] = forms.ChoiceField(
                label=_("Amount still due"),
                choices=[("", _("— the file gives each invoice's total only —")), *choices[1:]],
                required=False,
                help_text=_(
                    "An aged balance gives what is still owed: relance records the rest as paid."
                ),
            )

    def rows(self) -> list[dict[str, Any]]:
        """The field-by-field part of the form, in the kind's column order."""
        return [
            {
                "name": name,
                "required": name in REQUIRED[self.kind],
                "column": self[f"column_{name}"],
                "default": self[f"default_{name}"],
            }
            for name in fields_of(self.kind)
        ]

    def chosen(self) -> tuple[dict[str, str], dict[str, str]]:
        """(field -> column, field -> value for every row) as chosen."""
        data, names = self.cleaned_data, fields_of(self.kind)
        return (
            {n: data[f"column_{n}"] for n in names if data.get(f"column_{n}")},
            {n: data[f"default_{n}"] for n in names if data.get(f"default_{n}")},
        )

    def mapping(self, base: Mapping | None) -> Mapping:
        data = self.cleaned_data
        columns, defaults = self.chosen()
        return import_columns.build(
            self.kind,
            columns=columns,
            defaults=defaults,
            dates=data.get("dates") or "",
            decimal=data.get("decimal") or "",
            open_amount=data.get("open_amount") or "",
            base=base,
        )


def initial(suggested: Any, start: Mapping | None) -> dict[str, Any]:
    values: dict[str, Any] = {f"column_{f}": h for f, h in suggested.columns.items()}
    if start is not None:
        values.update({f"default_{f}": v for f, v in start.defaults.items()})
        values.update(dates=start.dates or "", decimal=start.decimal or "")
    values["open_amount"] = suggested.open_amount or ""
    values["base"] = suggested.mapping or ""
    return values


def described(found: dict[str, str | None]) -> str:
    """How the file was read, in the person's words."""
    if found.get("sheet") is not None:
        return _("Workbook, sheet “%(sheet)s”") % {"sheet": found["sheet"]}
    separator = found.get("delimiter") or ","
    return _("Text file (CSV), %(encoding)s, separated by %(separator)s") % {
        "encoding": found.get("encoding") or "UTF-8",
        "separator": SEPARATORS.get(separator, separator),
    }


def _preview(job: ImportJob, mapping: Mapping) -> dict[str, Any]:
    with import_jobs.path_of(job).open("rb") as stream:
        found = preview(
            job.kind,
            stream,
            job.company,
            filename=job.file_name,
            mapping=mapping,
            sheet=job.options.get("sheet") or None,
            limit=PREVIEW_ROWS,
        )
    shown = [f for f in fields_of(job.kind) if any(r["values"].get(f) for r in found.rows)]
    problems: dict[int | None, dict[str | None, str]] = {}
    for error in found.errors:
        problems.setdefault(error.get("row"), {})[error.get("field")] = error["message"]
    return {
        "fields": [(f, label_of(job.kind, f)) for f in shown],
        "rows": [
            {
                "row": r["row"],
                "cells": [
                    (r["values"].get(f, ""), problems.get(r["row"], {}).get(f)) for f in shown
                ],
                "problem": bool(problems.get(r["row"])),
            }
            for r in found.rows
        ],
        "errors": found.errors,
        "open_amount": bool(mapping.open_amount),
    }


def _options(job: ImportJob, mapping: Mapping, name: str) -> dict[str, Any]:
    options = {k: v for k, v in job.options.items() if k not in ("mapping", "mapping_spec")}
    if not import_columns.is_identity(mapping):
        options["mapping_spec"] = to_dict(mapping)
        if name:
            options["mapping"] = name
    return options


@login_required
def columns_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_of(request, pk)
    if job.status != ImportJob.Status.DRAFT:
        return redirect("import-job", job.pk)
    company, kind = job.company, job.kind
    mappings = import_columns.known(company, kind)
    try:
        found = import_columns.sample(
            import_jobs.path_of(job),
            job.file_name,
            job.options.get("sheet") or None,
            [m for _n, m, _l in mappings],
        )
    except (FormatError, OSError) as exc:
        return render(
            request,
            "relance/import_columns.html",
            {"job": job, "unreadable": str(exc) if isinstance(exc, FormatError) else ""},
            status=400,
        )
    chosen_base = (
        request.POST.get("base") or request.GET.get("base") or job.options.get("mapping", "")
    )
    suggested, start = import_columns.suggestion(company, kind, found, chosen_base)
    status, outcome, mapping = 200, None, None
    missing = suggested.missing
    if request.method == "POST":
        form = ColumnsForm(request.POST, kind=kind, headers=found.headers)
        if form.is_valid():
            missing = column_matching.missing(kind, *form.chosen())
            try:
                mapping = form.mapping(start)
            except Invalid as exc:
                form.add_error(None, str(exc))
        if mapping is not None and request.POST.get("action") == "start":
            try:
                outcome = _start(request, job, form, mapping, suggested.mapping or "")
            except (Invalid, Refusal) as exc:
                form.add_error(
                    "save_as" if getattr(exc, "field", "") == "save_as" else None, str(exc)
                )
        if outcome is not None:
            return outcome
        status = 200 if form.is_valid() and not form.errors else 400
    else:
        form = ColumnsForm(initial=initial(suggested, start), kind=kind, headers=found.headers)
        if not suggested.missing:
            try:
                mapping = import_columns.build(
                    kind,
                    columns=suggested.columns,
                    defaults=dict(start.defaults) if start else {},
                    dates=(start.dates or "") if start else "",
                    decimal=(start.decimal or "") if start else "",
                    open_amount=suggested.open_amount or "",
                    base=start,
                )
            except Invalid:
                mapping = None
    context = {
        "job": job,
        "kind": dict(KINDS).get(kind, kind),
        "read_as": described(found.format),
        "sample": found,
        "form": form,
        "fields": [{**f, "example": found.example(f["column"].value() or "")} for f in form.rows()],
        "suggested": next((label for n, _m, label in mappings if n == suggested.mapping), ""),
        "bases": [(n, label) for n, _m, label in mappings],
        "missing": [label_of(kind, f) for f in missing],
        "preview": _preview(job, mapping) if mapping is not None else None,
    }
    return render(request, "relance/import_columns.html", context, status=status)


def _start(
    request: HttpRequest, job: ImportJob, form: ColumnsForm, mapping: Mapping, base: str
) -> HttpResponse:
    name = form.cleaned_data.get("save_as") or ""
    if name:
        try:
            mapping_store.save(job.company, name, to_yaml(mapping), request.user)
        except Invalid as exc:
            raise Refusal(str(exc), field="save_as") from None
    started = import_jobs.start(job, _options(job, mapping, name or base))
    return redirect("import-job", started.pk)
