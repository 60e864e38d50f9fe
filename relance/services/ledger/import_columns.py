"""The wizard's column step: what an uploaded file looks like (its format, its header row, a few
rows under it), which of relance's fields each column probably feeds, and the mapping the
person's choices make. Nothing is written here; the import reads the file again through the
mapping chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from relance.domain import column_matching
from relance.domain.errors import Invalid
from relance.domain.ledger_files import COLUMNS, REQUIRED
from relance.domain.mappings import (
    HEADER_SEARCH_ROWS,
    Mapping,
    MappingError,
    find_header,
    from_dict,
    parse,
    to_dict,
)
from relance.models import Company
from relance.services.ledger import mapping_store
from relance.services.ledger.tabular import open_table

SAMPLE_ROWS = 5


@dataclass
class Sample:
    """The top of a file as read: its format, the header row and a few rows below it."""

    format: dict[str, str | None]
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    header_row: int = 1  # as the person sees it (1 = the first)

    def example(self, header: str) -> str:
        """The first non-empty value under `header`, to show beside the choice."""
        if header not in self.headers:
            return ""
        index = self.headers.index(header)
        return next((r[index] for r in self.rows if len(r) > index and r[index].strip()), "")


def known(company: Company, kind: str) -> list[tuple[str, Mapping, str]]:
    """(name, mapping, label) of the built-in and saved mappings of `kind`."""
    found = []
    for stored in mapping_store.all_mappings(company):
        if stored.kind != kind:
            continue
        try:
            found.append((stored.name, parse(stored.yaml), stored.label or stored.name))
        except MappingError:
            continue  # a saved mapping that no longer parses is not offered
    return found


def _header_index(top: list[list[str]], mappings: list[Mapping]) -> int:
    """The header row: where a known mapping finds all its headers (reports put a title
    above), else the first of the fullest rows."""
    for mapping in mappings:
        try:
            return find_header(top, mapping)
        except MappingError:
            continue
    widths = [sum(1 for c in row if c.strip()) for row in top]
    return widths.index(max(widths)) if widths else 0


def sample(
    path: Path,
    filename: str,
    sheet: str | None,
    mappings: list[Mapping] = (),  # type: ignore[assignment]
) -> Sample:
    """The file's top rows (FormatError when it cannot be read at all)."""
    with path.open("rb") as stream:
        table = open_table(stream, filename, sheet)
        top = [cells for _row, cells in islice(table.rows, HEADER_SEARCH_ROWS + SAMPLE_ROWS)]
        form = table.format()
    index = _header_index(top[:HEADER_SEARCH_ROWS], list(mappings))
    headers = [h.strip() for h in top[index]] if top else []
    rows = [r for r in top[index + 1 :] if any(c.strip() for c in r)][:SAMPLE_ROWS]
    return Sample(form, headers, rows, index + 1)


def own_columns(kind: str, headers: list[str]) -> bool:
    """Whether the file already uses relance's own column names (nothing to choose)."""
    names = {h.strip() for h in headers if h.strip()}
    return bool(names) and REQUIRED[kind] <= names and names <= set(column_matching.fields_of(kind))


def suggestion(
    company: Company, kind: str, found: Sample, base: str = ""
) -> tuple[column_matching.Suggestion, Mapping | None]:
    """The first guess for the form and the known mapping it starts from (`base` when the
    person chose one, else the best fitting)."""
    mappings = known(company, kind)
    if base:
        chosen = next((m for name, m, _label in mappings if name == base), None)
        if chosen is not None:
            return (
                column_matching.Suggestion(
                    columns=dict(chosen.columns),
                    mapping=base,
                    open_amount=chosen.open_amount,
                    missing=column_matching.missing(kind, chosen.columns, chosen.defaults),
                ),
                chosen,
            )
    guess = column_matching.suggest(kind, found.headers, [(n, m) for n, m, _l in mappings])
    start = next((m for name, m, _l in mappings if name == guess.mapping), None)
    return guess, start


def build(
    kind: str,
    *,
    columns: dict[str, str],
    defaults: dict[str, str],
    dates: str = "",
    decimal: str = "",
    open_amount: str = "",
    base: Mapping | None = None,
    label: str = "",
) -> Mapping:
    """The mapping the person's choices make, keeping what the form does not show of the
    mapping it started from (line items, row filters, report headings, settled date);
    Invalid naming the field when it cannot be used."""
    data: dict[str, Any] = to_dict(base) if base is not None and base.kind == kind else {}
    data.update(kind=kind, columns={f: h for f, h in columns.items() if h})
    data["defaults"] = {**data.get("defaults", {}), **{f: v for f, v in defaults.items() if v}}
    for key, value in (("dates", dates), ("decimal", decimal), ("open_amount", open_amount)):
        if value:
            data[key] = value
        else:
            data.pop(key, None)
    if label:
        data["label"] = label
    data = {k: v for k, v in data.items() if v}
    data.setdefault("kind", kind)
    try:
        return from_dict(data)
    except MappingError as exc:
        raise Invalid(str(exc)) from None


def is_identity(mapping: Mapping) -> bool:
    """A mapping that reads relance's own columns as they are (none needed)."""
    plain = {k: v for k, v in to_dict(mapping).items() if k not in ("kind", "columns")}
    return (
        not plain
        and all(f == h for f, h in mapping.columns.items())
        and bool(set(mapping.columns) & set(COLUMNS[mapping.kind]))
    )
