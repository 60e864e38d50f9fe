"""Celery tasks of the ledger imports sent from the staff app: thin wrappers over the service."""

from __future__ import annotations

from relance.tasks.celery import app


@app.task(name="relance.tasks.imports.run_import")
def run_import(job_id: int) -> str | None:
    from relance.services.ledger import import_jobs

    job = import_jobs.run(job_id)
    return job.status if job else None


@app.task(name="relance.tasks.imports.project_golive")
def project_golive(company_id: int) -> None:
    """The go-live projection of a company (services.dunning.golive_jobs), kept for its page."""
    from relance.services.dunning import golive_jobs

    golive_jobs.compute(company_id)
