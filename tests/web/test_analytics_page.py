"""The Analytics page and its CSV: monthly KPIs of what the reader may see, filtered like the
customers list, in both languages."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.utils import timezone

from relance.models import Invoice


def test_the_page_shows_twelve_months_of_what_the_reader_sees(world):
    page = world.client("controller").get("/analytics/").content.decode()
    assert page.count("<tr><td>") == 12
    assert 'id="kpi-chart"' in page
    assert "€1,550.00" in page  # owed at the end of this month (Dupont's two invoices)


def test_the_csv_gives_the_same_months_in_the_contracts_form(world):
    rows = list(
        csv.DictReader(
            io.StringIO(world.client("admin").get("/analytics/kpis.csv").content.decode())
        )
    )
    assert len(rows) == 12
    this_month = timezone.localdate().strftime("%Y-%m")
    [last] = [r for r in rows if r["month"] == this_month]
    assert (last["currency"], last["receivables"]) == ("EUR", "1550.00")


def test_filters_and_isolation(world):
    other = world.client("controller").get(
        "/analytics/kpis.csv", {"rep": world.users["other_rep"].pk}
    )
    assert "1550.00" not in other.content.decode()  # Martin owes nothing
    Invoice.objects.create(
        company=world.beta,
        customer=world.customers["smith"],
        external_id="S1",
        number="S1",
        issue_date=timezone.localdate() - timedelta(days=5),
        due_date=timezone.localdate() + timedelta(days=25),
        currency="GBP",
        total="999.00",
    )
    assert "GBP" not in world.client("controller").get("/analytics/kpis.csv").content.decode()
    assert "999.00" in world.client("beta_admin").get("/analytics/kpis.csv").content.decode()
    theirs = world.client("rep").get("/analytics/kpis.csv", {"company": "beta"}).content.decode()
    assert "999.00" not in theirs  # another company is no choice of theirs: ignored
    assert "1550.00" in theirs  # their own customer's


def test_the_page_speaks_french(world):
    page = world.client("controller", "fr").get("/analytics/").content.decode()
    assert "Analyse" in page
    assert "1\u202f550,00\xa0€" in page
