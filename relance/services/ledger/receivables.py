"""Receivables as a finance team reads them (DESIGN §5): what is owed at the end of a day, how
much of it is not yet due, its aging, credit sales over the period, and DSO, best-possible DSO
and ADD, per currency (amounts of different currencies are never added).

Each figure is one set-based query over the invoices, whatever their number. For a whole company
they are stored per day (DailyFigures) so a dashboard does not sum a million invoices per view;
a sales rep's, over their own customers only, are small enough to compute each time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction

from relance.models import Company, DailyFigures
from relance.models.documents import amount_due_sql, still_owed_sql
from relance.services.sql import sqlite_amount

#: Aging buckets by days past due (DESIGN §5), with their first and last day late (None: open).
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("120+", 121, None),
)
PERIOD_DAYS = 90
ZERO = Decimal(0)
_PLACES = Decimal("0.0001")


@dataclass
class Figures:
    currency: str
    receivables: Decimal = ZERO
    current: Decimal = ZERO
    aging: dict[str, Decimal] = field(default_factory=dict)
    credit_sales: Decimal = ZERO
    period_days: int = PERIOD_DAYS

    @property
    def overdue(self) -> Decimal:
        return self.receivables - self.current

    def _days(self, amount: Decimal) -> Decimal | None:
        if self.credit_sales <= 0:
            return None  # no sales in the period: DSO means nothing
        return amount / self.credit_sales * self.period_days

    @property
    def dso(self) -> Decimal | None:
        return self._days(self.receivables)

    @property
    def best_dso(self) -> Decimal | None:
        return self._days(self.current)

    @property
    def add(self) -> Decimal | None:
        dso, best = self.dso, self.best_dso
        return None if dso is None or best is None else dso - best

    def __add__(self, other: Figures) -> Figures:
        if other.currency != self.currency or other.period_days != self.period_days:
            raise ValueError("figures of different currencies or periods do not add up")
        aging = defaultdict(Decimal, self.aging)
        for bucket, amount in other.aging.items():
            aging[bucket] += amount
        return Figures(
            self.currency,
            self.receivables + other.receivables,
            self.current + other.current,
            dict(aging),
            self.credit_sales + other.credit_sales,
            self.period_days,
        )


def _amount(value: Any) -> Decimal:
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value.quantize(_PLACES)
    return sqlite_amount(value)  # SQLite sums REALs


def _scope(company_id: int | None, customer_ids: Sequence[int] | None) -> tuple[str, list[Any]]:
    if customer_ids is not None:
        marks = ", ".join(["%s"] * len(customer_ids)) or "NULL"
        return f"customer_id IN ({marks})", list(customer_ids)
    return "company_id = %s", [company_id]


def compute(
    day: date,
    *,
    company_id: int | None = None,
    customer_ids: Sequence[int] | None = None,
    since: date | None = None,
) -> dict[str, Figures]:
    """Currency -> figures at the end of `day`, for a company or for some customers; credit sales
    over [since, day] (the PERIOD_DAYS days up to `day` by default)."""
    since = since or day - timedelta(days=PERIOD_DAYS - 1)
    period_days = (day - since).days + 1
    where, scope = _scope(company_id, customer_ids)
    d = connection.ops.adapt_datefield_value
    cases: list[str] = []
    bucket_params: list[Any] = []
    for (
        _,
        first,
        last,
    ) in BUCKETS:  # days late in [first, last] = due dates in [day-last, day-first]
        bound = " AND due_date >= %s" if last else ""
        cases.append(f"SUM(CASE WHEN due_date < %s{bound} THEN due END)")
        bucket_params.append(d(day - timedelta(days=first - 1)))
        if last:
            bucket_params.append(d(day - timedelta(days=last)))
    sql = f"""
        SELECT currency, SUM(due), SUM(CASE WHEN due_date >= %s THEN due END), {", ".join(cases)}
        FROM (
            SELECT i.currency, i.due_date, {amount_due_sql("i", as_of="%s")} AS due
            FROM relance_invoice i
            WHERE i.{where} AND i.status = 'open' AND i.issue_date <= %s
        ) owed
        WHERE {still_owed_sql("due")}
        GROUP BY currency
    """
    found: dict[str, Figures] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [d(day), *bucket_params, d(day), *scope, d(day)])
        for currency, receivables, current, *aging in cursor.fetchall():
            found[currency] = Figures(
                currency,
                _amount(receivables),
                _amount(current),
                {name: _amount(a) for (name, _, _), a in zip(BUCKETS, aging, strict=True)},
                period_days=period_days,
            )
        sales = f"""
            SELECT currency, SUM(total) FROM relance_invoice
            WHERE {where} AND status = 'open' AND issue_date >= %s AND issue_date <= %s
            GROUP BY currency
        """
        credit = f"""
            SELECT currency, -SUM(amount) FROM relance_creditnote
            WHERE {where} AND date >= %s AND date <= %s GROUP BY currency
        """
        for query in (sales, credit):
            cursor.execute(query, [*scope, d(since), d(day)])
            for currency, amount in cursor.fetchall():
                figures = found.setdefault(currency, Figures(currency, period_days=period_days))
                figures.credit_sales += _amount(amount)
    return found


def _from_row(row: DailyFigures) -> Figures:
    return Figures(
        row.currency,
        row.receivables,
        row.current,
        {k: Decimal(v) for k, v in row.aging.items()},
        row.credit_sales,
        row.period_days,
    )


def record(company: Company, day: date) -> dict[str, Figures]:
    """Compute the company's figures for `day` and store them (replacing those stored)."""
    figures = compute(day, company_id=company.pk)
    try:
        with transaction.atomic():
            DailyFigures.objects.filter(company=company, day=day).delete()
            DailyFigures.objects.bulk_create(
                DailyFigures(
                    company=company,
                    currency=f.currency,
                    day=day,
                    receivables=f.receivables,
                    current=f.current,
                    aging={k: str(v) for k, v in f.aging.items()},
                    credit_sales=f.credit_sales,
                    period_days=f.period_days,
                )
                for f in figures.values()
            )
    except IntegrityError:
        pass  # another request stored the same day's figures meanwhile: theirs are as good
    return figures


def of_day(company: Company, day: date) -> dict[str, Figures]:
    """The stored figures of that day, computed now if nobody asked for them yet."""
    rows = list(DailyFigures.objects.filter(company=company, day=day))
    if not rows and not DailyFigures.objects.filter(company=company, day=day).exists():
        return record(company, day)
    return {row.currency: _from_row(row) for row in rows}


def forget(company: Company, days: Iterable[date]) -> None:
    """The ledger changed: those days' stored figures are wrong now."""
    DailyFigures.objects.filter(company=company, day__in=list(days)).delete()


def trend(company_ids: Sequence[int], since: date) -> dict[str, list[tuple[date, Figures]]]:
    """Currency -> the stored figures of these companies added up per day, oldest first."""
    added: dict[tuple[str, date], Figures] = {}
    for row in DailyFigures.objects.filter(company_id__in=company_ids, day__gte=since):
        key = (row.currency, row.day)
        figures = _from_row(row)
        added[key] = added[key] + figures if key in added else figures
    found: dict[str, list[tuple[date, Figures]]] = defaultdict(list)
    for (currency, day), figures in sorted(added.items()):
        found[currency].append((day, figures))
    return dict(found)
