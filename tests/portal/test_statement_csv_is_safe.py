"""The portal's statement CSV neutralises text a spreadsheet would read as a formula (OWASP
"CSV Injection"); amounts, negative ones included, stay numbers."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from relance.models import Invoice

DANGEROUS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_an_invoice_number_that_could_start_a_formula_is_read_as_text(ledger, text):
    Invoice.objects.filter(external_id="I1").update(number=text)
    body = Client().get(ledger.path(suffix="statement.csv")).content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    [first] = [r for r in rows if r["invoice_id"] == "I1"]
    assert first["number"] == "'" + text
    assert first["amount_due"] == "1000.00"


def test_amounts_are_written_as_numbers(ledger):
    body = Client().get(ledger.path(suffix="statement.csv")).content.decode()
    line = next(li for li in body.splitlines() if li.startswith('"I1"'))
    assert ",1250.00,1000.00," in line  # total and amount due bare: numbers to a spreadsheet
