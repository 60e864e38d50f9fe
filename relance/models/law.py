from __future__ import annotations

from django.db import models


class ReferenceRate(models.Model):
    """A central bank's reference rate from a date on (DESIGN §6), editable by the user: the
    published rates up to the release are loaded by a migration, newer ones are added."""

    class Source(models.TextChoices):
        ECB = "ECB", "ECB main refinancing operations"
        BOE = "BOE", "Bank of England base rate"
        FR_LEGAL = "FR_LEGAL", "French legal interest rate (professionals)"

    source = models.CharField(max_length=8, choices=Source.choices)
    since = models.DateField()
    percent = models.DecimalField(max_digits=7, decimal_places=4)

    class Meta:
        ordering = ["source", "since"]
        constraints = [
            models.UniqueConstraint(fields=["source", "since"], name="one_rate_per_source_and_day")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.percent}% from {self.since}"
