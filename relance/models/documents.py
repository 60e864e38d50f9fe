"""Invoices, credit notes, payments and the allocations that link them.

Allocations are derived data: `services.ledger.allocation` rebuilds a customer's allocations
from the domain's replay whenever their ledger changes, so `amount_due(as_of)` is a plain sum a
database can aggregate for every invoice at once.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum

from relance.models.company import Company
from relance.models.customer import Customer
from relance.models.validators import validate_currency


def amount_field() -> models.DecimalField:
    """Four decimals hold every ISO 4217 minor unit (KWD has three); presentation rounds."""
    return models.DecimalField(max_digits=18, decimal_places=4)


class Invoice(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        VOID = "void"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="invoices")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    external_id = models.CharField(max_length=100)
    number = models.CharField(max_length=100)
    issue_date = models.DateField()
    due_date = models.DateField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    total = amount_field()
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(max_length=4, choices=Status.choices, default=Status.OPEN)
    pdf = models.FileField(upload_to="invoices/", blank=True)

    class Meta:
        ordering = ["due_date", "issue_date", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "external_id"], name="invoice_external_id_per_company"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_not_negative"),
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("issue_date")), name="invoice_due_after_issue"
            ),
        ]
        indexes = [models.Index(fields=["customer", "due_date"])]

    def __str__(self) -> str:
        return self.number

    def amount_due(self, as_of: date) -> Decimal:
        """Total less what was allocated to it by `as_of`; zero for a void invoice."""
        if self.status == self.Status.VOID:
            return Decimal(0)
        settled = self.allocations.filter(date__lte=as_of).aggregate(s=Sum("amount"))["s"]
        return self.total - (settled or 0)


class _Settlement(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(max_length=100)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    date = models.DateField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    amount = amount_field()

    class Meta:
        abstract = True
        ordering = ["date", "external_id"]

    def __str__(self) -> str:
        return f"{self.external_id} {self.amount} {self.currency}"


class CreditNote(_Settlement):
    class Meta(_Settlement.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["company", "external_id"], name="credit_note_external_id_per_company"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_positive"),
        ]
        indexes = [models.Index(fields=["customer", "date"])]


class Payment(_Settlement):
    class Meta(_Settlement.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["company", "external_id"], name="payment_external_id_per_company"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [models.Index(fields=["customer", "date"])]


class Allocation(models.Model):
    """Part of a payment or credit note applied to an invoice, dated when it took effect."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="allocations")
    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, null=True, blank=True, related_name="allocations"
    )
    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.CASCADE, null=True, blank=True, related_name="allocations"
    )
    amount = amount_field()
    date = models.DateField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(payment__isnull=False, credit_note__isnull=True)
                | Q(payment__isnull=True, credit_note__isnull=False),
                name="allocation_has_one_source",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]
        indexes = [models.Index(fields=["invoice", "date"])]

    def __str__(self) -> str:
        return f"{self.amount} to {self.invoice_id} on {self.date}"
