"""The cycle fanned out over Celery workers: one task per batch, the reports merged.

Named by the setting RELANCE_CYCLE_EXECUTOR when a broker is set (services.dunning.run says why
a setting); `run` there opens and closes the Run around it.
"""

from __future__ import annotations

from datetime import date

from celery import group

from relance.services.dunning import triage
from relance.services.dunning.batches import CycleReport
from relance.services.dunning.run import Cycled
from relance.tasks.cycle import deliver_outbox, deliver_webhooks, process_batch
from relance.tasks.imports import project_golive, run_import


class OverCelery:
    """Batches and deliveries are tasks; this process only waits for the batches' reports."""

    def cycle(
        self,
        day: date,
        *,
        company_id: int | None,
        dry_run: bool,
        run_id: int | None,
        batch_size: int,
    ) -> Cycled:
        batches = triage.in_batches(triage.customers_to_look_at(day, company_id), batch_size)
        results = group(
            process_batch.s(b, day.isoformat(), dry_run, run_id) for b in batches
        ).apply_async()
        report = CycleReport(day)
        for part in results.get(disable_sync_subtasks=False):
            report.actions += part["actions"]
            report.skipped += part["skipped"]
        return Cycled(report, 1)

    def deliver(self, day: date) -> None:
        """A worker delivers: what the messages became is not known when the report prints."""
        deliver_outbox.delay(day.isoformat())

    def deliver_webhooks(self, company_id: int) -> None:
        deliver_webhooks.delay(company_id)


class ImportOverCelery:
    """An import job is a task: a worker reads the stored file (RELANCE_IMPORT_DIR must be the
    same folder for the web servers and the workers)."""

    def start(self, job_id: int) -> None:
        run_import.delay(job_id)


class GoLiveOverCelery:
    """A go-live projection is a task: the page polls until a worker has kept it."""

    def start(self, company_id: int) -> None:
        project_golive.delay(company_id)
