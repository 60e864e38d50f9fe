"""SQL shared by the business areas, where Django's per-value machinery costs more than the query:
reading rows as plain tuples (SQLite returns dates as ISO text and amounts as REAL) and
multi-row INSERTs of already validated rows, for imports and cycles of millions of rows.

(What an invoice still owes, in SQL and through the ORM, is stated once beside the models that
hold it: relance.models.documents.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import QuerySet

Converter = Callable[[Any], Any]


def sqlite_amount(value: Any) -> Any:
    """SQLite holds amounts as REAL (and computes sums as REAL): back to the Decimal Django's
    SQLite backend gives, rounded to the four decimals amounts are stored with. Going through
    integer ten-thousandths gives Django's value for any amount below ten billion (see
    tests/services/test_snapshots.py) at half the cost, on the million amounts a cycle reads."""
    if value is None or value.__class__ is Decimal:
        return value
    return Decimal(round(value * 10000)).scaleb(-4)


def summed(value: Any) -> Decimal:
    """An amount SQL summed, as Decimal: nothing summed is zero; SQLite's REAL as above."""
    return Decimal(0) if value is None else sqlite_amount(value)


def day_of(value: Any) -> date:
    """A date raw SQL returned: a `date` from PostgreSQL, ISO text from SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def sqlite_dates() -> Converter:
    """A date reader for one read of SQLite rows, which hold dates as ISO text. Dates repeat (a
    ledger spans a few hundred days), so each text is parsed once."""
    dates: dict[str, date] = {}

    def to_date(value: Any) -> Any:
        if value.__class__ is str:
            found = dates.get(value)
            if found is None:
                found = dates[value] = date.fromisoformat(value)
            return found
        return value

    return to_date


def _json_value(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value


def fetch(
    query: QuerySet[Any],
    *,
    dates: Sequence[int] = (),
    amounts: Sequence[int] = (),
    jsons: Sequence[int] = (),
) -> list[Any]:
    """The rows of a `values_list` query as plain tuples, converting only the columns that need
    it on this database (SQLite returns dates as text and amounts as REAL; JSON comes as text
    from both). Skips Django's per-value converter chain, which cost more than the query itself
    on a million rows."""
    try:
        sql, params = query.query.sql_with_params()
    except EmptyResultSet:  # e.g. `pk__in=[]`: Django knows there is nothing to ask
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    converters: list[tuple[int, Converter]] = [(i, _json_value) for i in jsons]
    if connection.vendor == "sqlite":
        to_date = sqlite_dates()
        converters += [(i, to_date) for i in dates]
        converters += [(i, sqlite_amount) for i in amounts]
    if not converters:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for i, convert in converters:
            values[i] = convert(values[i])
        converted.append(tuple(values))
    return converted


def _identity(value: Any) -> Any:
    return value


def _json_text(value: Any) -> str:
    """orjson: a cycle writes several JSON values per execution, and json.dumps's call overhead
    alone cost seconds per 100,000 executions."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


@lru_cache(maxsize=256)
def _sqlite_datetime(value: datetime | None) -> str | None:
    """Cached: a batch stamps all its rows with the same few instants."""
    return str(value.astimezone(UTC).replace(tzinfo=None)) if value else None


def _converter(field: models.Field) -> Converter:
    if isinstance(field, models.JSONField):
        return _json_text
    if isinstance(field, models.DateTimeField):
        if connection.vendor == "sqlite":  # Django's SQLite form: naive UTC text
            return _sqlite_datetime
        return lambda v: field.get_db_prep_save(v, connection)
    if connection.vendor == "sqlite":
        if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
            return lambda v: v.isoformat() if isinstance(v, date) else v
        if isinstance(field, models.DecimalField):
            return lambda v: str(v) if isinstance(v, Decimal) else v
    if isinstance(
        field,
        (
            models.CharField,
            models.IntegerField,
            models.BooleanField,
            models.ForeignKey,
            models.DateField,
            models.DecimalField,
        ),
    ):
        return _identity
    return lambda v: field.get_db_prep_save(v, connection)


class Inserter:
    """INSERTs rows of one model; columns missing from a row take the field's default.

    Django's `bulk_create` builds a model instance and prepares every value through the field
    API, which dominated a million-row import. Rows here are plain dicts keyed by attribute
    name; each column's value is adapted once per value by a converter chosen once per column."""

    def __init__(self, model: type[models.Model], batch: int = 500) -> None:
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        self.batch = batch
        self.table = quote(model._meta.db_table)
        self.columns = ", ".join(quote(f.column) for f in self.fields)
        self.converters = [_converter(f) for f in self.fields]
        self.defaults = [f.get_default() for f in self.fields]  # "" for blank text, as Django
        self.row_marks = "(" + ", ".join("%s" for _ in self.fields) + ")"
        self.pk = quote(model._meta.pk.column)

    def index(self, attname: str) -> int:
        """Where a field's value is in a prepared row."""
        return [f.attname for f in self.fields].index(attname)

    def prepare(self, rows: list[dict[str, Any]]) -> list[list[Any]]:
        """The rows' values converted for the database, in the table's column order: what
        `insert_prepared` takes, and cheap to hand to another process."""
        # Defaults are converted once; identity converters are not called at all (hot loop).
        fields = [
            (f.attname, None if conv is _identity else conv, conv(default))
            for f, conv, default in zip(self.fields, self.converters, self.defaults, strict=True)
        ]
        prepared = []
        for row in rows:
            values: list[Any] = []
            append = values.append
            for name, conv, default in fields:
                if name not in row:
                    append(default)
                elif conv is None:
                    append(row[name])
                else:
                    append(conv(row[name]))
            prepared.append(values)
        return prepared

    def insert(self, rows: list[dict[str, Any]], *, unique: str | None = None) -> dict[Any, int]:
        """Insert the rows. With `unique` (a column with a unique constraint), rows whose value is
        already taken are left out instead of failing, and {value: primary key} of the rows
        actually inserted is returned: how concurrent writers of the same keys each learn what
        was theirs, and what their rows are called."""
        return self.insert_prepared(self.prepare(rows), unique=unique)

    def insert_prepared(
        self, rows: list[list[Any]], *, unique: str | None = None
    ) -> dict[Any, int]:
        """`insert` for rows from `prepare`."""
        if not rows:
            return {}
        quote = connection.ops.quote_name
        tail = (
            f" ON CONFLICT ({quote(unique)}) DO NOTHING RETURNING {quote(unique)}, {self.pk}"
            if unique
            else ""
        )
        inserted: dict[Any, int] = {}
        with connection.cursor() as cursor:
            # SQLite: `?` marks go straight to sqlite3; Django's cursor would rewrite every
            # `%s` of these statements of ten thousand values with a regular expression.
            sqlite = connection.vendor == "sqlite"
            execute = partial(sqlite3.Cursor.execute, cursor.cursor) if sqlite else cursor.execute
            row_marks = self.row_marks.replace("%s", "?") if sqlite else self.row_marks
            for start in range(0, len(rows), self.batch):
                part = rows[start : start + self.batch]
                marks = ", ".join([row_marks] * len(part))
                params = [value for row in part for value in row]
                execute(f"INSERT INTO {self.table} ({self.columns}) VALUES {marks}{tail}", params)
                if unique:
                    inserted.update(cursor.fetchall())
        return inserted
