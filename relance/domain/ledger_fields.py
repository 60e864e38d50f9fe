"""The values of a ledger file's cells: each parser returns the stored value or raises FieldError.

Plain Python, so that what a finance user reads about a bad cell is tested without a database;
the importer (services/ledger/imports) adds the row number and the column name. What needs the
database (customers, plans, users) or Django (e-mail addresses, time zones) stays there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from relance.domain.errors import RelanceError
from relance.domain.money import InvalidAmount, InvalidCurrency, normalize_currency, parse_amount
from relance.domain.texts import N_

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

Parser = Callable[[str], Any]


class FieldError(RelanceError, ValueError):
    """One bad value; the importer adds the row number and column name."""


class ColumnError(FieldError):
    """A problem found once the whole row is parsed (e.g. due date before issue date)."""

    def __init__(self, column: str, message: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.column = column


def text(value: str, max_length: int) -> str:
    if len(value) > max_length:
        raise FieldError(
            N_("is %(length)s characters long; at most %(max_length)s fit"),
            length=len(value),
            max_length=max_length,
        )
    return value


def iso_date(value: str) -> date:
    if not _DATE.match(value):
        raise FieldError(N_("'%(value)s' is not a date in the form YYYY-MM-DD"), value=value)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(N_("'%(value)s' is not a valid calendar date"), value=value) from None


def month(value: str) -> date:
    m = _MONTH.match(value)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise FieldError(N_("'%(value)s' is not a month in the form YYYY-MM"), value=value)
    return date(int(m.group(1)), int(m.group(2)), 1)


def currency(value: str) -> str:
    try:
        return normalize_currency(value)
    except InvalidCurrency as exc:
        raise FieldError(exc.template, **exc.params) from None


def amount(value: str, currency: str | None, *, positive: bool) -> Decimal:
    try:
        parsed = parse_amount(value, currency or "XXX")
    except InvalidAmount as exc:
        raise FieldError(exc.template, **exc.params) from None
    if positive and parsed <= 0:
        raise FieldError(N_("must be greater than zero, got %(value)s"), value=value)
    if parsed < 0:
        raise FieldError(N_("must not be negative, got %(value)s"), value=value)
    return parsed


def percent(value: str) -> Decimal:
    """A yearly rate in percent, such as 12.5 (at most four decimals, 0 to 100)."""
    try:
        rate = Decimal(value)
    except ArithmeticError:
        raise FieldError(
            N_("'%(value)s' is not a rate in percent such as 12.5"), value=value
        ) from None
    exponent = rate.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -4 or not 0 <= rate <= 100:
        raise FieldError(
            N_("'%(value)s' is not a rate in percent between 0 and 100 (4 decimals)"),
            value=value,
        )
    return rate


def choice(value: str, choices: Iterable[str]) -> str:
    lowered = value.lower()
    options = tuple(choices)
    if lowered not in options:
        raise FieldError(
            N_("'%(value)s' is not one of %(options)s"), value=value, options=", ".join(options)
        )
    return lowered


def boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in {"true", "yes", "1"}:
        return True
    if lowered in {"false", "no", "0"}:
        return False
    raise FieldError(N_("'%(value)s' is not true or false"), value=value)


def country(value: str) -> str:
    code = value.upper()
    if len(code) != 2 or not code.isalpha():
        raise FieldError(
            N_("'%(value)s' is not a two-letter ISO country code such as FR"), value=value
        )
    return code


def required(parse: Parser) -> Parser:
    def parse_required(value: str) -> Any:
        if not value:
            raise FieldError(N_("is required"))
        return parse(value)

    return parse_required


def optional(parse: Parser, empty: Any = None) -> Parser:
    return lambda value: parse(value) if value else empty


def at_most(length: int) -> Parser:
    return lambda value: text(value, length)
