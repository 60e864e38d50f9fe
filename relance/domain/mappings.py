"""Mappings: how another product's export reads as one of relance's ledger files. Pure Python.

A mapping is YAML (README "Mappings", DESIGN §4):

    kind: invoices                 # the kind it maps
    columns: {external_id: "N° facture", customer_id: "Code client", ...}   # field -> header
    dates: "%d/%m/%Y"              # strftime format; omitted: ISO or detected
    decimal: ","                   # "." or ","; omitted: detected
    defaults: {currency: EUR}      # constants for fields with no column (or an empty cell)
    open_amount: "Reste dû"        # balance-only export: what is still owed on each invoice

and, for the exports that need them:

    settled_date: "Date"           # the date given to the settled part (default: import day)
    lines: {group_by: InvoiceNumber, amount: LineAmount, tax: TaxAmount}
                                   # one row per line item: consecutive rows with the same
                                   # group_by value are one invoice, whose lines must add up
                                   # to its total (with or without their tax)
    where: {"Transaction type": Invoice}   # only rows whose cell says so (reports with
                                           # subtotals, payments and credits between invoices)
    headings: customer_id          # reports grouped by customer: a row with only its first
                                   # cell filled is a heading, which gives this field to the
                                   # rows below it

`parse` checks a mapping and names the key at fault; `Mapped.row` turns one source row into
relance's values; `collapse_lines` folds line items into invoices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from relance.domain.errors import RelanceError
from relance.domain.ledger_files import COLUMNS, EXTENSIONS, KINDS, REQUIRED
from relance.domain.tabular import header_key
from relance.domain.texts import N_

#: Fields read as amounts and as dates (in relance's own files too), per kind.
NUMBER_FIELDS: dict[str, tuple[str, ...]] = {
    "customers": ("credit_limit", "late_interest_rate"),
    "invoices": ("total",),
    "credit-notes": ("amount",),
    "payments": ("amount",),
}
DATE_FIELDS: dict[str, tuple[str, ...]] = {
    "invoices": ("issue_date", "due_date"),
    "credit-notes": ("date",),
    "payments": ("date",),
}
#: Values a mapping adds beyond the kind's columns (kept apart from them).
OPEN_AMOUNT, SETTLED_DATE, LINE_AMOUNT, LINE_TAX = (
    "open_amount",
    "settled_date",
    "line_amount",
    "line_tax",
)
EXTRA_NUMBERS = (OPEN_AMOUNT, LINE_AMOUNT, LINE_TAX)
_KEYS = (
    "kind",
    "label",
    "columns",
    "dates",
    "decimal",
    "defaults",
    "open_amount",
    "settled_date",
    "lines",
    "where",
    "headings",
)
HEADER_SEARCH_ROWS = 30
MAX_MAPPING_BYTES = 20_000


class MappingError(RelanceError, ValueError):
    """A mapping that cannot be used; the message names the key."""


def fields_of(kind: str) -> tuple[str, ...]:
    return COLUMNS[kind] + EXTENSIONS.get(kind, ())


@dataclass(frozen=True)
class Mapping:
    kind: str
    columns: dict[str, str] = field(default_factory=dict)  # field -> source header
    dates: str | None = None
    decimal: str | None = None
    defaults: dict[str, str] = field(default_factory=dict)
    open_amount: str | None = None
    settled_date: str | None = None
    lines: dict[str, str] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    headings: str | None = None
    label: str = ""

    @property
    def renames(self) -> bool:
        """Whether source headers are the mapping's (else relance's own column names)."""
        return bool(self.columns)

    def sources(self) -> list[str]:
        """Every source header the mapping reads."""
        names = [*self.columns.values(), *self.where]
        names += [h for h in (self.open_amount, self.settled_date) if h]
        names += [h for h in self.lines.values() if h]
        return list(dict.fromkeys(names))


def _text(value: Any, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MappingError(
            N_("`%(key)s` must be text, got %(type)s"), key=key, type=type(value).__name__
        )
    text = str(value).strip()
    if not text:
        raise MappingError(N_("`%(key)s` is empty"), key=key)
    if len(text) > 200:
        raise MappingError(N_("`%(key)s` is longer than 200 characters"), key=key)
    return text


def _table(value: Any, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MappingError(N_('`%(key)s` must be a table such as {field: "Header"}'), key=key)
    return {_text(k, key): _text(v, f"{key}.{k}") for k, v in value.items()}


def parse(text: str) -> Mapping:
    """A mapping from its YAML, or MappingError naming the key at fault."""
    if len(text.encode()) > MAX_MAPPING_BYTES:
        raise MappingError(
            N_("the mapping is larger than %(size)s kB"), size=MAX_MAPPING_BYTES // 1000
        )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        if where is not None:
            raise MappingError(
                N_("the mapping is not valid YAML (line %(line)s)"), line=where.line + 1
            ) from None
        raise MappingError(N_("the mapping is not valid YAML")) from None
    if not isinstance(data, dict):
        raise MappingError(N_("the mapping must be a YAML table with at least `kind`"))
    return from_dict(data)


def from_dict(data: dict[str, Any]) -> Mapping:
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise MappingError(
            N_("unknown key `%(key)s`; the keys are: %(keys)s"),
            key=unknown[0],
            keys=", ".join(_KEYS),
        )
    kind = data.get("kind")
    if kind not in KINDS:
        raise MappingError(
            N_("`kind` must be one of %(kinds)s, got %(kind)r"), kinds=", ".join(KINDS), kind=kind
        )
    known = fields_of(kind)
    columns = _table(data.get("columns"), "columns")
    defaults = _table(data.get("defaults"), "defaults")
    for key, table in (("columns", columns), ("defaults", defaults)):
        for name in table:
            if name not in known:
                raise MappingError(
                    N_("`%(key)s.%(name)s`: %(kind)s have no field '%(name)s'; fields: %(fields)s"),
                    key=key,
                    name=name,
                    kind=kind,
                    fields=", ".join(known),
                )
    if columns:
        for name in sorted(REQUIRED[kind]):
            if name not in (columns.keys() | defaults.keys() | {"currency", data.get("headings")}):
                raise MappingError(
                    N_(
                        "`columns.%(name)s`: %(kind)s need '%(name)s'; map it to a column or "
                        "give it in `defaults`"
                    ),
                    name=name,
                    kind=kind,
                )
    dates = data.get("dates")
    if dates is not None:
        dates = _text(dates, "dates")
        if not all(d in dates for d in ("%d", "%m")) or not ("%Y" in dates or "%y" in dates):
            raise MappingError(
                N_('`dates` must be a strftime format with %d, %m and %Y, e.g. "%d/%m/%Y"')
            )
    decimal = data.get("decimal")
    if decimal is not None and decimal not in (".", ","):
        raise MappingError(N_('`decimal` must be "." or ",", got %(decimal)r'), decimal=decimal)
    extras = {}
    for key in ("open_amount", "settled_date"):
        value = data.get(key)
        extras[key] = _text(value, key) if value is not None else None
        if value is not None and kind != "invoices":
            raise MappingError(N_("`%(key)s` applies to invoices only"), key=key)
    headings = data.get("headings")
    if headings is not None:
        headings = _text(headings, "headings")
        if headings not in known:
            raise MappingError(
                N_("`headings`: %(kind)s have no field '%(field)s'"), kind=kind, field=headings
            )
        if headings in columns:
            raise MappingError(
                N_("`headings`: '%(field)s' is also in `columns`; keep one"), field=headings
            )
    lines = _table(data.get("lines"), "lines")
    if lines:
        if kind != "invoices":
            raise MappingError(N_("`lines` applies to invoices only"))
        for key in lines:
            if key not in ("group_by", "amount", "tax"):
                raise MappingError(
                    N_("`lines.%(key)s`: the keys are group_by, amount, tax"), key=key
                )
        for key in ("group_by", "amount"):
            if key not in lines:
                raise MappingError(N_("`lines.%(key)s` is required with `lines`"), key=key)
    return Mapping(
        kind=kind,
        columns=columns,
        dates=dates,
        decimal=decimal,
        defaults=defaults,
        open_amount=extras["open_amount"],
        settled_date=extras["settled_date"],
        lines=lines,
        where=_table(data.get("where"), "where"),
        headings=headings,
        label=_text(data["label"], "label") if data.get("label") else "",
    )


def find_header(rows: Sequence[Sequence[str]], mapping: Mapping) -> int:
    """Index of the row holding every header the mapping reads (reports put a title, the
    company and the period above it), or MappingError naming the headers not found."""
    wanted = {header_key(h): h for h in mapping.sources()}
    best, best_missing = 0, list(wanted.values())
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = {header_key(c) for c in row}
        missing = [h for k, h in wanted.items() if k not in keys]
        if not missing:
            return index
        if len(missing) < len(best_missing):
            best, best_missing = index, missing
    raise MappingError(
        N_(
            "the file has no column %(columns)s (looked for them in its first %(rows)s rows; "
            "row %(row)s comes closest)"
        ),
        columns=", ".join(repr(m) for m in best_missing),
        rows=HEADER_SEARCH_ROWS,
        row=best + 1,
    )


class Mapped:
    """A mapping bound to a file's header: turns each source row into relance's values."""

    def __init__(self, mapping: Mapping, header: Sequence[str], company_currency: str) -> None:
        self.mapping = mapping
        index: dict[str, int] = {}
        for position, name in enumerate(header):
            index.setdefault(header_key(name), position)
        self.fields = [(f, index[header_key(h)]) for f, h in mapping.columns.items()]
        self.extras = [
            (name, index[header_key(h)])
            for name, h in (
                (OPEN_AMOUNT, mapping.open_amount),
                (SETTLED_DATE, mapping.settled_date),
                (LINE_AMOUNT, mapping.lines.get("amount")),
                (LINE_TAX, mapping.lines.get("tax")),
            )
            if h
        ]
        self.where = [(index[header_key(h)], header_key(v)) for h, v in mapping.where.items()]
        self.group = index[header_key(mapping.lines["group_by"])] if mapping.lines else None
        defaults = dict(mapping.defaults)
        if "currency" in REQUIRED.get(mapping.kind, ()) and "currency" not in mapping.columns:
            defaults.setdefault("currency", company_currency)
        self.defaults = defaults  # also for a mapped column's empty cells
        self.width = len(header)
        self.heading = ""

    def row(self, cells: Sequence[str]) -> tuple[dict[str, str], dict[str, str]] | None:
        """(the kind's values, the extras) of one row; None for a row to skip (empty, or not
        matching `where`)."""
        if len(cells) < self.width:
            cells = [*cells, *([""] * (self.width - len(cells)))]
        heading = self.mapping.headings and cells and cells[0].strip()
        if heading and not any(c.strip() for c in cells[1:]):
            self.heading = cells[0].strip()
            return None
        for position, expected in self.where:
            if header_key(cells[position]) != expected:
                return None
        values = {f: cells[i].strip() for f, i in self.fields}
        if not any(values.values()):
            return None
        if self.mapping.headings:
            values[self.mapping.headings] = self.heading
        for name, value in self.defaults.items():
            if not values.get(name):
                values[name] = value
        extras = {name: cells[i].strip() for name, i in self.extras}
        if self.group is not None:
            extras["group"] = cells[self.group].strip()
        return values, extras


@dataclass(slots=True)
class Line:
    """One row as relance reads it: its number in the file, the kind's values, and what a
    mapping adds beside them (open amount, line amounts, group). The importer's Record."""

    row: int
    values: dict[str, str]
    extras: dict[str, str] = field(default_factory=dict)


def collapse_lines(
    lines: Iterator[Line], report: Callable[[int, str], None] | None = None
) -> Iterator[Line]:
    """Consecutive rows of one invoice (same `group` extra) as one: the first row's values,
    checked so that the line amounts add up to the total, with or without the lines' tax.
    Amounts are canonical text here. A group whose lines do not add up is reported (its first
    row and a message naming the invoice) and left out; without `report`, MappingError."""
    current: Line | None = None
    amount, tax = Decimal(0), Decimal(0)

    def finish(line: Line) -> Line | None:
        try:
            total = Decimal(line.values.get("total") or 0)
        except ArithmeticError:
            return line  # the total's own parser reports it
        if amount != total and amount + tax != total:
            name = line.extras.get("group") or line.values.get("external_id", "")
            if tax:
                error = MappingError(
                    N_(
                        "the lines of invoice '%(invoice)s' add up to %(amount)s (%(with_tax)s "
                        "with their tax), not to its total %(total)s"
                    ),
                    invoice=name,
                    amount=amount,
                    with_tax=amount + tax,
                    total=total,
                )
            else:
                error = MappingError(
                    N_(
                        "the lines of invoice '%(invoice)s' add up to %(amount)s, not to its "
                        "total %(total)s"
                    ),
                    invoice=name,
                    amount=amount,
                    total=total,
                )
            if report is None:
                raise error
            report(line.row, str(error))
            return None
        return line

    def number(text: str | None) -> Decimal:
        try:
            return Decimal(text or 0)
        except ArithmeticError:
            return Decimal(0)

    for line in lines:
        key = line.extras.get("group", "")
        if current is not None and key == current.extras.get("group", ""):
            amount += number(line.extras.get(LINE_AMOUNT))
            tax += number(line.extras.get(LINE_TAX))
            continue
        if current is not None and (done := finish(current)) is not None:
            yield done
        current = line
        amount = number(line.extras.get(LINE_AMOUNT))
        tax = number(line.extras.get(LINE_TAX))
    if current is not None and (done := finish(current)) is not None:
        yield done


def to_dict(mapping: Mapping) -> dict[str, Any]:
    """The mapping as `from_dict` reads it back (the keys it uses only): what a draft import
    keeps and what is saved as YAML."""
    data: dict[str, Any] = {"kind": mapping.kind}
    if mapping.label:
        data["label"] = mapping.label
    for key in _KEYS[2:]:
        value = getattr(mapping, key)
        if value:
            data[key] = dict(value) if isinstance(value, dict) else value
    return data


def to_yaml(mapping: Mapping) -> str:
    return yaml.safe_dump(to_dict(mapping), allow_unicode=True, sort_keys=False)
