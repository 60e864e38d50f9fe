"""CSV files a spreadsheet opens safely (OWASP "CSV Injection", CWE-1236, ASVS 1.2.10).

A spreadsheet reads a text cell beginning with `=`, `+`, `-` or `@` (or a tab, carriage return,
line feed or NUL before one) as a formula: a customer named `=HYPERLINK("http://x","y")`
becomes a live link in the controller's spreadsheet. Every CSV relance writes goes through
`writer`, which, as OWASP recommends:

- prefixes such a text cell with a single quote, so it is read as text (`'=HYPERLINK(…)`);
- wraps every text cell in double quotes, doubling the quotes inside, so a `;` or `,` in a name
  cannot start a new cell in a spreadsheet that splits on another separator (French Excel
  splits on `;`);
- leaves numbers as numbers: a Decimal, int or float (say an amount of -12.50) is written bare,
  as it is. Cells are neutralised by their type, never by their text: an amount must be handed
  over as a number, not as a string.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

#: First characters a spreadsheet may read as the start of a formula (OWASP, ASVS 1.2.10), with
#: their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20): some spreadsheets fold them to ASCII.
FORMULA_STARTS = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\n",
    "\0",
    "\uff1d",
    "\uff0b",
    "\uff0d",
    "\uff20",
)


def cell(value: Any) -> Any:
    """The value to write: numbers and empty cells as they are, any other value as text with a
    single quote before it when it could start a formula."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def row(values: Iterable[Any]) -> list[Any]:
    return [cell(v) for v in values]


class _Writable(Protocol):
    def write(self, value: str, /) -> Any: ...


class Writer:
    """csv.writer's writerow and writerows, every cell neutralised; text cells quoted."""

    def __init__(self, out: _Writable) -> None:
        self._csv = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, values: Iterable[Any]) -> Any:
        return self._csv.writerow(row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)


def writer(out: _Writable) -> Writer:
    return Writer(out)
