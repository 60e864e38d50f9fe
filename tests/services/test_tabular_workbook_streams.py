"""A workbook is read from whatever stream brings it: a file opened by the CLI or an import
job, an upload in memory or on disk (staff app, API), or a stream that cannot seek. The reader
hands a seekable stream to calamine as it is (the file is then not also copied into Python
bytes, 45 MiB for a million invoices) and copies the others; the rows must be the same."""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from relance.domain.tabular import FormatError
from relance.services.ledger.tabular import _rewound, open_table

openpyxl = pytest.importorskip("openpyxl")

ROWS = [
    ["external_id", "customer_id", "total"],
    ["I1", "C1", 1234.56],
    ["I2", "C2", 99],
]
EXPECTED = [
    (1, ["external_id", "customer_id", "total"]),
    (2, ["I1", "C1", "1234.56"]),
    (3, ["I2", "C2", "99"]),
]


def workbook_bytes() -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "Invoices"
    for row in ROWS:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class OneWay(io.RawIOBase):
    """A stream read front to back only, like a socket or a pipe."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self.data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def read_all(stream: IO[bytes]) -> list[tuple[int, list[str]]]:
    table = open_table(stream, "ledger.xlsx")
    assert table.sheet == "Invoices"
    return list(table.rows)


def test_a_workbook_file_is_read_from_its_first_byte(tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(workbook_bytes())
    with path.open("rb") as fh:
        assert read_all(fh) == EXPECTED
    with path.open("rb") as fh:
        head = fh.read(100)
        assert _rewound(head, fh) is fh  # handed to calamine as it is, not copied
        assert fh.tell() == 0


def test_uploads_in_memory_and_on_disk() -> None:
    data = workbook_bytes()
    assert read_all(SimpleUploadedFile("ledger.xlsx", data)) == EXPECTED
    upload = TemporaryUploadedFile("ledger.xlsx", "application/octet-stream", len(data), None)
    try:
        upload.write(data)
        upload.seek(0)
        assert read_all(upload) == EXPECTED
    finally:
        upload.close()


def test_a_stream_that_cannot_seek_is_copied() -> None:
    stream = io.BufferedReader(OneWay(workbook_bytes()))
    assert read_all(stream) == EXPECTED


def test_a_workbook_after_other_bytes_in_the_stream(tmp_path: Path) -> None:
    """A stream handed over past its start is read from where it stands, as before."""
    path = tmp_path / "bundle.bin"
    path.write_bytes(b"a header that is not part of the workbook" + workbook_bytes())
    with path.open("rb") as fh:
        fh.seek(len(b"a header that is not part of the workbook"))
        assert read_all(fh) == EXPECTED


def test_a_damaged_workbook_upload_is_refused() -> None:
    upload = SimpleUploadedFile("ledger.xlsx", b"PK\x03\x04 not really a zip")
    with pytest.raises(FormatError, match="damaged"):
        open_table(upload, "ledger.xlsx")
