from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SavedMapping(models.Model):
    """A company's own mapping of an export onto a ledger kind (domain/mappings), as YAML."""

    company = models.ForeignKey(
        "relance.Company", on_delete=models.CASCADE, related_name="saved_mappings"
    )
    name = models.SlugField(
        max_length=60, help_text=_("Lower-case letters, digits and dashes, e.g. sage-invoices.")
    )
    kind = models.CharField(max_length=20)
    yaml = models.TextField(help_text=_("The mapping, as YAML."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "name"], name="saved_mapping_name_per_company"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"
