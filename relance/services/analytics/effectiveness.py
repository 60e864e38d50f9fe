"""Which steps bring cash in: for the steps executed in a period, grouped by plan step (or by
channel, owner, sales rep or segment), how many ran, what their reference invoices still owed
when they ran, how much of it was paid within 7, 14 and 30 days after, the median days from the
step to the first payment, and how often the customer answered (opened their portal, promised or
disputed) within 14 days. Per currency: amounts of different currencies are never added.

Set-based: one query with correlated subqueries per execution over the reference invoice's
allocations and the customer's events, grouped in SQL; only the median is taken in Python, from
one value per execution that was paid.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)

from relance.models import Event, Execution
from relance.models.documents import allocated, amount_due_expression
from relance.services.sql import day_of, summed

WINDOWS = (7, 14, 30)
ANSWER_DAYS = 14
GROUPS = {
    "step": ("plan_code", "step_name", "channel"),
    "channel": ("channel",),
    "owner": ("customer__owner__email",),
    "sales_rep": ("customer__sales_rep__email",),
    "segment": ("customer__segment",),
    "variant": ("plan_code", "step_name", "variant"),  # steps under an A/B test, side by side
}
ZERO = Decimal(0)


@dataclass
class Row:
    group: tuple[str, ...]
    currency: str
    executions: int = 0
    owed: Decimal = ZERO
    paid: dict[int, Decimal] = field(default_factory=dict)  # window days -> amount
    answered: int = 0
    median_days: float | None = None

    def share(self, days: int) -> Decimal | None:
        return self.paid.get(days, ZERO) / self.owed * 100 if self.owed > 0 else None

    @property
    def answer_rate(self) -> Decimal | None:
        return Decimal(self.answered) / self.executions * 100 if self.executions else None


def _days_after(days: int) -> Any:
    """The execution's date plus `days`, as the database compares it with a date."""
    return ExpressionWrapper(OuterRef("date") + timedelta(days=days), output_field=DateField())


def _paid_within(days: int) -> Any:
    """What was allocated to the reference invoice in the `days` after the step."""
    return allocated(
        OuterRef("reference_invoice_id"), after=OuterRef("date"), until=_days_after(days)
    )


def measure(executions: QuerySet[Execution], by: str = "step") -> list[Row]:
    """The effectiveness rows of these executions (those with a reference invoice); by
    "variant", only the steps under an A/B test, one row per side."""
    keys = GROUPS[by]
    answered = Exists(
        Event.objects.filter(
            customer_id=OuterRef("customer_id"),
            kind__in=["portal.visited", "promise.created", "dispute.opened"],
            at__date__gte=OuterRef("date"),
            at__date__lte=_days_after(ANSWER_DAYS),
        )
    )
    if by == "variant":
        executions = executions.exclude(variant="")
    scoped = executions.filter(reference_invoice__isnull=False).annotate(
        currency=F("reference_invoice__currency"),
        owed_now=amount_due_expression(
            OuterRef("reference_invoice_id"),
            as_of=OuterRef("date"),
            total="reference_invoice__total",
        ),
        answered=answered,
        **{f"paid_{d}": _paid_within(d) for d in WINDOWS},
    )
    grouped = (
        scoped.values(*keys, "currency")
        .annotate(
            n=Count("pk"),
            owed=Sum("owed_now"),
            answers=Count("pk", filter=Q(answered=True)),
            **{f"p{d}": Sum(f"paid_{d}") for d in WINDOWS},
        )
        .order_by(*keys, "currency")
    )
    rows: dict[tuple[Any, ...], Row] = {}
    for found in grouped:
        group = tuple(str(found[k] or "") for k in keys)
        rows[(*group, found["currency"])] = Row(
            group,
            found["currency"],
            found["n"],
            summed(found["owed"]),
            {d: summed(found[f"p{d}"]) for d in WINDOWS},
            found["answers"],
        )
    first_paid = scoped.annotate(
        first=Min(
            "reference_invoice__allocations__date",
            filter=Q(reference_invoice__allocations__date__gt=F("date")),
        )
    ).filter(first__isnull=False)
    days: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for *group, currency, ran, first in first_paid.values_list(*keys, "currency", "date", "first"):
        days[(*(str(g or "") for g in group), currency)].append((day_of(first) - day_of(ran)).days)
    for key, values in days.items():
        if key in rows:
            rows[key].median_days = float(statistics.median(values))
    return list(rows.values())
