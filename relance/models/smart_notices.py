"""Notices sent when a customer's situation crosses a line (credit limit, card expiry): one row
per notice while the situation lasts, so it is sent once, not daily, and again only after the
situation has cleared and come back."""

from __future__ import annotations

from django.db import models

from relance.models.customer import Customer


class SmartNotice(models.Model):
    class Kind(models.TextChoices):
        CREDIT_HIGH = "credit_high"  # balance at or above the company's share of the limit
        CREDIT_EXCEEDED = "credit_over"  # balance above the limit
        CARD_EXPIRY = "card_expiry"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=11, choices=Kind.choices)
    about = models.CharField(max_length=20, blank=True, help_text="e.g. the card's expiry month")
    sent_on = models.DateField()
    cleared_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "about"],
                condition=models.Q(cleared_on__isnull=True),
                name="one_standing_notice",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} notice to {self.customer_id} on {self.sent_on}"
