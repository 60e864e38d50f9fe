"""Monthly trends equal the KPIs computed month by month (services.ledger.receivables and
services.analytics.kpi), on the hand-computed ledger and on a generated one."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from test_kpi import books  # noqa: F401  (the hand-computed ledger)

from relance.domain.money import format_amount
from relance.models import Customer
from relance.services.analytics import kpi, trends
from relance.services.ledger import receivables


def _scope(company):
    return ("i.company_id = %s", [company.pk])


def test_january_as_computed_by_hand(books):  # noqa: F811
    [(start, end)] = [(date(2026, 1, 1), date(2026, 1, 31))]
    eur = trends.monthly(_scope(books), [(start, end)])["EUR"][0]
    assert (eur.receivables, eur.current, eur.credit_sales, eur.opening) == (
        Decimal("1400.00"),
        Decimal("600.00"),
        Decimal("800.00"),
        Decimal("1000.00"),
    )
    shown = eur.shown()
    assert (shown["dso"], shown["best_possible_dso"], shown["add"], shown["cei"]) == (
        54.2,
        23.2,
        31.0,
        33.3,
    )
    assert (shown["percent_current"], shown["cash_collected"]) == (42.9, Decimal("400.00"))


def test_every_month_equals_the_figures_computed_for_it_alone(books):  # noqa: F811
    """Against services.ledger.receivables: a full pass per month (and the day before for the
    CEI)."""
    months = trends.months_until(date(2026, 3, 15), 5)
    assert months[0] == (date(2025, 11, 1), date(2025, 11, 30))
    assert months[-1] == (date(2026, 3, 1), date(2026, 3, 15))
    trend = trends.monthly(_scope(books), months)
    for n, (start, end) in enumerate(months):
        figures = receivables.compute(end, company_id=books.pk, since=start)
        before = receivables.compute(start - timedelta(days=1), company_id=books.pk)
        for currency, f in figures.items():
            month = trend[currency][n]
            assert (month.dso, month.best_dso, month.add) == (f.dso, f.best_dso, f.add)
            opening = before[currency].receivables if currency in before else Decimal(0)
            assert month.opening == opening


def test_a_generated_ledger_agrees_month_by_month(db, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scenarios"))
    from scenario_support import build_ledger

    build_ledger(60, tmp_path / "csv", seed=3)
    company = Customer.objects.first().company
    months = trends.months_until(date(2026, 11, 23), 6)
    trend = trends.monthly(_scope(company), months)
    for n, (start, end) in enumerate(months):
        figures = receivables.compute(end, company_id=company.pk, since=start)
        for currency, f in figures.items():
            assert trend[currency][n].receivables == f.receivables, (start, currency)
            assert trend[currency][n].current == f.current, (start, currency)
            assert trend[currency][n].credit_sales == f.credit_sales, (start, currency)
            more = kpi.report(start, end, [company], currency, more=True)
            shown = trend[currency][n].shown()
            assert format_amount(shown["cash_collected"], currency) == more["cash_collected"]
            assert shown["percent_current"] == more["percent_current"], (start, currency)


def test_the_trend_is_kept_until_the_ledger_changes(books):  # noqa: F811
    from relance.models import Event, Invoice

    months = trends.months_until(date(2026, 1, 31), 1)
    first = trends.cached_monthly(_scope(books), months)
    Invoice.objects.filter(external_id="B").update(total=Decimal("700.00"))
    assert trends.cached_monthly(_scope(books), months) == first  # kept
    Event.objects.create(company=books, source="csv", kind="import.invoices")
    again = trends.cached_monthly(_scope(books), months)
    assert again["EUR"][0].credit_sales == first["EUR"][0].credit_sales + 100
