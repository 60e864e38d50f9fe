"""Celery tasks: thin wrappers over the cycle, outbox and scheduling services."""

from __future__ import annotations

from datetime import date
from typing import Any

from relance.tasks.celery import app


@app.task(name="relance.tasks.cycle.process_batch")
def process_batch(
    customer_ids: list[int], day: str, dry_run: bool, run_id: int | None
) -> dict[str, Any]:
    from relance.services.dunning import cycle

    report = cycle.process_batch(
        customer_ids, date.fromisoformat(day), dry_run=dry_run, run_id=run_id
    )
    return report.as_json()


@app.task(name="relance.tasks.cycle.deliver_outbox")
def deliver_outbox(day: str | None = None) -> dict[str, str]:
    from relance.services.dunning.outbox import deliver_due

    return deliver_due(as_of=date.fromisoformat(day) if day else None).statuses


@app.task(name="relance.tasks.cycle.deliver_webhooks")
def deliver_webhooks(company_id: int, budget_seconds: float = 5.0) -> dict[str, int]:
    """One company's webhook deliveries that are due (the staff app's "Retry now" queues it):
    never another company's, and no new post once `budget_seconds` are spent; the tick does the
    rest. Without a broker no one queues it: services.dunning.run.InProcess posts in the request."""
    from relance.services.integrations import webhooks

    return webhooks.deliver_due(company_id=company_id, budget_seconds=budget_seconds)


@app.task(name="relance.tasks.cycle.tick")
def tick() -> str | None:
    from relance.services.dunning.scheduling import tick as run_tick

    report = run_tick()
    return report.date.isoformat() if report else None
