"""Monthly KPI trends (DESIGN §5) for the Analytics page, in four grouped queries whatever the
number of months: invoice totals by (issue date, due date), allocations by (the day they count
from, due date), credit notes and payments by date, per currency. Receivables and the part not
yet due at any day are then sums over those groups: receivables(d) = totals issued by d -
allocations counted by d (an allocation counts from its date, or the invoice's issue date if
later), current(d) the same over invoices due on or after d. The figures equal
services.receivables.compute's for each month (tested), at a fraction of twelve full passes.
"""

from __future__ import annotations

import calendar
import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Q, QuerySet

from relance.models import Company, Customer, Event
from relance.services.analytics import kpi
from relance.services.sql import day_of, summed

CACHE_SECONDS = 6 * 3600
ZERO = Decimal(0)
ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True)
class Month:
    start: date
    end: date
    receivables: Decimal
    current: Decimal
    credit_sales: Decimal
    opening: Decimal  # receivables the day before the month
    cash: Decimal = ZERO  # payments dated in the month

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def _ratio(self, amount: Decimal) -> Decimal | None:
        return amount / self.credit_sales * self.days if self.credit_sales > 0 else None

    @property
    def dso(self) -> Decimal | None:
        return self._ratio(self.receivables)

    @property
    def best_dso(self) -> Decimal | None:
        return self._ratio(self.current)

    @property
    def add(self) -> Decimal | None:
        dso, best = self.dso, self.best_dso
        return None if dso is None or best is None else dso - best

    @property
    def cei(self) -> Decimal | None:
        collectable = self.opening + self.credit_sales
        denominator = collectable - self.current
        if denominator <= 0:
            return None
        return (collectable - self.receivables) / denominator * 100

    @property
    def percent_current(self) -> Decimal | None:
        return self.current / self.receivables * 100 if self.receivables > 0 else None

    def shown(self) -> dict[str, Any]:
        def one(value: Decimal | None) -> float | None:
            return None if value is None else float(value.quantize(ONE_DECIMAL, ROUND_HALF_EVEN))

        return {
            "month": self.start.strftime("%Y-%m"),
            "dso": one(self.dso),
            "best_possible_dso": one(self.best_dso),
            "add": one(self.add),
            "cei": one(self.cei),
            "percent_current": one(self.percent_current),
            "receivables": self.receivables,
            "overdue": self.receivables - self.current,
            "credit_sales": self.credit_sales,
            "cash_collected": self.cash,
        }


def cached_monthly(
    scope: tuple[str, list[Any]], months: list[tuple[date, date]]
) -> dict[str, list[Month]]:
    """`monthly`, kept in the cache until the ledger changes: a twelve-month trend over a million
    invoices takes seconds (3.1 s measured), and past months only change when imports or payments
    arrive, which the key follows (the newest such event)."""
    return _cached("monthly", (scope, months), lambda: monthly(scope, months))


def cached_measures(
    start: date,
    end: date,
    companies: list[Company],
    currency: str,
    customers: QuerySet[Customer],
) -> dict[str, Any]:
    """kpi.measures for these customers, kept like the trend (1.3 s a currency on a million
    invoices), and also until a promise or dispute is made or settled, or the day changes."""
    sql, params = customers.order_by().values("pk").query.sql_with_params()
    parts = (start, end, sorted(c.pk for c in companies), currency, sql, params)
    return _cached(
        "measures",
        parts,
        lambda: kpi.measures(start, end, companies, currency, customers),
        also=Q(kind__startswith="promise.") | Q(kind__startswith="dispute."),
    )


def _cached(name: str, parts: Any, compute: Callable[[], Any], also: Q | None = None) -> Any:
    """`compute()`'s result, cached under `parts` and the newest event that changes the ledger
    (an import or an online payment, or those of `also`)."""
    kinds = Q(kind__startswith="import.") | Q(kind="payment.received")
    changed = Event.objects.filter(kinds | also if also else kinds).aggregate(last=Max("pk"))
    digest = hashlib.sha256(repr((parts, changed["last"])).encode()).hexdigest()
    key = f"analytics:{name}:{digest}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, CACHE_SECONDS)
    return found


def months_until(today: date, count: int) -> list[tuple[date, date]]:
    """The last `count` calendar months up to and including today's (cut at today)."""
    found = []
    year, month = today.year, today.month
    for _ in range(count):
        last = calendar.monthrange(year, month)[1]
        found.append((date(year, month, 1), min(date(year, month, last), today)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(found))


def monthly(
    scope: tuple[str, list[Any]], months: list[tuple[date, date]]
) -> dict[str, list[Month]]:
    """Currency -> the months' figures over the invoices `scope` selects (SQL on table alias
    `i`, e.g. ("i.company_id IN (%s)", [1]))."""
    where, params = scope
    last = max(end for _, end in months)
    d = connection.ops.adapt_datefield_value
    later = "CASE WHEN a.date > i.issue_date THEN a.date ELSE i.issue_date END"
    totals: dict[str, list[tuple[date, date, Decimal]]] = defaultdict(list)
    paid: dict[str, list[tuple[date, date, Decimal]]] = defaultdict(list)
    credits: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    payments: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT i.currency, i.issue_date, i.due_date, SUM(i.total)
                FROM relance_invoice i
                WHERE {where} AND i.status = 'open' AND i.issue_date <= %s
                GROUP BY i.currency, i.issue_date, i.due_date""",
            [*params, d(last)],
        )
        for currency, issued, due, amount in cursor.fetchall():
            totals[currency].append((day_of(issued), day_of(due), summed(amount)))
        cursor.execute(
            f"""SELECT i.currency, {later}, i.due_date, SUM(a.amount)
                FROM relance_allocation a JOIN relance_invoice i ON i.id = a.invoice_id
                WHERE {where} AND i.status = 'open' AND a.date <= %s
                GROUP BY i.currency, {later}, i.due_date""",
            [*params, d(last)],
        )
        for currency, counted, due, amount in cursor.fetchall():
            paid[currency].append((day_of(counted), day_of(due), summed(amount)))
        cursor.execute(
            f"""SELECT i.currency, i.date, SUM(i.amount) FROM relance_creditnote i
                WHERE {where} AND i.date <= %s GROUP BY i.currency, i.date""",
            [*params, d(last)],
        )
        for currency, day, amount in cursor.fetchall():
            credits[currency].append((day_of(day), summed(amount)))
        cursor.execute(
            f"""SELECT i.currency, i.date, SUM(i.amount) FROM relance_payment i
                WHERE {where} AND i.date >= %s AND i.date <= %s GROUP BY i.currency, i.date""",
            [*params, d(min(start for start, _ in months)), d(last)],
        )
        for currency, day, amount in cursor.fetchall():
            payments[currency].append((day_of(day), summed(amount)))

    def owed(currency: str, day: date, not_due: bool) -> Decimal:
        issued = sum(
            (a for i, due, a in totals[currency] if i <= day and (not not_due or due >= day)),
            ZERO,
        )
        settled = sum(
            (a for c, due, a in paid[currency] if c <= day and (not not_due or due >= day)),
            ZERO,
        )
        return issued - settled

    found: dict[str, list[Month]] = {}
    for currency in sorted(set(totals) | set(credits) | set(payments)):
        rows = []
        for start, end in months:
            sales = sum((a for i, _due, a in totals[currency] if start <= i <= end), ZERO)
            sales -= sum((a for day, a in credits[currency] if start <= day <= end), ZERO)
            rows.append(
                Month(
                    start,
                    end,
                    owed(currency, end, False),
                    owed(currency, end, True),
                    sales,
                    owed(currency, date.fromordinal(start.toordinal() - 1), False),
                    sum((a for day, a in payments[currency] if start <= day <= end), ZERO),
                )
            )
        found[currency] = rows
    return found
