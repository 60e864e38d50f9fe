from __future__ import annotations

from django.db import models
from django.utils import timezone

from relance.models.company import Company

EVENT_TYPES = (
    "reminder.sent",
    "action.created",
    "payment.received",
    "promise.created",
    "promise.broken",
    "dispute.opened",
    "dispute.resolved",
)


class WebhookEndpoint(models.Model):
    """A URL of the company's that is told about the events it subscribed to."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="Event types sent to this URL")
    secret = models.CharField(max_length=64, help_text="Signs each delivery (HMAC-SHA256)")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["company", "url"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint, written in the transaction that made the event happen and
    posted afterwards, retried with backoff until the endpoint answers 2xx."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        DEAD = "dead"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(max_length=300, help_text="Same id on every try of one event")
    event_type = models.CharField(max_length=30)
    payload = models.JSONField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="one_delivery_per_event")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
