"""What the customer portal stores: the one-time codes that re-issue an expired link."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from relance.models.customer import Customer


class PortalCode(models.Model):
    """A six-digit code emailed to a customer's contact to get a fresh portal link. Stored as a
    keyed hash, good for a few minutes and a few tries, used once."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "created_at"])]

    def __str__(self) -> str:
        return f"portal code for {self.customer_id} at {self.created_at:%Y-%m-%d %H:%M}"
