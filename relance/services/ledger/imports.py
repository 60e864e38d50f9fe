"""Import of the receivables ledger from CSV files (DESIGN §4), for the CLI, API and web upload.

A file is all or nothing: rows are validated and written in chunks inside one transaction; the
first bad row stops the writing, the rest is still validated so every problem is reported at once,
and the transaction is rolled back. Rows are upserted by external id, so importing the same file
twice changes nothing. Memory stays bounded by the chunk size plus one id per row (to catch
duplicates in the file).

Here the chunks are written; what a file or JSON rows read as is services/ledger/import_reading,
what each kind's columns mean is services/ledger/import_kinds, and a cell's value is checked by
domain/ledger_fields (no database needed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext

from relance.domain.errors import Invalid
from relance.domain.ledger_files import KINDS
from relance.domain.mappings import Mapping as ImportMapping
from relance.domain.tabular import FormatError
from relance.domain.texts import N_
from relance.models import Company, Invoice, Payment
from relance.services.ledger import allocation, balances, receivables
from relance.services.ledger.balance_only import Settled, SettledWriter, settled_part
from relance.services.ledger.import_kinds import BY_NAME, Context, Kind, columns_of
from relance.services.ledger.import_reading import (
    CsvReader,
    ImportResult,
    Record,
    RowError,
    chunks,
    json_records,
)
from relance.services.ledger.import_records import records as table_records
from relance.services.ledger.import_watch import ImportWatch
from relance.services.ledger.tabular import open_table
from relance.services.organisation import hours, journal
from relance.services.sql import Inserter

CHUNK = 2000


class ImportRejected(Invalid):
    """Raised for a problem with the request itself (unknown kind or company, unreadable file)."""


class _Writer:
    """Upserts parsed rows by external id, a chunk at a time.

    New rows go in with one multi-row INSERT per chunk rather than `bulk_create`: building a model
    instance per row cost more than everything else in a million-row import. Values were already
    validated by the parsers, and the database's constraints still check them.
    """

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.ctx = kind.ctx
        self.touched_customers: set[int] = set()
        self.inserter = Inserter(kind.model)
        self.tells_payments = kind.model is Payment and journal.listened(
            kind.ctx.company.pk, "payment.received"
        )

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        model: Any = self.kind.model
        names = sorted({k for r in rows for k in r} - {"external_id"})  # JSON rows may differ
        existing = {
            ext: (pk, values)
            for ext, pk, *values in model.objects.filter(
                company=self.ctx.company, external_id__in=[r["external_id"] for r in rows]
            ).values_list("external_id", "pk", *names)
        }
        to_create: list[dict[str, Any]] = []
        to_update: list[Any] = []
        changed_fields: set[str] = set()
        company_id = self.ctx.company.pk
        for fields in rows:
            found = existing.get(fields["external_id"])
            if found is None:
                row = {**self.kind.defaults(fields), **fields, "company_id": company_id}
                to_create.append(row)
                self.touched_customers.add(row.get("customer_id", 0))
                continue
            pk, current = found
            diff = {
                n: fields[n]
                for n, old in zip(names, current, strict=True)
                if n in fields and fields[n] != old
            }
            if not diff:
                self.ctx.result.unchanged += 1
                continue
            if "customer_id" in diff:  # moved to another customer: both ledgers change
                self.touched_customers.add(current[names.index("customer_id")])
            changed_fields.update(diff)
            # bulk_update writes every field the chunk changes on each of its rows: a row's
            # current values, not the model's defaults, where it changes none of them
            to_update.append(model(pk=pk, **{**dict(zip(names, current, strict=True)), **diff}))
            self.touched_customers.add(fields.get("customer_id", 0))
        self.inserter.insert(to_create)
        if to_create and self.tells_payments:
            created = Payment.objects.filter(
                company_id=company_id, external_id__in=[r["external_id"] for r in to_create]
            ).select_related("customer", "invoice")
            journal.tell("payment.received", created)
        if to_update:
            model.objects.bulk_update(to_update, sorted(changed_fields), batch_size=500)
        self.ctx.result.created += len(to_create)
        self.ctx.result.updated += len(to_update)


def import_stream(
    kind: str,
    stream: IO[bytes],
    company: Company,
    *,
    dry_run: bool = False,
    actor: Any = None,
    source: str = "cli",
    filename: str = "",
    progress: Callable[[int], None] | None = None,
    mapping: ImportMapping | None = None,
    sheet: str | None = None,
    legacy_csv: bool = False,
    watch: ImportWatch | None = None,
) -> ImportResult:
    """Validate and upsert one file of `kind` (CSV in any usual delimiter and encoding, or a
    workbook's sheet), read with relance's column names or through `mapping`; nothing is
    written unless every row is valid. `legacy_csv` reads relance's own UTF-8 CSV the way it
    was read before the tabular reader (the benchmark's baseline). `watch` sees the rows
    written (services/ledger/import_watch)."""
    if kind not in BY_NAME:
        raise ImportRejected(
            N_("unknown kind '%(kind)s'; kinds: %(kinds)s"), kind=kind, kinds=", ".join(KINDS)
        )
    if mapping is not None and mapping.kind != kind:
        raise ImportRejected(
            N_("the mapping is for %(mapping_kind)s, not %(kind)s"),
            mapping_kind=mapping.kind,
            kind=kind,
        )
    result = ImportResult(kind=kind, company=company.code, dry_run=dry_run)
    spec = BY_NAME[kind](Context(company=company, result=result))
    if legacy_csv:
        reader = CsvReader(stream, result)
        records = reader.records(spec.columns, spec.required)
        return _upsert(spec, records, dry_run, actor, source, filename, lambda: None, watch)
    try:
        table = open_table(stream, filename, sheet)
    except FormatError as exc:
        raise ImportRejected(exc.template, **exc.params) from None
    result.format = table.format()

    def report_progress() -> None:
        if progress:
            progress(table.position())

    records = table_records(
        table, kind, spec.columns, spec.required, mapping, company.currency, result
    )
    return _upsert(spec, records, dry_run, actor, source, filename, report_progress, watch)


def import_rows(
    kind: str,
    rows: Sequence[Mapping[str, Any]],
    company: Company,
    *,
    dry_run: bool = False,
    actor: Any = None,
    source: str = "api",
) -> ImportResult:
    """Validate and upsert rows given as JSON objects (the API): the same columns and checks as
    the CSV files, rows numbered from 1. A key absent from a row leaves that field as it is."""
    if kind not in BY_NAME:
        raise ImportRejected(
            N_("unknown kind '%(kind)s'; kinds: %(kinds)s"), kind=kind, kinds=", ".join(KINDS)
        )
    result = ImportResult(kind=kind, company=company.code, dry_run=dry_run)
    spec = BY_NAME[kind](Context(company=company, result=result))
    records = json_records(rows, spec.columns, spec.required, result)
    return _upsert(spec, records, dry_run, actor, source, "", lambda: None)


def _upsert(
    spec: Kind,
    records: Iterator[Record],
    dry_run: bool,
    actor: Any,
    source: str,
    filename: str,
    progress: Callable[[], None],
    watch: ImportWatch | None = None,
) -> ImportResult:
    ctx = spec.ctx
    result, company, kind = ctx.result, ctx.company, spec.name
    writer = _Writer(spec)
    settler = SettledWriter(company, hours.company_today(company))
    seen: set[str] = set()
    with transaction.atomic():
        for chunk in chunks(records, CHUNK):
            spec.prepare(chunk)
            rows = []
            parts: list[Settled] = []
            for rec in chunk:
                fields = spec.parse(rec)
                if fields is None:
                    continue
                part = settled_part(rec, fields, result) if rec.extras else None
                if part is False:
                    continue
                if isinstance(part, Settled):
                    parts.append(part)
                if fields["external_id"] in seen:
                    result.add_error(
                        rec.row,
                        "external_id",
                        gettext("'%(external_id)s' appears more than once in the file")
                        % {"external_id": fields["external_id"]},
                    )
                    continue
                seen.add(fields["external_id"])
                rows.append(fields)
            if result.ok:
                if watch is not None:
                    watch.before_writing(rows)
                writer.write(rows)
                settler.write(parts)
            progress()
        if settler.created or settler.updated or settler.deleted:
            result.settled = {
                "created": settler.created,
                "updated": settler.updated,
                "deleted": settler.deleted,
            }
        if result.ok and spec.reallocates:
            touched = (writer.touched_customers | settler.touched_customers) - {0}
            settled = touched
            if spec.model is Invoice:
                settled = allocation.customers_with_settlements(touched)
                balances.refresh(touched - settled)  # reallocate refreshes the others
            allocation.reallocate(settled)
        if result.ok and watch is not None:
            watch.written()
        if result.ok and not dry_run:
            receivables.forget(company, [hours.company_today(company)])
            journal.record(
                f"import.{kind}",
                company,
                actor=actor,
                source=source,
                data={
                    "file": filename,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "invited_users": result.invited_users,
                    **({"settled": result.settled} if result.settled else {}),
                    **({"format": result.format} if result.format else {}),
                },
            )
        if dry_run or not result.ok:
            transaction.set_rollback(True)
    if not result.ok:
        result.created = result.updated = result.unchanged = 0
        result.invited_users = []
        result.settled = {}
    return result


def import_file(kind: str, path: Path | str, company: Company, **options: Any) -> ImportResult:
    path = Path(path)
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ImportRejected(
            N_("cannot read %(path)s: %(problem)s"), path=path, problem=exc.strerror
        ) from None
    with stream:
        return import_stream(kind, stream, company, filename=path.name, **options)


__all__ = [
    "KINDS",
    "ImportRejected",
    "ImportResult",
    "RowError",
    "columns_of",
    "import_file",
    "import_rows",
]
