"""What the cells of a finance team's spreadsheet or CSV export mean, without Django.

The reader (services/ledger/tabular) hands over text cells, or typed cells from a spreadsheet;
this module guesses a CSV file's encoding and delimiter from a sample, and turns regional
numbers (`1 234,56`, `1.234,56`, `1'234.56`, `(12.00)`) and dates (ISO, `31/01/2026`,
`31.01.2026`, `01/31/2026`, Excel serials) into relance's canonical text (`1234.56`,
`2026-01-31`), which the ledger's cell parsers (domain/ledger_fields) then check.

When the file does not say which decimal mark or day/month order it uses, the import decides on
its first rows (SAMPLE_ROWS): `DateFormat` and `NumberFormat` observe those rows, `decide()`
settles the convention or explains which rows are ambiguous or disagree, and every later row is
read with the decision; a later row that contradicts it is an error naming that row.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from relance.domain.errors import RelanceError
from relance.domain.texts import N_

#: Rows of a file read before the date order and decimal mark are decided.
SAMPLE_ROWS = 1000
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class FormatError(RelanceError, ValueError):
    """The file's format cannot be read or decided; the message says what to set, `row` and
    `field` where it was first seen (when one row and field show it)."""

    def __init__(
        self, message: str, row: int | None = None, field: str | None = None, **params: Any
    ) -> None:
        super().__init__(message, **params)
        self.row = row
        self.field = field


# --- encodings and delimiters ------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Bytes cp1252 leaves undefined: a file holding them is Latin-1 (ISO-8859-1).
_CP1252_HOLES = frozenset(b"\x81\x8d\x8f\x90\x9d")


def detect_encoding(sample: bytes, whole: bool = True) -> str:
    """The Python codec to read a file whose first bytes are `sample` (`whole`: the file
    itself): a BOM says so; else UTF-16 without BOM shows as NULs between ASCII letters; else
    strict UTF-8 if the sample decodes (a character cut at the sample's end is allowed); else
    Windows-1252, or Latin-1 when the sample holds a byte Windows-1252 does not define."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    head = sample[:200]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        odd_nuls = head[1::2].count(0)
        return "utf-16-le" if odd_nuls > head[0::2].count(0) else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=whole)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    return "latin-1" if _CP1252_HOLES & set(sample) else "cp1252"


def encoding_name(codec: str) -> str:
    """The encoding as a person knows it, for reports."""
    return {
        "utf-8": "UTF-8",
        "utf-8-sig": "UTF-8 (BOM)",
        "utf-16": "UTF-16",
        "utf-16-le": "UTF-16LE",
        "utf-16-be": "UTF-16BE",
        "cp1252": "Windows-1252",
        "latin-1": "ISO-8859-1",
    }.get(codec, codec)


def detect_delimiter(lines: list[str]) -> str:
    """Which of `,` `;` tab `|` splits the most lines of the sample into the same number of
    columns (more than one), the larger number winning a tie, `,` when none splits anything.
    Title lines above a report's header (one cell, or a stray comma) do not count against a
    delimiter. csv.Sniffer is not used: it picks letters and quotes as delimiters."""
    lines = [line for line in lines if line.strip()][:100]
    best, best_key = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        split = [c for c in counts if c >= 2]
        if not split:
            continue
        mode = max(set(split), key=lambda c: (split.count(c), c))
        key = (split.count(mode), mode)
        if key > best_key:
            best, best_key = delimiter, key
    return best


# --- headers ------------------------------------------------------------------------------------


def header_key(name: str) -> str:
    """How headers are compared: case, surrounding spaces, a BOM and the `*` some products put
    before required columns (Xero's `*ContactName`) do not count."""
    return " ".join(name.replace("\ufeff", "").strip().lstrip("*").split()).casefold()


# --- typed spreadsheet cells --------------------------------------------------------------------


class Canonical(str):
    """A cell already in relance's canonical form (a spreadsheet's typed number or date), which
    the regional readers leave as it is."""

    __slots__ = ()


def canonical(value: Any) -> str:
    """A spreadsheet cell as text: numbers and dates typed in the sheet become canonical text
    (never a locale's rendering); text stays text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return Canonical(value.date().isoformat())
        return Canonical(value.isoformat(sep=" "))
    if isinstance(value, date):
        return Canonical(value.isoformat())
    if isinstance(value, int):
        return Canonical(str(value))
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return Canonical(str(int(value)))
        text = format(value, ".15g")  # Excel keeps 15 significant digits
        if "e" in text:
            text = format(Decimal(text), "f")
        return Canonical(text)
    if isinstance(value, timedelta | time):
        return str(value)
    return str(value)


# --- numbers ------------------------------------------------------------------------------------

_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009'\u2019")
_CURRENCY_SIGNS = "€$£¥"
_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")
_NUMBER = re.compile(r"^-?\d[\d.,]*$")


@dataclass
class NumberFormat:
    """The decimal mark of a file's amounts: given by the mapping, or decided on the sample
    (a value with both marks, a mark used twice, or one not followed by exactly three digits
    tells; `1,234` alone does not, and then the decimal point is relance's default)."""

    decimal: str | None = None  # "." or ","; None: not known yet
    stated: bool = False
    _evidence: dict[str, tuple[int, str]] = field(default_factory=dict)  # mark -> row, field
    _ambiguous: list[tuple[int, str]] = field(default_factory=list)

    def observe(self, row: int, value: str, name: str = "") -> None:
        if not value or isinstance(value, Canonical) or self.stated:
            return
        mark = _decimal_mark(_strip(value))
        if mark == "?":
            self._ambiguous.append((row, name))
        elif mark:
            self._evidence.setdefault(mark, (row, name))

    def decide(self) -> None:
        if self.stated:
            return
        if len(self._evidence) == 2:
            dot, comma = self._evidence["."], self._evidence[","]
            later = max(dot, comma)
            raise FormatError(
                N_(
                    "amounts use both decimal marks: row %(dot_row)s has a decimal point, "
                    "row %(comma_row)s a decimal comma; set the mapping's `decimal`"
                ),
                *later,
                dot_row=dot[0],
                comma_row=comma[0],
            )
        if self._evidence:
            self.decimal = next(iter(self._evidence))
        elif self._ambiguous:
            # 1,234 or 1.234 and nothing else: relance's own rule, the decimal point (a
            # thousands comma; 1.234 EUR then fails on its three decimals, never silently)
            self.decimal = "."

    def parse(self, value: str) -> str:
        """The amount as plain text with a decimal point, or FieldError-like FormatError."""
        if not value or isinstance(value, Canonical):
            return value
        if _PLAIN.match(value) and (self.decimal == "." or "." not in value):
            return value  # the common case, kept fast
        text = _strip(value)
        negative = text.startswith("(") and text.endswith(")")
        if negative:
            text = text[1:-1]
        mark = _decimal_mark(text)
        decimal = self.decimal
        if mark in (".", ",") and decimal is not None and mark != decimal:
            raise FormatError(
                N_("'%(value)s' has '%(mark)s' as decimal mark but the file uses '%(decimal)s'"),
                value=value,
                mark=mark,
                decimal=decimal,
            )
        if mark == "?" and decimal is None:
            raise FormatError(
                N_(
                    "'%(value)s' could be read with ',' or '.' as decimal mark; set the "
                    "mapping's `decimal`"
                ),
                value=value,
            )
        if decimal is None and mark in (".", ","):
            self.decimal = decimal = mark  # the first row that tells decides for the next ones
        decimal = decimal or "."
        thousands = "," if decimal == "." else "."
        if not _grouped(text, thousands, decimal):
            raise FormatError(N_("'%(value)s' is not a number"), value=value)
        plain = text.replace(thousands, "").replace(decimal, ".")
        if negative:
            plain = plain[1:] if plain.startswith("-") else "-" + plain
        return plain


def _strip(value: str) -> str:
    text = value.translate(_SPACES).replace("\u2212", "-").strip(_CURRENCY_SIGNS)
    if text.endswith("-") and text[:-1].replace(",", "").replace(".", "").isdigit():
        text = "-" + text[:-1]  # 12.00- as some ERPs print credits
    return text


def _grouped(text: str, thousands: str, decimal: str) -> bool:
    body = text[1:] if text.startswith("-") else text
    if not body or not _NUMBER.match(body):
        return False
    whole, _, fraction = body.partition(decimal)
    if decimal in fraction or thousands in fraction or (decimal in body and not fraction):
        return False
    if thousands in whole:
        groups = whole.split(thousands)
        return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    return whole.isdigit()


def _decimal_mark(text: str) -> str:
    """'.' or ',' when the text shows which is the decimal mark, '?' when it could be either
    (`1,234`), '' when it has no mark or is not a number."""
    text = text.strip("()").lstrip("-")
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        return "." if text.rfind(".") > text.rfind(",") else ","
    if not dots and not commas:
        return ""
    mark = "." if dots else ","
    if dots + commas > 1:
        return "," if mark == "." else "."  # repeated: thousands separator
    whole, fraction = text.split(mark)
    if len(fraction) == 3 and 1 <= len(whole) <= 3 and whole.isdigit() and whole != "0":
        return "?"
    return mark


# --- dates --------------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_ISO_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?: [\d:]+)?$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
DAY_FIRST, MONTH_FIRST = "%d/%m/%Y", "%m/%d/%Y"


@dataclass
class DateFormat:
    """How a file writes dates: a strftime format from the mapping, or day/month order decided
    on the sample (ISO dates, `dd.mm.yyyy` and Excel serials are never ambiguous)."""

    stated: str | None = None
    day_first: bool | None = None
    _day_rows: list[tuple[int, str, str]] = field(default_factory=list)
    _month_rows: list[tuple[int, str, str]] = field(default_factory=list)
    _ambiguous: list[tuple[int, str]] = field(default_factory=list)

    def observe(self, row: int, value: str, name: str = "") -> None:
        if not value or isinstance(value, Canonical) or self.stated:
            return
        m = _DMY.match(value)
        if not m or m.group(2) == ".":
            return
        first, second = int(m.group(1)), int(m.group(3))
        if first > 12 >= second:
            self._day_rows.append((row, value, name))
        elif second > 12 >= first:
            self._month_rows.append((row, value, name))
        elif first <= 12 and second <= 12 and first != second:
            self._ambiguous.append((row, name))

    def decide(self) -> None:
        if self.stated:
            return
        if self._day_rows and self._month_rows:
            (d_row, d_val, d_name), (m_row, m_val, m_name) = self._day_rows[0], self._month_rows[0]
            raise FormatError(
                N_(
                    "dates disagree: row %(day_row)s (%(day_value)s) is day/month, row "
                    "%(month_row)s (%(month_value)s) month/day; set the mapping's `dates`"
                ),
                *max((d_row, d_name), (m_row, m_name)),
                day_row=d_row,
                day_value=d_val,
                month_row=m_row,
                month_value=m_val,
            )
        if self._day_rows:
            self.day_first = True
        elif self._month_rows:
            self.day_first = False
        elif self._ambiguous:
            raise FormatError(
                N_(
                    "dates could be day/month or month/day: rows %(rows)s fit both; set the "
                    'mapping\'s `dates` (e.g. "%%d/%%m/%%Y")'
                ),
                *self._ambiguous[0],
                rows=ranges(r for r, _ in self._ambiguous),
            )

    def parse(self, value: str) -> str:
        """The date as YYYY-MM-DD, or FormatError saying what was expected."""
        if not value:
            return value
        if isinstance(value, Canonical) and not _SERIAL.match(value):
            return value[:10]
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            return value  # ISO, checked by the ledger's parser
        if self.stated:
            try:
                return datetime.strptime(value.split(" ")[0], self.stated).date().isoformat()
            except ValueError:
                if not _SERIAL.match(value):
                    raise FormatError(
                        N_("'%(value)s' is not a date in the mapping's format %(format)s"),
                        value=value,
                        format=self.stated,
                    ) from None
        if m := _ISO.match(value) or _ISO_SLASH.match(value):
            return _checked(int(m.group(1)), int(m.group(2)), int(m.group(3)), value)
        if _SERIAL.match(value):
            days = int(Decimal(value))
            if not 1 <= days <= 2958465:
                raise FormatError(N_("'%(value)s' is not an Excel date"), value=value)
            return (_EXCEL_EPOCH + timedelta(days=days)).isoformat()
        m = _DMY.match(value)
        if not m:
            raise FormatError(
                N_("'%(value)s' is not a date (YYYY-MM-DD, DD/MM/YYYY, DD.MM.YYYY or MM/DD/YYYY)"),
                value=value,
            )
        first, second, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if m.group(2) == ".":
            return _checked(year, second, first, value)
        day_first = self.day_first
        if day_first is None:
            if first > 12:
                day_first = True
            elif second > 12 or first == second:
                day_first = False
            else:
                raise FormatError(
                    N_("'%(value)s' could be day/month or month/day; set the mapping's `dates`"),
                    value=value,
                )
            self.day_first = day_first
        elif (day_first and second > 12) or (not day_first and first > 12):
            if day_first:
                raise FormatError(
                    N_("'%(value)s' does not fit the file's date order (day/month)"), value=value
                )
            raise FormatError(
                N_("'%(value)s' does not fit the file's date order (month/day)"), value=value
            )
        day, month = (first, second) if day_first else (second, first)
        return _checked(year, month, day, value)


def _checked(year: int, month: int, day: int, value: str) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise FormatError(N_("'%(value)s' is not a valid calendar date"), value=value) from None


def ranges(rows: Iterable[int]) -> str:
    """2, 3, 4, 7 -> '2-4, 7' (at most five spans, then '…')."""
    spans: list[list[int]] = []
    for row in sorted(set(rows)):
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    text = [f"{a}-{b}" if a != b else str(a) for a, b in spans[:5]]
    return ", ".join(text) + (", …" if len(spans) > 5 else "")


def parse_decimal(text: str) -> Decimal:
    """Canonical amount text as a Decimal (FormatError when it is not one)."""
    try:
        return Decimal(text)
    except InvalidOperation:
        raise FormatError(N_("'%(value)s' is not a number"), value=text) from None
