"""Ledger files imported from the staff app, each run as a background job (services/ledger/
import_jobs.py): who sent which file, how far the job got, what it found, and what undoing it
would delete."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from relance.models.company import Company


class ImportJob(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Columns being chosen"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        UNDONE = "undone", "Undone"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, help_text="customers, contacts, invoices…")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(max_length=255, help_text="As sent, for display only")
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    stored_file = models.CharField(
        max_length=200, blank=True, help_text="Under RELANCE_IMPORT_DIR; empty once deleted"
    )
    options = models.JSONField(
        default=dict, blank=True, help_text="How to read the file: format, mapping, sheet…"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    dry_run = models.BooleanField(default=True)
    checked_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The dry run of the same file this import followed",
    )
    bytes_read = models.BigIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="The first 1,000 problems")
    invited_users = models.JSONField(default=list, blank=True)
    plan_changes = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Customers whose plan the import changes (or would, for a check): the first 1,000"
        ),
    )
    plan_change_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, help_text="Why the job failed, for the user")
    undo = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            "What undo needs: the ids above which rows are the import's, and the former values "
            "of the rows it changed"
        ),
    )
    queued_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-queued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_import_per_company",
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.kind} {self.file_name} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status not in (*self.ACTIVE, self.Status.DRAFT)
