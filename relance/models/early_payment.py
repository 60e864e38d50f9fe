"""Early-payment discounts taken by customers, for staff to confirm as credit notes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from relance.models.company import Company
from relance.models.customer import Customer
from relance.models.documents import CreditNote, Invoice


class DiscountProposal(models.Model):
    """An invoice paid in time less its early-payment discount: the rest is proposed as a credit
    note; staff confirm it (the credit note is recorded and allocated) or decline it."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("To confirm")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    paid_on = models.DateField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PROPOSED)
    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    def __str__(self) -> str:
        return f"discount of {self.amount} {self.currency} on {self.invoice_id} ({self.status})"
