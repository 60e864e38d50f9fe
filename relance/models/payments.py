"""Online payments: what a customer asked to pay from the portal, until the provider confirms."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from relance.models.company import Company
from relance.models.customer import Customer
from relance.models.documents import Payment


class PaymentRequest(models.Model):
    """An amount in one currency for chosen invoices, sent to a payment provider under a
    `reference` of our own: the provider's confirmation names it, which ties the money to the
    customer and invoices without trusting anything else it says."""

    class Status(models.TextChoices):
        OPEN = "open"
        PAID = "paid"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reference = models.CharField(max_length=40, unique=True)
    provider = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    invoice_ids = models.JSONField(default=list, help_text="External ids of the invoices paid")
    provider_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=4, choices=Status.choices, default=Status.OPEN)
    payment = models.ForeignKey(
        Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount} {self.currency} ({self.status})"
