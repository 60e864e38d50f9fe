"""CSV cells a spreadsheet cannot read as formulas (OWASP "CSV Injection"): text starting with
= + - @ tab or CR gets a single quote before it and every text cell is quoted; numbers stay
numbers, negative ones included."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from relance.domain import csv_cells

DANGEROUS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_text_cell_that_could_start_a_formula_is_read_as_text(text):
    assert csv_cells.cell(text) == "'" + text
    out = io.StringIO()
    csv_cells.writer(out).writerow([text])
    [[read]] = list(csv.reader(io.StringIO(out.getvalue())))
    assert read == "'" + text
    assert out.getvalue().startswith("\"'")  # quoted: a ; or , inside cannot open a new cell


def test_numbers_stay_numbers_and_plain_text_stays_as_it_is():
    out = io.StringIO()
    csv_cells.writer(out).writerow([Decimal("-12.50"), -3, 1.5, "Boulangerie Dupont", None, "a;=1"])
    assert out.getvalue() == '-12.50,-3,1.5,"Boulangerie Dupont","","a;=1"\r\n'
