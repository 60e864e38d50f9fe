"""What the plans will do between two dates if nobody pays, promises or disputes (rule 9)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from relance.domain import engine
from relance.services.dunning.plan_choice import plans_of
from relance.services.ledger import snapshots

Forecast = tuple[int, str, engine.ForecastItem]  # customer pk, plan code, what comes


def items(
    start: date,
    end: date,
    *,
    company_id: int | None = None,
    customer_ids: list[int] | None = None,
    batch_size: int = 1000,
) -> Iterator[Forecast]:
    """Every customer's forecast items, a batch of customers at a time."""
    plans = snapshots.PlanCache()
    batches = (
        [customer_ids]
        if customer_ids is not None
        else snapshots.customers_in_batches(start, batch_size, company_id)
    )
    for batch in batches:
        customers = snapshots.debtors(batch)
        snaps = snapshots.load(customers, start, history_days=plans.max_delay())
        plan_of = plans_of(snaps, plans, start)
        for snap in snaps:
            chosen = plan_of.get(snap.customer.pk)
            if chosen is None:
                continue
            row, plan, _ = plans.get(chosen)
            for item in engine.forecast(plan, snap.account, snap.history, start, end):
                yield snap.customer.pk, row.code, item


def forecast(
    start: date,
    end: date,
    *,
    company_id: int | None = None,
    customer_ids: list[int] | None = None,
    batch_size: int = 1000,
) -> list[dict[str, Any]]:
    """Forecast items of every customer with a plan, by date then customer."""
    found = [
        i
        for _, _, i in items(
            start, end, company_id=company_id, customer_ids=customer_ids, batch_size=batch_size
        )
    ]
    found.sort(key=lambda i: (i.date, i.customer, i.step_index))
    return [
        {
            "date": i.date.isoformat(),
            "customer": i.customer,
            "step": i.step,
            "step_index": i.step_index,
            "channel": i.channel,
            "reference_invoice": i.reference_invoice,
            "reason": i.reason,
            "reason_code": getattr(i.reason, "code", ""),
        }
        for i in found
    ]
