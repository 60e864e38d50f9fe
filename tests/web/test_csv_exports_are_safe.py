"""The staff CSV exports neutralise text that a spreadsheet would read as a formula (OWASP
"CSV Injection"): a quote before it, the cell quoted; amounts stay numbers."""

from __future__ import annotations

import csv
import io

import pytest

from relance.models import Customer

DANGEROUS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]


@pytest.mark.parametrize("name", DANGEROUS)
def test_the_customers_export_neutralises_a_formula_in_a_name(world, name):
    Customer.objects.filter(pk=world.customers["dupont"].pk).update(name=name, segment=name)
    response = world.client("admin").get("/customers/export.csv")
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    [dupont] = [r for r in rows if r[1] == "A1"]
    assert dupont[2] == dupont[3] == "'" + name
    assert dupont[-2:] == ["EUR 1550.00", "EUR 1250.00"]
    assert name not in body.replace("'" + name, "")  # nowhere as it was


def test_the_kpi_export_writes_amounts_as_numbers(world):
    body = world.client("admin").get("/analytics/kpis.csv").content.decode()
    lines = body.splitlines()
    assert lines[0].startswith('"currency","month"')
    last = [line for line in lines if "1550.00" in line][-1]
    assert last.startswith('"EUR","')
    assert ",1550.00," in last  # bare: a spreadsheet reads a number
