"""What an import reads and reports: records from a CSV file or from JSON rows, numbered as the
user counts them, and the result every problem goes into (at most MAX_REPORTED_ERRORS listed)."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _

from relance.domain.ledger_fields import FieldError
from relance.domain.mappings import Line
from relance.domain.texts import N_

MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True)
class RowError:
    row: int | None
    field: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportResult:
    kind: str
    company: str
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    invited_users: list[str] = field(default_factory=list)
    #: How the file was read ({"encoding", "delimiter", "sheet"}); None for JSON rows.
    format: dict[str, str | None] | None = None
    #: Balance-only imports: settled parts created, updated and deleted (not in the counts).
    settled: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, row: int | None, column: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, column, message))

    def as_json(self) -> dict[str, Any]:
        errors = [e.as_json() for e in self.errors]
        if self.error_count > len(self.errors):
            more = self.error_count - len(self.errors)
            message = _("… and %(more)s more errors") % {"more": more}
            errors.append({"row": None, "field": None, "message": message})
        payload: dict[str, Any] = {
            "kind": self.kind,
            "company": self.company,
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": errors,
            "invited_users": self.invited_users,
        }
        if self.format is not None:
            payload["format"] = self.format
        return payload


#: A row to import: its number, the kind's values and a mapping's extras (domain/mappings).
Record = Line


class CsvReader:
    """relance's own UTF-8, comma-separated CSV as it was read before services/ledger/tabular:
    kept as the baseline bench/import_bench.py measures the tabular reader against."""

    def __init__(self, stream: IO[bytes], result: ImportResult) -> None:
        self.stream = stream
        self.result = result
        self.bytes_read = 0
        self._line = 0

    def _lines(self) -> Iterator[str]:
        for raw in self.stream:
            self._line += 1
            self.bytes_read += len(raw)
            if self._line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 1].hex()
                raise FieldError(
                    N_(
                        "line %(line)s is not valid UTF-8 (byte 0x%(byte)s at position "
                        "%(position)s); save the file as UTF-8"
                    ),
                    line=self._line,
                    byte=bad,
                    position=exc.start + 1,
                ) from None

    def records(self, columns: tuple[str, ...], required: frozenset[str]) -> Iterator[Record]:
        reader = csv.reader(self._lines(), strict=True)
        try:
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                self.result.add_error(1, None, _("the file is empty: a header row is required"))
                return
            names = [h.strip().lower() for h in header]
            if not self._header_ok(names, columns, required):
                return
            last = reader.line_num
            for values in reader:
                start, last = last + 1, reader.line_num
                if not values or (len(values) == 1 and not values[0].strip()):
                    continue
                if len(values) != len(names):
                    self.result.add_error(
                        start,
                        None,
                        _("has %(values)s values but the header has %(columns)s columns")
                        % {"values": len(values), "columns": len(names)},
                    )
                    continue
                yield Record(start, {n: v.strip() for n, v in zip(names, values, strict=True)})
        except FieldError as exc:
            self.result.add_error(self._line, None, str(exc))
        except csv.Error as exc:
            self.result.add_error(
                self._line, None, _("is not valid CSV: %(problem)s") % {"problem": exc}
            )

    def _header_ok(
        self, names: list[str], columns: tuple[str, ...], required: frozenset[str]
    ) -> bool:
        ok = True
        seen: set[str] = set()
        for name in names:
            if name not in columns:
                self.result.add_error(
                    1,
                    name,
                    _("unknown column '%(name)s'; the columns are: %(columns)s")
                    % {"name": name, "columns": ", ".join(columns)},
                )
                ok = False
            elif name in seen:
                self.result.add_error(
                    1, name, _("column '%(name)s' appears twice") % {"name": name}
                )
                ok = False
            seen.add(name)
        for name in columns:
            if name in required and name not in seen:
                self.result.add_error(
                    1, name, _("required column '%(name)s' is missing") % {"name": name}
                )
                ok = False
        return ok


def chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def json_value(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "|".join(json_value(v) for v in value)
    return str(value).strip()


def json_records(
    rows: Sequence[Mapping[str, Any]],
    columns: tuple[str, ...],
    required: frozenset[str],
    result: ImportResult,
) -> Iterator[Record]:
    """JSON objects (the API) as records with the CSV files' checks, numbered from 1."""
    for number, row in enumerate(rows, start=1):
        unknown = sorted(set(row) - set(columns))
        for name in unknown:
            result.add_error(
                number,
                name,
                _("unknown field '%(name)s'; the fields are: %(fields)s")
                % {"name": name, "fields": ", ".join(columns)},
            )
        if unknown:
            continue
        values = {name: json_value(value) for name, value in row.items()}
        for name in required - set(values):
            values[name] = ""  # reported as required by the parser
        yield Record(number, values)
