"""The go-live projection kept per company (services/dunning/golive_jobs.py): the first cycle
over a large ledger takes as long as a cycle, so the page computes it in the background and
shows it again while nothing changed (same policy, date, day and ledger fingerprint)."""

from __future__ import annotations

from django.db import models

from relance.models.company import Company


class GoLiveProjection(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+")
    policy = models.CharField(max_length=20)
    before = models.DateField(null=True, blank=True)
    day = models.DateField()
    fingerprint = models.CharField(
        max_length=200, help_text="Changes when the ledger or the plans change"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.company_id} {self.policy} {self.day} {self.status}"
