"""Broadcasts: one message to every customer of a segment, outside any plan. Each wave reaches a
customer once (its executions' unique keys); sending again is an explicit new wave."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relance.models.company import Company
from relance.models.plan import Plan


class Campaign(models.Model):
    """Who (`criteria`, the segment as the customers list filters it) and what (a library
    template, a plan step's text or its own subject and body) on which channel."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    criteria = models.JSONField(default=dict, blank=True)
    channel = models.CharField(max_length=6, default="email")
    template = models.CharField(max_length=100, blank=True)
    plan = models.ForeignKey(Plan, on_delete=models.SET_NULL, null=True, blank=True)
    step_name = models.CharField(max_length=200, blank=True)
    subject = models.TextField(blank=True)
    body = models.TextField(blank=True)
    counts_as_contact = models.BooleanField(
        default=True, help_text="Plans wait their minimum contact delay after it"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class Wave(models.Model):
    """One sending of a campaign: the first to the segment, later ones to everyone reached
    before or to those of them still in the segment. `sent_at` empty: scheduled, not yet out."""

    class Audience(models.TextChoices):
        SEGMENT = "segment", _("The segment")
        ALL = "all", _("Everyone reached before")
        MATCHING = "matching", _("Those reached before still in the segment")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="waves")
    number = models.PositiveIntegerField()
    audience = models.CharField(max_length=8, choices=Audience.choices)
    send_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    reached = models.PositiveIntegerField(default=0)
    unreachable = models.PositiveIntegerField(default=0)
    waiting = models.PositiveIntegerField(
        default=0, help_text="Customers left out: contacted too recently for the contact delay"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled = models.PositiveIntegerField(
        default=0, help_text="Messages kept from leaving when the wave was cancelled"
    )

    class Meta:
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="one_wave_per_number")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} wave {self.number}"
