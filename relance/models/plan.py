from __future__ import annotations

from django.conf import settings
from django.db import models

from relance.models.company import Company


class Plan(models.Model):
    """A stored dunning plan. `definition` is the validated YAML form; steps mirror it as rows
    so executions and effectiveness figures can point at a step that keeps its id across edits.

    A plan belongs to one company, which alone follows and edits it: codes are unique per
    company, so two companies may each have their own `standard`. Plans without a company are
    the library (the shipped plans and those loaded for every company), copied into each company
    when it is created; no customer ever follows a library plan itself."""

    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="plans",
        help_text="Empty: the library, copied into each new company",
    )
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=200)
    min_contact_delay_days = models.PositiveIntegerField(default=0)
    repeat_last_every_days = models.PositiveIntegerField(null=True, blank=True)
    repeat_last_max = models.PositiveIntegerField(null=True, blank=True)
    tolerance = models.JSONField(default=dict, blank=True)
    definition = models.JSONField()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="plan_code_per_company"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(company__isnull=True), name="library_plan_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PlanDraft(models.Model):
    """The changes someone is making to a plan, not yet live: the editor edits this definition
    (always a valid plan) and "publish" saves it as the plan's new version. One per plan.

    `based_on` is the fingerprint of the live plan the draft started from: publishing refuses when
    the live plan changed since. `renamed` maps a live step's name to its name in the draft, so
    a renamed step keeps its row and its history once published."""

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="draft")
    definition = models.JSONField()
    based_on = models.CharField(max_length=64)
    renamed = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"draft of {self.plan}"


class Step(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email"
        SMS = "sms"
        LETTER = "letter"
        CALL = "call"
        TASK = "task"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(help_text="1-based order in the plan")
    name = models.CharField(max_length=200)
    trigger_days = models.IntegerField()
    trigger_from = models.CharField(max_length=10)
    channel = models.CharField(max_length=6, choices=Channel.choices)
    mode = models.CharField(max_length=6)
    active = models.BooleanField(default=True, help_text="False once removed from the plan")

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="step_name_per_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} #{self.position} {self.name}"


class AssignmentRules(models.Model):
    """The ordered rules that give a plan to customers without an explicit one (per company, or
    for every company when `company` is empty). `definition` is the validated YAML form."""

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="assignment_rules"
    )
    definition = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "assignment rules"
        constraints = [
            models.UniqueConstraint(
                fields=["company"],
                condition=models.Q(company__isnull=True),
                name="one_default_rule_set",
            )
        ]

    def __str__(self) -> str:
        return f"assignment rules for {self.company or 'every company'}"
