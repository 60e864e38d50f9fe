"""A table's rows as the importer's records: the header read (relance's own column names, or a
mapping's source headers), regional dates and amounts made canonical, line items folded into
invoices, and the balance-only extras (what is still open, the date of the settled part) kept
beside each record.

The date order and decimal mark are decided on the first SAMPLE_ROWS rows (domain/tabular):
those rows are held back until the decision, then everything streams; a later row that does not
fit is reported on that row.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

from django.utils.translation import gettext

from relance.domain import mappings as maps
from relance.domain.mappings import Line, Mapped, Mapping, MappingError
from relance.domain.tabular import SAMPLE_ROWS, DateFormat, FormatError, NumberFormat
from relance.services.ledger.import_reading import ImportResult, Record
from relance.services.ledger.tabular import Table


class Formats:
    """The date order and decimal mark of one file, with the fields they apply to."""

    def __init__(self, kind: str, mapping: Mapping | None) -> None:
        self.dates = DateFormat(stated=mapping.dates if mapping else None)
        self.numbers = NumberFormat(
            decimal=mapping.decimal if mapping else None,
            stated=bool(mapping and mapping.decimal),
        )
        self.date_fields = maps.DATE_FIELDS.get(kind, ())
        self.number_fields = maps.NUMBER_FIELDS.get(kind, ())
        self.value_readers = [(n, self.dates.parse) for n in self.date_fields] + [
            (n, self.numbers.parse) for n in self.number_fields
        ]
        self.extra_readers = [(maps.SETTLED_DATE, self.dates.parse)] + [
            (n, self.numbers.parse) for n in maps.EXTRA_NUMBERS
        ]

    def observe(self, line: Line) -> None:
        for name in self.date_fields:
            if value := line.values.get(name):
                self.dates.observe(line.row, value, name)
        if value := line.extras.get(maps.SETTLED_DATE):
            self.dates.observe(line.row, value, maps.SETTLED_DATE)
        for name in self.number_fields:
            if value := line.values.get(name):
                self.numbers.observe(line.row, value, name)
        for name in maps.EXTRA_NUMBERS:
            if value := line.extras.get(name):
                self.numbers.observe(line.row, value, name)

    def decide(self) -> None:
        self.dates.decide()
        self.numbers.decide()

    def apply(self, line: Line, result: ImportResult) -> bool:
        """Make the line's dates and amounts canonical; False after reporting a bad one."""
        ok = True
        for values, readers in (
            (line.values, self.value_readers),
            (line.extras, self.extra_readers if line.extras else ()),
        ):
            for name, read in readers:
                value = values.get(name)
                if not value:
                    continue
                try:
                    values[name] = read(value)
                except FormatError as exc:
                    result.add_error(line.row, name, str(exc))
                    ok = False
        return ok


def records(
    table: Table,
    kind: str,
    columns: tuple[str, ...],
    required: frozenset[str],
    mapping: Mapping | None,
    company_currency: str,
    result: ImportResult,
    *,
    keep_bad: bool = False,
) -> Iterator[Record]:
    """The records of a table, every problem reported into `result` with its row. A preview
    `keep_bad`: a row with a wrong date or amount comes out too, that cell as written."""
    try:
        lines = _lines(table, columns, required, mapping, company_currency, result)
        if lines is None:
            return
        formats = Formats(kind, mapping)
        sample: list[Line] = []
        for line in lines:
            sample.append(line)
            formats.observe(line)
            if len(sample) >= SAMPLE_ROWS:
                break
        try:
            formats.decide()
        except FormatError as exc:
            result.add_error(exc.row, exc.field, str(exc))
            return
        keep_bad = keep_bad and not (mapping is not None and mapping.lines)
        canonical: Iterator[Line] = (
            line for line in chain(sample, lines) if formats.apply(line, result) or keep_bad
        )
        if mapping is not None and mapping.lines:
            canonical = maps.collapse_lines(
                canonical, lambda row, message: result.add_error(row, "total", message)
            )
        yield from canonical
    except FormatError as exc:
        result.add_error(exc.row, exc.field, str(exc))
    except MappingError as exc:
        result.add_error(None, None, str(exc))


def _lines(
    table: Table,
    columns: tuple[str, ...],
    required: frozenset[str],
    mapping: Mapping | None,
    company_currency: str,
    result: ImportResult,
) -> Iterator[Line] | None:
    rows = table.rows
    if mapping is not None and mapping.renames:
        head: list[tuple[int, list[str]]] = []
        for row in rows:
            head.append(row)
            if len(head) >= maps.HEADER_SEARCH_ROWS:
                break
        if not head:
            result.add_error(1, None, gettext("the file is empty: a header row is required"))
            return None
        try:
            at = maps.find_header([cells for _, cells in head], mapping)
        except MappingError as exc:
            result.add_error(head[0][0], None, str(exc))
            return None
        mapped = Mapped(mapping, head[at][1], company_currency)
        return _mapped_lines(mapped, chain(head[at + 1 :], rows))
    for number, header in rows:
        if any(h.strip() for h in header):
            names = [h.strip().lower() for h in header]
            while names and not names[-1]:  # a spreadsheet's formatted but empty columns
                names.pop()
            defaults = dict(mapping.defaults) if mapping else {}
            if not _header_ok(names, columns, required - set(defaults), number, result):
                return None
            return _own_lines(names, rows, defaults, result)
    result.add_error(1, None, gettext("the file is empty: a header row is required"))
    return None


def _mapped_lines(mapped: Mapped, rows: Iterator[tuple[int, list[str]]]) -> Iterator[Line]:
    for number, cells in rows:
        found = mapped.row(cells)
        if found is not None:
            yield Line(number, *found)


def _own_lines(
    names: list[str],
    rows: Iterator[tuple[int, list[str]]],
    defaults: dict[str, str],
    result: ImportResult,
) -> Iterator[Line]:
    width = len(names)
    for number, values in rows:
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if len(values) != width:
            if not any(v.strip() for v in values):
                continue  # a blank line of separators (;;;;)
            if len(values) < width or any(v.strip() for v in values[width:]):
                result.add_error(
                    number,
                    None,
                    gettext("has %(values)s values but the header has %(columns)s columns")
                    % {"values": len(values), "columns": width},
                )
                continue
            values = values[:width]  # empty cells past the header's columns
        row = {n: v.strip() for n, v in zip(names, values, strict=True)}
        if defaults:
            for name, value in defaults.items():
                if not row.get(name):
                    row[name] = value
        yield Line(number, row, {})


def _header_ok(
    names: list[str],
    columns: tuple[str, ...],
    required: frozenset[str],
    row: int,
    result: ImportResult,
) -> bool:
    ok = True
    seen: set[str] = set()
    for name in names:
        if name not in columns:
            result.add_error(
                row,
                name,
                gettext("unknown column '%(name)s'; the columns are: %(columns)s")
                % {"name": name, "columns": ", ".join(columns)},
            )
            ok = False
        elif name in seen:
            result.add_error(row, name, gettext("column '%(name)s' appears twice") % {"name": name})
            ok = False
        seen.add(name)
    for name in columns:
        if name in required and name not in seen:
            result.add_error(
                row, name, gettext("required column '%(name)s' is missing") % {"name": name}
            )
            ok = False
    return ok
