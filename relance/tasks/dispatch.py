"""Running a cycle in this process or fanned out over Celery workers, with the same result."""

from __future__ import annotations

from datetime import date

from django.conf import settings

from relance.services.dunning import cycle, triage


def asynchronous() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def run_cycle(
    day: date,
    *,
    dry_run: bool = False,
    company_id: int | None = None,
    batch_size: int = 1000,
    source: str = "cli",
) -> cycle.CycleReport:
    """In-process without a broker; otherwise one Celery task per batch, results merged."""
    if not asynchronous():
        return cycle.run_cycle(
            day, dry_run=dry_run, company_id=company_id, batch_size=batch_size, source=source
        )
    from celery import group

    from relance.tasks.cycle import deliver_outbox, process_batch

    run = cycle.start_run(day, dry_run=dry_run, source=source, company_id=company_id)
    batches = triage.in_batches(triage.customers_to_look_at(day, company_id), batch_size)
    results = group(
        process_batch.s(b, day.isoformat(), dry_run, run.pk if run else None) for b in batches
    ).apply_async()
    report = cycle.CycleReport(day)
    for part in results.get(disable_sync_subtasks=False):
        report.actions += part["actions"]
        report.skipped += part["skipped"]
    cycle.finish_run(run, report)
    if not dry_run:
        deliver_outbox.delay(day.isoformat())
    return report
