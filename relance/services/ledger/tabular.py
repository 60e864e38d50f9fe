"""One reader for every tabular file a finance team has: CSV/TSV in any of the usual delimiters
and encodings, and XLSX, XLSM, XLS and ODS workbooks; the CLI, the staff app and the API all read
through `open_table`.

Memory: a CSV file is streamed (a 256 kB sample to detect the encoding and delimiter, then a
line at a time), so its size does not matter. A workbook is read by python-calamine, which loads
the chosen sheet whole before the first row is returned (0.9.1 has no lazier API: its iter_rows
walks the loaded sheet): about 60 bytes a cell. bench/import_bench.py, 1,000,000 invoices of 9
columns (a 45 MiB XLSX): peak 850 MiB against 290 MiB for the same rows as CSV, for about 1.4x
the CPU time. openpyxl's read-only mode streams in about 30 MiB but takes 10 s of CPU per
100,000 rows, three times the whole CSV import; export larger sheets as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from relance.domain.tabular import (
    DELIMITER_NAMES,
    FormatError,
    canonical,
    detect_delimiter,
    detect_encoding,
    encoding_name,
)
from relance.domain.texts import N_

SAMPLE_BYTES = 256 * 1024
#: What a zipped workbook (XLSX, ODS) may hold once unzipped: a few MB that unzip to gigabytes
#: would take the server's memory (a "zip bomb"). A million-invoice sheet with its text inline
#: (as xlsxwriter writes it, 9 columns) unzips to 415 MB.
MAX_UNZIPPED = 1024 * 2**20
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Table:
    """A file's rows as lists of text cells, each with the line or row number a person sees."""

    rows: Iterator[tuple[int, list[str]]]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    position: Callable[[], int] = lambda: 0  # bytes read so far, for progress bars

    def format(self) -> dict[str, str | None]:
        return {"encoding": self.encoding, "delimiter": self.delimiter, "sheet": self.sheet}

    def describe(self) -> str:
        if self.sheet is not None:
            return f"sheet '{self.sheet}'"
        name = DELIMITER_NAMES.get(self.delimiter or ",", self.delimiter)
        return f"{self.encoding}, {name}-separated"


class _Prefixed(io.RawIOBase):
    """The sample already read, then the rest of the stream: detection without seeking."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head, self.rest, self.read_bytes = head, rest, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
        else:
            data = self.rest.read(len(buffer))
            n = len(data)
            buffer[:n] = data
        self.read_bytes += n
        return n


def open_table(stream: IO[bytes], filename: str = "", sheet: str | None = None) -> Table:
    """The rows of a CSV file or of one sheet of a workbook (the first unless `sheet` names
    one); FormatError when the file cannot be read as either."""
    head = stream.read(SAMPLE_BYTES)
    suffix = Path(filename).suffix.lower()
    if head.startswith(_OLE) or (head.startswith(_ZIP) and suffix != ".csv"):
        return _workbook(head, stream, sheet)
    if suffix in SPREADSHEETS:
        raise FormatError(
            N_("this %(suffix)s file is not a workbook Excel or LibreOffice can open"),
            suffix=suffix,
        )
    if sheet:
        raise FormatError(N_("--sheet applies to workbooks (.xlsx, .xls, .ods), not CSV files"))
    return _csv(head, stream)


def _csv(head: bytes, stream: IO[bytes]) -> Table:
    codec = detect_encoding(head, whole=len(head) < SAMPLE_BYTES)
    raw = _Prefixed(head, stream)
    buffered = io.BufferedReader(raw, 1 << 16)
    sample = head.decode(codec, errors="replace").lstrip("\ufeff")
    lines = sample.splitlines()
    if len(head) == SAMPLE_BYTES and lines:
        lines = lines[:-1]  # cut in the middle
    # Excel's own hint, a first line `sep=;`, says the delimiter and is not part of the table
    hinted = (
        bool(lines) and lines[0].strip().lower().startswith("sep=") and len(lines[0].strip()) == 5
    )
    delimiter = lines[0].strip()[4] if hinted else detect_delimiter(lines)
    name = encoding_name(codec)
    count = [0]

    def decoded() -> Iterator[str]:
        """Line by line for the 8-bit and UTF-8 encodings, so a byte that does not decode is
        reported on its own line; UTF-16 through a text wrapper (its newlines are two bytes)."""
        if codec.startswith("utf-16"):
            for line in io.TextIOWrapper(buffered, encoding=codec, newline=""):
                count[0] += 1
                yield line
            return
        plain = "utf-8" if codec == "utf-8-sig" else codec
        for data in buffered:
            count[0] += 1
            try:
                yield data.decode(plain)
            except UnicodeDecodeError as exc:
                bad = data[exc.start : exc.start + 1].hex()
                raise FormatError(
                    N_(
                        "line %(line)s is not valid %(encoding)s (byte 0x%(byte)s at position "
                        "%(position)s), unlike the start of the file; save the whole file in "
                        "one encoding, UTF-8 preferably"
                    ),
                    count[0],
                    line=count[0],
                    encoding=name,
                    byte=bad,
                    position=exc.start + 1,
                ) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(decoded(), delimiter=delimiter, strict=True)
        last = 0
        try:
            for values in reader:
                start, last = last + 1, reader.line_num
                if start == 1 and values and values[0].startswith("\ufeff"):
                    values[0] = values[0][1:]
                if start == 1 and hinted:
                    continue
                yield start, values
        except UnicodeDecodeError:
            raise FormatError(
                N_(
                    "line %(line)s is not valid %(encoding)s, unlike the start of the file; "
                    "save the whole file in one encoding, UTF-8 preferably"
                ),
                count[0],
                line=count[0],
                encoding=name,
            ) from None
        except csv.Error as exc:
            raise FormatError(
                N_("line %(line)s is not valid CSV: %(problem)s"),
                reader.line_num,
                line=reader.line_num,
                problem=exc,
            ) from None

    return Table(rows(), encoding=name, delimiter=delimiter, position=lambda: raw.read_bytes)


def _workbook(head: bytes, stream: IO[bytes], sheet: str | None) -> Table:
    from python_calamine import CalamineError, CalamineWorkbook

    source = _rewound(head, stream)
    if head.startswith(_ZIP):
        _check_unzipped_size(source)
    try:
        book = CalamineWorkbook.from_filelike(source)
    except (CalamineError, ValueError, OSError) as exc:
        raise FormatError(N_("the workbook cannot be opened: %(problem)s"), problem=exc) from None
    names = list(book.sheet_names)
    if not names:
        raise FormatError(N_("the workbook has no sheet"))
    chosen = sheet or names[0]
    if chosen not in names:
        raise FormatError(
            N_("the workbook has no sheet '%(sheet)s'; its sheets: %(sheets)s"),
            sheet=chosen,
            sheets=", ".join(names),
        )
    try:
        found = book.get_sheet_by_name(chosen)
    except CalamineError as exc:
        raise FormatError(
            N_("sheet '%(sheet)s' cannot be read: %(problem)s"), sheet=chosen, problem=exc
        ) from None
    first_row = (found.start or (0, 0))[0]
    size = len(head)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, cells in enumerate(found.iter_rows(), start=first_row + 1):
            yield number, [canonical(c) for c in cells]

    return Table(rows(), sheet=chosen, position=lambda: size)


def _rewound(head: bytes, stream: IO[bytes]) -> IO[bytes]:
    """The workbook from its first byte, for calamine, which copies it whole: the stream itself,
    put back to its start, when it can seek (a file, an upload), so the file is not held a
    second time as Python bytes (45 MiB for a million invoices); otherwise a copy."""
    try:
        if stream.seekable() and stream.tell() == len(head):
            stream.seek(0)
            return stream
    except (AttributeError, OSError, ValueError):
        pass
    return io.BytesIO(head + stream.read())


def _check_unzipped_size(source: IO[bytes]) -> None:
    import zipfile

    start = source.tell()
    try:
        with zipfile.ZipFile(source) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FormatError(N_("the workbook is damaged: it cannot be unzipped")) from None
    finally:
        source.seek(start)
    if unzipped > MAX_UNZIPPED:
        raise FormatError(
            N_(
                "the workbook unzips to %(size)s MB, more than %(limit)s MB; export the sheet "
                "as CSV instead"
            ),
            size=unzipped // 2**20,
            limit=MAX_UNZIPPED // 2**20,
        )
