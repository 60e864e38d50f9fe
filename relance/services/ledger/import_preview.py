"""What a file reads as, before anything is imported: its format, its header and its first rows
as relance reads them (mapped, dates and amounts made canonical), with the problems the reader
found on them. For a page that shows an upload before importing it; nothing is written and no
customer or invoice is looked up (the dry run does that)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any

from relance.domain.mappings import Mapping
from relance.domain.tabular import FormatError
from relance.models import Company
from relance.services.ledger.import_kinds import BY_NAME
from relance.services.ledger.import_reading import ImportResult
from relance.services.ledger.import_records import records
from relance.services.ledger.tabular import open_table


@dataclass
class Preview:
    format: dict[str, str | None]
    rows: list[dict[str, Any]] = field(default_factory=list)  # {"row", "values", "extras"}
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"row", "field", "message"}


def preview(
    kind: str,
    stream: IO[bytes],
    company: Company,
    *,
    filename: str = "",
    mapping: Mapping | None = None,
    sheet: str | None = None,
    limit: int = 20,
) -> Preview:
    """The first `limit` rows of the file as the import would read them (FormatError when the
    file cannot be read at all)."""
    spec = BY_NAME[kind]
    result = ImportResult(kind=kind, company=company.code, dry_run=True)
    table = open_table(stream, filename, sheet)
    found = Preview(format=table.format())
    try:
        for rec in islice(
            records(
                table,
                kind,
                spec.columns,
                spec.required,
                mapping,
                company.currency,
                result,
                keep_bad=True,
            ),
            limit,
        ):
            found.rows.append({"row": rec.row, "values": rec.values, "extras": rec.extras})
    except FormatError as exc:
        result.add_error(exc.row, exc.field, str(exc))
    found.errors = [e.as_json() for e in result.errors]
    return found
