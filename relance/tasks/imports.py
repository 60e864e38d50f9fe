"""Celery tasks of the ledger imports sent from the staff app: thin wrappers over the service."""

from __future__ import annotations

from relance.tasks.celery import app


@app.task(name="relance.tasks.imports.run_import")
def run_import(job_id: int) -> str | None:
    from relance.services.ledger import import_jobs

    job = import_jobs.run(job_id)
    return job.status if job else None
