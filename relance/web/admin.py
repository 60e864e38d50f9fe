"""The Django admin over the ledger: the staff UI until the real one lands (staff web app issue)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from relance import models
from relance.domain.money import format_amount
from relance.services.dunning import plans
from relance.services.organisation import hours


@admin.register(models.Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "currency", "time_zone"]
    search_fields = ["code", "name"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """A company made here starts with its own copy of the library's plans, as elsewhere."""
        super().save_model(request, obj, form, change)
        if not change:
            plans.copy_library(obj, source="admin")


@admin.register(models.Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "name",
        "company",
        "currency",
        "segment",
        "risk",
        "owner",
        "plan",
    ]
    list_filter = ["company", "risk", "segment", "language", "plan"]
    search_fields = ["external_id", "name"]
    list_select_related = ["company", "owner", "plan"]
    raw_id_fields = ["owner", "sales_rep"]


@admin.register(models.Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "email", "phone", "customer", "bounced"]
    search_fields = ["external_id", "name", "email"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]


class AllocationInline(admin.TabularInline):
    model = models.Allocation
    extra = 0
    fields = readonly_fields = ("date", "amount", "payment", "credit_note")
    can_delete = False


@admin.register(models.Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "customer",
        "issue_date",
        "due_date",
        "currency",
        "invoiced",
        "due_today",
        "status",
    ]
    list_filter = ["company", "currency", "status"]
    search_fields = ["external_id", "number", "customer__name"]
    date_hierarchy = "due_date"
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "sales_rep"]
    inlines = [AllocationInline]

    @admin.display(description="Total", ordering="total")
    def invoiced(self, obj: models.Invoice) -> str:
        return format_amount(obj.total, obj.currency)

    @admin.display(description="Amount due today")
    def due_today(self, obj: models.Invoice) -> str:
        amount = obj.amount_due(hours.company_today(obj.company))
        return format_amount(amount, obj.currency)


@admin.register(models.Payment, models.CreditNote)
class SettlementAdmin(admin.ModelAdmin):
    list_display = ["external_id", "customer", "date", "currency", "amount", "invoice"]
    list_filter = ["company", "currency"]
    search_fields = ["external_id", "customer__name"]
    list_select_related = ["customer", "invoice"]
    raw_id_fields = ["customer", "invoice"]


class StepInline(admin.TabularInline):
    model = models.Step
    extra = 0
    fields = readonly_fields = (
        "position",
        "name",
        "trigger_days",
        "trigger_from",
        "channel",
        "mode",
        "active",
    )


@admin.register(models.Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "company", "min_contact_delay_days"]
    inlines = [StepInline]


class RecordAdmin(admin.ModelAdmin):
    """Records of what happened (events, executions, messages, runs) are read, never edited here:
    changing a message's status by hand could send it twice."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(models.Event)
class EventAdmin(RecordAdmin):
    list_display = ["at", "kind", "source", "actor", "customer", "invoice"]
    list_filter = ["kind", "source"]
    raw_id_fields = ["customer", "invoice"]


admin.site.register([models.Membership, models.Alias])
admin.site.site_header = "relance"
admin.site.site_title = "relance"


@admin.register(models.Execution)
class ExecutionAdmin(RecordAdmin):
    list_display = ["date", "customer", "plan_code", "step_name", "channel", "reason", "skipped"]
    list_filter = ["channel", "plan_code", "date"]
    search_fields = ["customer__external_id", "customer__name", "key"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "reference_invoice", "plan", "step", "run"]

    @admin.display(description="Superseded (skipped)")
    def skipped(self, execution: models.Execution) -> str:
        return ", ".join(s["step"] for s in execution.superseded)


@admin.register(models.OutboxMessage)
class OutboxAdmin(RecordAdmin):
    list_display = ["created_at", "customer", "channel", "status", "subject", "attempts"]
    list_filter = ["status", "channel"]
    search_fields = ["customer__external_id", "customer__name", "key", "subject"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "execution"]


@admin.register(models.ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["due_date", "priority", "kind", "title", "status", "outcome"]
    list_filter = ["status", "kind"]
    search_fields = ["title", "customer__name", "customer__external_id"]
    raw_id_fields = ["customer", "execution", "completed_by"]
    filter_horizontal = ["assignees", "groups", "aliases"]


@admin.register(models.Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = ["invoice", "customer", "opened_on", "resolved_on", "reason"]
    raw_id_fields = ["customer", "invoice"]


@admin.register(models.Promise)
class PromiseAdmin(admin.ModelAdmin):
    list_display = ["customer", "promised_on", "pay_by", "status", "broken_on"]
    list_filter = ["status"]
    raw_id_fields = ["customer", "created_by"]
    filter_horizontal = ["invoices"]


admin.site.register(models.Run, RecordAdmin)
admin.site.register(models.AssignmentRules)
admin.site.enable_nav_sidebar = False  # the ledger tables need the width


def _superusers_only(request: HttpRequest) -> bool:
    """The Django admin edits raw rows of every company: superusers only. Company admins have the
    staff app's pages (company settings, team, integrations)."""
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.has_permission = _superusers_only  # type: ignore[method-assign]
