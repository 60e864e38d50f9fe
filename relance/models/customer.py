from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from relance.models.company import Company
from relance.models.validators import validate_country, validate_currency, validate_time_zone


class Customer(models.Model):
    """A debtor account as the source system knows it, identified by its external id."""

    class Risk(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    class Language(models.TextChoices):
        FR = "fr", "Français"
        EN = "en", "English"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="customers")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    country = models.CharField(max_length=2, validators=[validate_country])
    segment = models.CharField(max_length=50, blank=True)
    risk = models.CharField(max_length=6, choices=Risk.choices, blank=True)
    credit_limit = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    pays_by_bank_transfer = models.BooleanField(default=True)
    card_expiry = models.DateField(
        null=True, blank=True, help_text="First day of the card's expiry month"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
        help_text="Credit controller in charge",
    )
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="represented_customers",
    )
    plan = models.ForeignKey(
        "relance.Plan", on_delete=models.SET_NULL, null=True, blank=True, related_name="customers"
    )
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    late_interest_rate = models.DecimalField(
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Contract rate of late-payment interest, % a year (empty: the law's rate)",
    )
    late_fees_waived = models.BooleanField(
        default=False, help_text="No late interest nor fixed indemnity for this customer"
    )
    notes = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    portal_version = models.PositiveIntegerField(
        default=0, help_text="Raised to revoke every portal link sent so far"
    )
    hold_until = models.DateField(
        null=True, blank=True, help_text="No dunning step runs up to and including this date"
    )
    oldest_unpaid_due = models.DateField(
        null=True,
        blank=True,
        db_index=True,
        editable=False,
        help_text="Due date of the oldest invoice left to pay (kept by services.ledger.balances)",
    )

    class Meta:
        ordering = ["company", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "external_id"], name="customer_external_id_per_company"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


class Contact(models.Model):
    """A person at the customer; roles say which reminders they receive."""

    ROLES = ("billing", "escalation", "legal", "primary")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="contacts")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +33142685300")
    roles = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=2, choices=Customer.Language.choices, blank=True)
    bounced = models.BooleanField(
        default=False, help_text="Set when an email to this contact bounced for good"
    )

    class Meta:
        ordering = ["customer", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "external_id"], name="contact_external_id_per_company"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id
