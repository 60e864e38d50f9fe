"""What the plans will do between two dates if nobody pays, promises or disputes (rule 9)."""

from __future__ import annotations

from datetime import date
from typing import Any

from relance.domain import engine
from relance.services import snapshots
from relance.services.cycle import plans_of


def forecast(
    start: date,
    end: date,
    *,
    company_id: int | None = None,
    customer_ids: list[int] | None = None,
    batch_size: int = 1000,
) -> list[dict[str, Any]]:
    """Forecast items of every customer with a plan, by date then customer."""
    plans = snapshots.PlanCache()
    items: list[engine.ForecastItem] = []
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
            _, plan, _ = plans.get(chosen)
            items += engine.forecast(plan, snap.account, snap.history, start, end)
    items.sort(key=lambda i: (i.date, i.customer, i.step_index))
    return [
        {
            "date": i.date.isoformat(),
            "customer": i.customer,
            "step": i.step,
            "step_index": i.step_index,
            "channel": i.channel,
            "reference_invoice": i.reference_invoice,
            "reason": i.reason,
        }
        for i in items
    ]
