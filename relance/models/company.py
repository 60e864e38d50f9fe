from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from relance.models.validators import (
    validate_account_number,
    validate_bic,
    validate_country,
    validate_currency,
    validate_hex_colour,
    validate_iban,
    validate_sort_code,
    validate_time_zone,
    validate_weekdays,
)

#: First-run policies (domain.first_run names the same three).
FIRST_RUN_BY_AGE, FIRST_RUN_STEP1, FIRST_RUN_IGNORE_BEFORE = "by_age", "step1", "ignore_before"


class Company(models.Model):
    """A legal entity whose receivables relance collects; every ledger row belongs to one."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    registration_number = models.CharField(
        max_length=50, blank=True, help_text="SIREN/SIRET, Companies House number…"
    )
    registration_city = models.CharField(
        max_length=100,
        blank=True,
        help_text="Where the company is registered: the RCS city in France (RCS Lyon), "
        "England and Wales…",
    )
    legal_form = models.CharField(max_length=60, blank=True, help_text="SAS, SARL, SA, Ltd, GmbH…")
    share_capital = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="In the company's currency, printed with the legal form (SAS au capital de…)",
    )
    vat_number = models.CharField(max_length=30, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, validators=[validate_country])
    currency = models.CharField(max_length=3, validators=[validate_currency])
    time_zone = models.CharField(
        max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    iban = models.CharField("IBAN", max_length=42, blank=True, validators=[validate_iban])
    bic = models.CharField("BIC", max_length=11, blank=True, validators=[validate_bic])
    sort_code = models.CharField(
        max_length=8,  # six digits stored; room for "12-34-56" as typed, before it is cleaned
        blank=True,
        validators=[validate_sort_code],
        help_text="UK bank details for customers in the UK: six digits, shown 12-34-56",
    )
    account_number = models.CharField(
        max_length=10,  # eight digits stored; room for "1234 5678" as typed
        blank=True,
        validators=[validate_account_number],
        help_text="UK bank account number: eight digits",
    )
    sender_email = models.EmailField(blank=True, help_text="From: address of reminders")
    reply_to = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True, help_text="For customers' questions")
    email = models.EmailField(blank=True, help_text="For customers' questions")
    logo = models.FileField(upload_to="logos/", blank=True)
    send_days = models.CharField(
        max_length=7,
        default="12345",
        validators=[validate_weekdays],
        help_text="ISO weekdays messages leave on (1 = Monday)",
    )
    send_from = models.TimeField(
        default=time(8, 0), help_text="Messages leave from this hour, in the recipient's zone"
    )
    send_until = models.TimeField(default=time(18, 0), help_text="…and before this one")
    daily_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="At most this many messages a day (empty: no limit)"
    )
    letter_statement = models.BooleanField(
        default=False, help_text="Letters carry a statement of the account as an appendix"
    )
    brand_colour = models.CharField(
        max_length=7,
        blank=True,
        validators=[validate_hex_colour],
        help_text="Hex colour of emails and letters, e.g. #1f3a5f",
    )
    law_pack = models.CharField(
        max_length=4,
        blank=True,
        choices=[("FR", "France (L441-10)"), ("EU", "EU default"), ("UK", "UK"), ("NONE", "None")],
        help_text="Late-payment law; empty: from the company's country",
    )
    portal_link_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days a customer's portal link works before a new one is needed"
    )
    dispute_ack_hours = models.PositiveSmallIntegerField(
        default=8, help_text="A dispute is acknowledged within this many business hours"
    )
    dispute_resolve_days = models.PositiveSmallIntegerField(
        default=10, help_text="…and resolved within this many business days"
    )
    promise_max_days = models.PositiveSmallIntegerField(
        default=30, help_text="A customer may promise to pay at most this many days ahead"
    )
    plan_max_instalments = models.PositiveSmallIntegerField(
        default=6, help_text="A payment plan has at most this many instalments"
    )
    plan_max_days = models.PositiveSmallIntegerField(
        default=180, help_text="…its last instalment at most this many days ahead"
    )
    plan_auto_approve_below = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Plans for less than this (in the plan's currency) are approved at once",
    )
    plan_grace_days = models.PositiveSmallIntegerField(
        default=7, help_text="An instalment this many days late breaks the plan"
    )
    credit_notice_percent = models.PositiveSmallIntegerField(
        default=80, help_text="Customers using this share of their credit limit are told, once"
    )
    early_discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Early-payment discount, e.g. 2.00 (empty: none)",
    )
    early_discount_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="…if paid within this many days of issue"
    )
    payment_provider = models.CharField(
        max_length=6,
        blank=True,
        choices=[("", "None: bank transfer only"), ("link", "Payment link"), ("stripe", "Stripe")],
        help_text="How customers pay online from the portal",
    )
    payment_link_template = models.CharField(
        max_length=500,
        blank=True,
        help_text="Payment link provider: the URL, with {reference} {amount} {currency} "
        "{customer} {return_url} filled in",
    )
    payment_webhook_secret = models.CharField(
        max_length=64,
        blank=True,
        help_text="Payment link provider: the shared secret its confirmations are signed with",
    )
    thanks_template = models.CharField(
        max_length=100,
        blank=True,
        default="payment_thanks",
        help_text="Library template thanking for a payment made online (empty: none)",
    )
    automatic_sending = models.BooleanField(
        default=True,
        help_text="The daily cycle sends reminders by itself (off: nothing goes out until go-live)",
    )
    first_run = models.CharField(
        max_length=13,
        choices=[
            (FIRST_RUN_BY_AGE, "By age: each customer at the step their oldest invoice warrants"),
            (FIRST_RUN_STEP1, "Step 1: every customer starts at the first step of their plan"),
            (FIRST_RUN_IGNORE_BEFORE, "Ignore invoices due before a date"),
        ],
        default=FIRST_RUN_BY_AGE,
        help_text="Where a customer's first cycle starts in their plan",
    )
    first_run_before = models.DateField(
        null=True, blank=True, help_text="With 'ignore invoices due before': that date"
    )
    members: models.ManyToManyField = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="companies", blank=True
    )

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def sort_code_shown(self) -> str:
        """The sort code as UK payers write it: 12-34-56."""
        code = self.sort_code
        return f"{code[:2]}-{code[2:4]}-{code[4:]}" if len(code) == 6 else code

    @property
    def uk_bank_details(self) -> bool:
        """Customers in the UK may pay by sort code and account number."""
        return bool(self.sort_code and self.account_number)

    def clean(self) -> None:
        super().clean()
        if self.first_run == FIRST_RUN_IGNORE_BEFORE and self.first_run_before is None:
            raise ValidationError(
                {"first_run_before": _("Give the date: invoices due before it are not chased.")}
            )
        if self.first_run != FIRST_RUN_IGNORE_BEFORE:
            self.first_run_before = None


class Membership(models.Model):
    """A staff user's role in one company: the basis of data isolation between companies."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Administrator"
        CREDIT_CONTROLLER = "credit_controller", "Credit controller"
        SALES_REP = "sales_rep", "Sales rep"
        READ_ONLY = "read_only", "Read-only"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CREDIT_CONTROLLER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="one_membership_per_company")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.company.code} as {self.role}"


class Alias(models.Model):
    """A shared mailbox such as ar@company.com: owns manual work and receives replies as a team."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="aliases")
    email = models.EmailField()
    name = models.CharField(max_length=100, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="aliases", blank=True)

    class Meta:
        verbose_name_plural = "aliases"
        constraints = [
            models.UniqueConstraint(fields=["company", "email"], name="one_alias_per_address")
        ]

    def __str__(self) -> str:
        return self.email
