"""The KPIs of DESIGN §5 for a period [from, to], per currency: DSO, best-possible DSO, ADD, CEI
and the aging at `to`, from the set-based figures of services.ledger.receivables (one query each for
the end of the period and for the day before it), computed in Decimal and rounded to one decimal
(half-even) only for output. `relance kpi` prints them in DESIGN §4's JSON."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from relance.domain.errors import Refusal
from relance.domain.money import format_amount, parse_amount
from relance.models import Allocation, Company, Customer, Dispute, Payment, Promise
from relance.services.ledger import receivables
from relance.services.ledger.receivables import BUCKETS, Figures

ONE_DECIMAL = Decimal("0.1")


class KpiError(Refusal, ValueError):
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
    start: date,
    end: date,
    companies: list[Company],
    currency: str | None = None,
    *,
    more: bool = False,
) -> dict[str, Any]:
    """The KPIs in one currency: the one asked, else the only one there is, else the companies'
    own when they share it. With `more`, the measures beyond DESIGN §4's object too."""
    found = kpis(start, end, companies)
    if currency is None:
        books = {c.currency for c in companies}
        if len(found) == 1:
            currency = next(iter(found))
        elif len(books) == 1:
            currency = books.pop()
        else:
            raise KpiError("several currencies: choose one with --currency", field="currency")
    currency = currency.upper()
    result = found.get(currency) or _nothing(start, end, currency)
    if not more:
        return result
    aging = [parse_amount(v, currency) for v in result["aging"].values()]
    owed = sum(aging, Decimal(0))
    current = _rounded(aging[0] / owed * 100) if owed > 0 else None
    return {**result, "percent_current": current, **measures(start, end, companies, currency)}


def _weighted_days(rows: Any, day_of: str, amounts: Decimal) -> Decimal:
    """Σ amount x day, with days as ordinals, from rows already summed per day in SQL."""
    return sum((r["s"] * r[day_of].toordinal() for r in rows), Decimal(0)) / amounts


def measures(
    start: date,
    end: date,
    companies: list[Company],
    currency: str,
    customers: QuerySet[Customer] | None = None,
) -> dict[str, Any]:
    """What a team watches beside DESIGN §5's ratios, for the period and currency (and, when
    given, only these customers, as the Analytics page filters them):
    - weighted days to pay: the days from issue to payment of what payments of the period
      settled, weighted by the amount each settled (and weighted days late, from the due date);
    - promise-kept rate: of the promises due in the period and settled one way or the other, the
      share kept;
    - dispute resolution days: the mean days from opening to resolution of the disputes resolved
      in the period;
    - cash collected: the payments dated in the period.
    Each is a few grouped queries: amounts are summed per day in SQL and weighted here, which
    no date arithmetic portable between SQLite and PostgreSQL could do in the query."""
    whose = Q() if customers is None else Q(customer__in=customers)
    paid = Allocation.objects.filter(
        payment__isnull=False,
        payment__date__range=(start, end),
        invoice__company__in=companies,
        invoice__currency=currency,
    )
    if customers is not None:
        paid = paid.filter(invoice__customer__in=customers)
    amount = paid.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    days_to_pay = days_late = None
    if amount > 0:
        paid_on = _weighted_days(paid.values("date").annotate(s=Sum("amount")), "date", amount)
        issued = paid.values("invoice__issue_date").annotate(s=Sum("amount"))
        due = paid.values("invoice__due_date").annotate(s=Sum("amount"))
        days_to_pay = paid_on - _weighted_days(issued, "invoice__issue_date", amount)
        days_late = paid_on - _weighted_days(due, "invoice__due_date", amount)
    settled = dict(
        Promise.objects.filter(
            whose,
            company__in=companies,
            pay_by__range=(start, end),
            status__in=[Promise.Status.KEPT, Promise.Status.BROKEN],
            invoices__currency=currency,
        )
        .values("status")
        .annotate(n=Count("pk", distinct=True))
        .values_list("status", "n")
    )
    promised = sum(settled.values())
    resolved = Dispute.objects.filter(
        whose, company__in=companies, resolved_on__range=(start, end), invoice__currency=currency
    )
    count = resolved.count()
    resolution = None
    if count:
        ends = resolved.values("resolved_on").annotate(s=Count("pk"))
        starts = resolved.values("opened_on").annotate(s=Count("pk"))
        resolution = _weighted_days(ends, "resolved_on", Decimal(count)) - _weighted_days(
            starts, "opened_on", Decimal(count)
        )
    cash = Payment.objects.filter(
        whose, company__in=companies, currency=currency, date__range=(start, end)
    ).aggregate(s=Sum("amount"))
    return {
        "weighted_days_to_pay": _rounded(days_to_pay),
        "weighted_days_late": _rounded(days_late),
        "promise_kept_rate": (
            _rounded(Decimal(settled.get(Promise.Status.KEPT, 0)) / promised * 100)
            if promised
            else None
        ),
        "promises_settled": promised,
        "dispute_resolution_days": _rounded(resolution),
        "disputes_resolved": count,
        "cash_collected": format_amount(cash["s"] or Decimal(0), currency),
    }


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
