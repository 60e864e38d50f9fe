"""The KPIs of DESIGN §5 for a period [from, to], per currency: DSO, best-possible DSO, ADD, CEI
and the aging at `to`, from the set-based figures of services.receivables (one query each for
the end of the period and for the day before it), computed in Decimal and rounded to one decimal
(half-even) only for output. `relance kpi` prints them in DESIGN §4's JSON."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from relance.domain.money import format_amount
from relance.models import Company
from relance.services import receivables
from relance.services.receivables import BUCKETS, Figures

ONE_DECIMAL = Decimal("0.1")


class KpiError(ValueError):
    """The period or currency asked for makes no sense (the message says why)."""


def _figures(day: date, since: date, companies: list[Company]) -> dict[str, Figures]:
    total: dict[str, Figures] = {}
    for company in companies:
        for currency, figures in receivables.compute(
            day, company_id=company.pk, since=since
        ).items():
            total[currency] = total[currency] + figures if currency in total else figures
    return total


def _rounded(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(ONE_DECIMAL, ROUND_HALF_EVEN))


def kpis(start: date, end: date, companies: list[Company]) -> dict[str, dict[str, Any]]:
    """Currency -> the DESIGN §4 object for the period."""
    if end < start:
        raise KpiError(f"the period ends ({end}) before it starts ({start})")
    at_end = _figures(end, start, companies)
    before = _figures(start - timedelta(days=1), start - timedelta(days=1), companies)
    found: dict[str, dict[str, Any]] = {}
    for currency in sorted(set(at_end) | set(before)):
        figures = at_end.get(currency) or Figures(currency, period_days=(end - start).days + 1)
        opening = before[currency].receivables if currency in before else Decimal(0)
        collectable = opening + figures.credit_sales
        denominator = collectable - figures.current
        cei = (collectable - figures.receivables) / denominator * 100 if denominator > 0 else None
        aging = {"current": figures.current}
        aging.update({name: figures.aging.get(name, Decimal(0)) for name, _, _ in BUCKETS})
        found[currency] = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "currency": currency,
            "dso": _rounded(figures.dso),
            "best_possible_dso": _rounded(figures.best_dso),
            "add": _rounded(figures.add),
            "cei": _rounded(cei),
            "aging": {bucket: format_amount(amount, currency) for bucket, amount in aging.items()},
        }
    return found


def report(
    start: date, end: date, companies: list[Company], currency: str | None = None
) -> dict[str, Any]:
    """The KPIs in one currency: the one asked, else the only one there is, else the companies'
    own when they share it."""
    found = kpis(start, end, companies)
    if currency is None:
        books = {c.currency for c in companies}
        if len(found) == 1:
            currency = next(iter(found))
        elif len(books) == 1:
            currency = books.pop()
        else:
            raise KpiError("several currencies: choose one with --currency")
    currency = currency.upper()
    return found.get(currency) or _nothing(start, end, currency)


def _nothing(start: date, end: date, currency: str) -> dict[str, Any]:
    """A currency nothing was sold or owed in: no ratio, empty aging."""
    zero = format_amount(Decimal(0), currency)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "currency": currency,
        "dso": None,
        "best_possible_dso": None,
        "add": None,
        "cei": None,
        "aging": dict.fromkeys(["current", *(name for name, _, _ in BUCKETS)], zero),
    }
