"""The ledger from the source system: `relance import`, `statement`, `invoice-pdfs`, and the
reference `rate`s the late-payment law packs read."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click

from relance.cli.options import DAY, company_option, json_option
from relance.cli.output import emit, rejections


@click.command("import")
@click.argument(
    "kind", type=click.Choice(["customers", "contacts", "invoices", "credit-notes", "payments"])
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@company_option
@click.option(
    "--mapping",
    "mapping_name",
    metavar="NAME|FILE.yaml",
    help="Read another product's export: a built-in or saved mapping (`relance mapping list`) "
    "or a mapping file.",
)
@click.option("--sheet", metavar="NAME", help="The workbook's sheet to read (default: the first).")
@click.option("--dry-run", is_flag=True, help="Validate and count, write nothing.")
@json_option
def import_(
    kind: str,
    file: Path,
    company_code: str | None,
    mapping_name: str | None,
    sheet: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Upsert a file of KIND by external id (all or nothing; see README for the columns).

    FILE is CSV (any of , ; tab | as separator; UTF-8, UTF-16 or Windows-1252) or a workbook
    (.xlsx, .xlsm, .xls, .ods). Dates and amounts may be written the regional way
    (31/01/2026, 1 234,56)."""
    from relance.services.ledger.imports import import_file
    from relance.services.ledger.mapping_store import resolve
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code)
        mapping = resolve(target, mapping_name) if mapping_name else None
        with _progress(file, enabled=not as_json) as progress:
            result = import_file(
                kind,
                file,
                target,
                dry_run=dry_run,
                progress=progress,
                mapping=mapping,
                sheet=sheet,
            )
    payload = result.as_json()
    if as_json:
        emit(True, payload, "")
    else:
        for err in payload["errors"]:
            where = f"row {err['row']}" if err["row"] is not None else "file"
            column = f", {err['field']}" if err["field"] else ""
            click.secho(f"{file}: {where}{column}: {err['message']}", fg="red", err=True)
        verb = "would be " if dry_run else ""
        click.echo(
            f"{kind}: {result.created} {verb}created, {result.updated} {verb}updated, "
            f"{result.unchanged} unchanged"
            + (
                f"; {len(result.invited_users)} new users to invite: "
                + ", ".join(result.invited_users)
                if result.invited_users
                else ""
            )
        )
        _say_format_and_settled(result, verb)
    if not result.ok:
        click.secho(
            f"error: {result.error_count} problem(s) in {file}; nothing was written",
            fg="red",
            err=True,
        )
        sys.exit(1)


def _say_format_and_settled(result: Any, verb: str) -> None:
    """How the file was read, and the settled parts a balance-only export recorded."""
    fmt = result.format
    if fmt is not None and not fmt.get("sheet"):
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
        delimiter = names.get(fmt["delimiter"] or ",", fmt["delimiter"])
        click.echo(f"read as {fmt['encoding']}, {delimiter}-separated")
    elif fmt is not None:
        click.echo(f"read from sheet '{fmt['sheet']}'")
    if result.settled:
        s = result.settled
        click.echo(
            f"settled parts (payments <invoice>:settled): {s['created']} {verb}created, "
            f"{s['updated']} {verb}updated, {s['deleted']} {verb}deleted"
        )


@contextmanager
def _progress(file: Path, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on an interactive terminal, for files large enough to wait for."""
    size = file.stat().st_size if file.is_file() else 0
    if not enabled or not sys.stderr.isatty() or size < 5_000_000:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(f"importing {file.name}", total=size)
        yield lambda done: bar.update(task, completed=done)


@click.command()
@click.argument("customer_id")
@click.option("--date", "day", type=DAY, required=True)
@company_option
@json_option
def statement(customer_id: str, day: date, company_code: str | None, as_json: bool) -> None:
    """What CUSTOMER_ID owes on --date, invoice by invoice, with totals per currency."""
    from relance.services.ledger import lookup
    from relance.services.ledger.statements import statement as compute
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        result = compute(lookup.customer(customer_id, target), day)
    lines = [
        f"{i['number']:<16} {i['amount_due']:>14} {i['currency']}  {i['days_late']:>4} days late"
        f"  interest {i['late_interest']:>10}  indemnity {i['fixed_indemnity']:>7}"
        for i in result["invoices"]
    ]
    lines += [f"Total {cur}: {amount}" for cur, amount in result["totals"].items()]
    lines += [f"Unallocated credit {cur}: {amount}" for cur, amount in result["credit"].items()]
    emit(as_json, result, "\n".join(lines) or "Nothing owed.")


@click.command("invoice-pdfs")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@company_option
@json_option
def invoice_pdfs(folder: Path, company_code: str | None, as_json: bool) -> None:
    """Attach the ERP's invoice PDFs in FOLDER (named after the invoice's id or number)."""
    from relance.services.ledger.invoice_pdfs import attach_folder
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        report = attach_folder(folder, get_company(company_code))
    emit(
        as_json,
        {
            "attached": report.attached,
            "unchanged": report.unchanged,
            "unmatched": report.unmatched,
            "refused": report.refused,
        },
        f"{len(report.attached)} attached, {len(report.unchanged)} unchanged, "
        f"{len(report.unmatched)} matching no invoice, {len(report.refused)} refused.",
    )


@click.group()
def rate() -> None:
    """Reference rates of the late-payment law packs (ECB, BOE, FR_LEGAL)."""


@rate.command("add")
@click.argument("source", type=click.Choice(["ECB", "BOE", "FR_LEGAL"]))
@click.option("--since", type=DAY, required=True, help="First day the rate is in force.")
@click.option("--percent", type=click.FLOAT, required=True, help="The rate, e.g. 2.15.")
@json_option
def rate_add(source: str, since: date, percent: float, as_json: bool) -> None:
    """Record a newly published reference rate (or correct one)."""
    from decimal import Decimal

    from relance.services.ledger.late_fees import add_rate

    with rejections(as_json):
        row, created = add_rate(source, since, Decimal(str(percent)))
    emit(
        as_json,
        {
            "source": row.source,
            "since": row.since.isoformat(),
            "percent": f"{row.percent:.2f}",
            "created": created,
        },
        f"{'Added' if created else 'Corrected'} {row.source} {row.percent:.2f}% from {row.since}.",
    )


@rate.command("list")
@json_option
def rate_list(as_json: bool) -> None:
    """The rate table, per source, oldest first."""
    from relance.models import ReferenceRate

    rows = [
        {"source": r.source, "since": r.since.isoformat(), "percent": f"{r.percent:.2f}"}
        for r in ReferenceRate.objects.all()
    ]
    emit(
        as_json,
        {"rates": rows},
        "\n".join(f"{r['source']:<9} {r['since']}  {r['percent']:>6}%" for r in rows),
    )
