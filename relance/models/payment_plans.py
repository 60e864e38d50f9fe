"""Payment plans: a customer pays chosen invoices in instalments; while the plan holds, those
invoices leave dunning (the engine's `in_payment_plan`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relance.models.company import Company
from relance.models.customer import Customer
from relance.models.documents import Invoice


class PaymentPlan(models.Model):
    """Asked by the customer (or set up by staff), approved, countered or rejected by staff
    (or approved at once below the company's amount), then kept, completed or broken."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Asked for")
        COUNTERED = "countered", _("Countered")  # staff proposed another schedule
        ACTIVE = "active", _("Agreed")
        COMPLETED = "completed", _("Completed")
        BROKEN = "broken", _("Broken")
        REJECTED = "rejected", _("Rejected")

    #: The invoices leave dunning while the plan is in one of these states.
    PAUSING = (Status.REQUESTED, Status.COUNTERED, Status.ACTIVE)

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payment_plans")
    invoices = models.ManyToManyField(Invoice, related_name="payment_plans")
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=18, decimal_places=4)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.REQUESTED)
    source = models.CharField(max_length=30, blank=True)
    note = models.TextField(blank=True, help_text="What staff said when countering or rejecting")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    ended_on = models.DateField(null=True, blank=True, help_text="Completed or broken on")

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"payment plan {self.pk} of {self.customer_id} ({self.status})"


class Instalment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    amount = models.DecimalField(max_digits=18, decimal_places=4)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="one_instalment_per_number")
        ]

    def __str__(self) -> str:
        return f"instalment {self.number} of plan {self.plan_id} on {self.due_date}"
