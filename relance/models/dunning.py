"""What the dunning cycle reads besides the ledger (holds, disputes, promises) and what it writes
(step executions, outbox messages, manual action items, runs)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relance.models.company import Alias, Company
from relance.models.customer import Customer
from relance.models.documents import Invoice
from relance.models.plan import Plan, Step


class Dispute(models.Model):
    """A disputed invoice leaves dunning from `opened_on` until it is resolved. One raised from
    the portal carries its category, the customer's message and proof, and the deadlines the
    company's service level gives it (business time, services.dialogue.portal_disputes)."""

    class Category(models.TextChoices):
        WRONG_AMOUNT = "wrong_amount", _("Wrong amount")
        NOT_RECEIVED = "not_received", _("Goods or service not received")
        QUALITY = "quality", _("Quality problem")
        ALREADY_PAID = "already_paid", _("Already paid")
        OTHER = "other", _("Something else")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="disputes")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="disputes")
    opened_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True)
    resolution = models.TextField(blank=True)
    category = models.CharField(max_length=12, choices=Category.choices, blank=True)
    proof = models.FileField(upload_to="disputes/%Y/%m/", blank=True)
    source = models.CharField(max_length=30, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    acknowledge_by = models.DateTimeField(null=True, blank=True)
    resolve_by = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(resolved_on__isnull=True),
                name="one_open_dispute_per_invoice",
            )
        ]

    def __str__(self) -> str:
        return f"dispute on {self.invoice} since {self.opened_on}"


class Promise(models.Model):
    """A promise to pay chosen invoices by a date; dunning of those invoices pauses until then."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        KEPT = "kept", _("Kept")
        BROKEN = "broken", _("Broken")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="promises")
    invoices = models.ManyToManyField(Invoice, related_name="promises")
    promised_on = models.DateField()
    pay_by = models.DateField()
    amount = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True, help_text="Empty: what is owed"
    )
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    broken_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["-promised_on"]

    def __str__(self) -> str:
        return f"promise by {self.customer} to pay by {self.pay_by}"


class Run(models.Model):
    """One dunning cycle for a date: lets the scheduler know which days are done."""

    date = models.DateField(db_index=True)
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, help_text="Empty: all companies"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    source = models.CharField(max_length=30, default="cli")
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"run for {self.date}"


class Execution(models.Model):
    """A step executed for one customer and reference invoice, under a unique key.

    The unique key is what makes the cycle exactly-once: whatever runs twice, the second insert of
    the same key is refused. Customer-facing executions are also the record of contacts used by the
    minimum contact delay, whatever produced them (plan, broken promise, later campaigns).
    The earlier steps an execution superseded (rule 4) are recorded on it, not as rows of their
    own: they can never run for this reference after it, so only the explanation needs them.
    """

    class Status(models.TextChoices):
        EXECUTED = "executed"

    key = models.CharField(max_length=500, unique=True)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(  # no index of its own: those of Meta begin with it
        Customer, on_delete=models.CASCADE, related_name="executions", db_index=False
    )
    plan = models.ForeignKey(Plan, on_delete=models.SET_NULL, null=True, blank=True)
    plan_code = models.CharField(max_length=50, blank=True)
    step = models.ForeignKey(Step, on_delete=models.SET_NULL, null=True, blank=True)
    step_name = models.CharField(max_length=200)
    step_index = models.PositiveIntegerField(null=True, blank=True)
    variant = models.CharField(
        max_length=1, blank=True, default="", help_text="A or B for a step under an A/B test"
    )
    reference_invoice = models.ForeignKey(
        Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reference_external_id = models.CharField(max_length=100, blank=True)
    repetition = models.PositiveIntegerField(default=0)
    date = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices)
    reason = models.TextField(blank=True)
    reason_data = models.JSONField(
        default=list,
        blank=True,
        help_text="The reason's codes and parameters (domain.reasons), written out in the "
        "reader's language; empty for reasons stored before them, shown as their text",
    )
    channel = models.CharField(max_length=6)
    mode = models.CharField(max_length=6)
    customer_facing = models.BooleanField()
    invoices = models.JSONField(default=list, help_text="External ids of the invoices listed")
    totals = models.JSONField(default=dict)
    superseded = models.JSONField(
        default=list,
        blank=True,
        help_text="Earlier steps this one skipped (rule 4): [{step, step_index}]",
    )
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True)
    wave = models.ForeignKey(
        "relance.Wave",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="executions",
        db_index=False,  # a partial index (Meta): the cycle's many rows have none
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "id"]
        indexes = [
            models.Index(fields=["customer", "date"]),
            models.Index(fields=["customer", "reference_invoice"]),
            models.Index(
                fields=["wave"], condition=Q(wave__isnull=False), name="execution_of_a_wave"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.step_name} for {self.customer_id} ({self.status})"


class OutboxMessage(models.Model):
    """One message to deliver exactly once: planned → claimed → sent | failed → dead; cancelled
    when its invoices are paid or disputed before delivery."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Queued")
        CLAIMED = "claimed", _("Being sent")
        SENT = "sent", _("Sent")
        PRINTING = "printing", _("In the print run")  # a letter: sent once its batch is posted
        FAILED = "failed", _("Failed")
        DEAD = "dead", _("Not sent")
        CANCELLED = "cancelled", _("Cancelled")

    key = models.CharField(max_length=500, unique=True)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(  # empty: a message to staff (a sales rep's digest)
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    execution = models.OneToOneField(
        Execution, on_delete=models.SET_NULL, null=True, blank=True, related_name="message"
    )
    channel = models.CharField(max_length=6)
    status = models.CharField(  # indexed with next_attempt_at (Meta), which serves both
        max_length=9, choices=Status.choices, default=Status.PLANNED
    )
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    subject = models.TextField(blank=True, help_text="As sent: composed at delivery")
    body = models.TextField(blank=True, help_text="As sent: composed at delivery")
    invoice_ids = models.JSONField(default=list, help_text="Invoice primary keys listed")
    merge_data = models.JSONField(
        default=dict, blank=True, help_text="Merge fields of this message only (e.g. the promise)"
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(
        max_length=200, blank=True, help_text="The provider's id of the sent message (ESP, SMS)"
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.channel} to {', '.join(self.to)} ({self.status})"


class ActionItem(models.Model):
    """Manual work for people: a call, a task, a message to approve, a contact to find."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        TASK = "task", _("Task")
        APPROVAL = "approval", _("Message to approve")
        NO_CONTACT = "no_contact", _("No contact to reach")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="actions")
    execution = models.OneToOneField(
        Execution, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_item"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    due_date = models.DateField()
    priority = models.IntegerField(default=0)
    priority_parts = models.JSONField(
        default=dict, blank=True, help_text="What the priority is made of (domain.priority)"
    )
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    groups = models.ManyToManyField(Group, blank=True, related_name="+")
    aliases = models.ManyToManyField(Alias, blank=True, related_name="+")
    status = models.CharField(
        max_length=7, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    outcome = models.CharField(max_length=50, blank=True)
    note = models.TextField(blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-priority", "due_date", "id"]

    def __str__(self) -> str:
        return self.title


class PrintBatch(models.Model):
    """A company's letters waiting to be printed and posted together: downloaded as one PDF (or
    handed to a print provider), then marked posted, which records its letters as sent."""

    class Status(models.TextChoices):
        OPEN = "open"
        POSTED = "posted"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    created_on = models.DateField()
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.CharField(max_length=200, blank=True)
    provider_reference = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company"],
                condition=models.Q(status="open"),
                name="one_open_print_batch_per_company",
            )
        ]

    def __str__(self) -> str:
        return f"print run {self.pk} of {self.created_on} ({self.status})"


class PrintedLetter(models.Model):
    """One letter of a print run, as rendered (the PDF is the record of what was posted)."""

    batch = models.ForeignKey(PrintBatch, on_delete=models.PROTECT, related_name="letters")
    message = models.OneToOneField(OutboxMessage, on_delete=models.PROTECT, related_name="letter")
    pdf = models.BinaryField()
    pages = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["batch", "id"]

    def __str__(self) -> str:
        return f"letter {self.message_id} in print run {self.batch_id} ({self.pages} pages)"
