"""The Django admin over the ledger: the staff UI until the real one lands (staff web app issue)."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from relance import models
from relance.domain.money import format_amount


@admin.register(models.Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "currency", "time_zone"]
    search_fields = ["code", "name"]


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
        amount = obj.amount_due(timezone.localdate())
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


@admin.register(models.Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["at", "kind", "source", "actor", "customer", "invoice"]
    list_filter = ["kind", "source"]
    raw_id_fields = ["customer", "invoice"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


admin.site.register([models.Membership, models.Alias])
admin.site.site_header = "relance"
admin.site.site_title = "relance"
admin.site.enable_nav_sidebar = False  # the ledger tables need the width
