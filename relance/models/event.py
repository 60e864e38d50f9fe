from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone

from relance.domain.errors import RelanceError


class AppendOnly(RelanceError):
    """The event log is evidence of what happened: it is never rewritten."""


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnly("events cannot be updated")

    def delete(self) -> NoReturn:
        raise AppendOnly("events cannot be deleted")


class Event(models.Model):
    """Who did what, when, on which customer or invoice: the raw material of timelines."""

    company = models.ForeignKey("relance.Company", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        "relance.Customer", on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    invoice = models.ForeignKey(
        "relance.Invoice", on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    source = models.CharField(max_length=50, help_text="cli, web, api, system…")
    kind = models.CharField(max_length=60, db_index=True)
    data = models.JSONField(default=dict, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnly("events cannot be changed once written")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnly("events cannot be deleted")
