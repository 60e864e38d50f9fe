from __future__ import annotations

from django.db import models
from django.utils import timezone

from relance.models.company import Company
from relance.models.customer import Customer


class ForecastEntry(models.Model):
    """A step the plans will run on a day if nobody pays, promises or disputes (DESIGN rule 9):
    the calendar's rows, stored because forecasting every customer per page view is too slow.
    Replaced for the whole company by the daily tick (services.calendar.refresh)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    plan_code = models.CharField(max_length=50)
    step = models.CharField(max_length=200)
    step_index = models.PositiveIntegerField()
    channel = models.CharField(max_length=6)
    reference = models.CharField(max_length=100, help_text="External id of the invoice")
    reason = models.TextField()
    reason_data = models.JSONField(
        default=list, blank=True, help_text="The reason's codes and parameters (domain.reasons)"
    )
    amounts = models.JSONField(
        default=dict, blank=True, help_text="What the step chases, per currency: {'EUR': '120.00'}"
    )
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day", "customer", "step_index"]
        indexes = [models.Index(fields=["company", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.step} for {self.customer_id}"
