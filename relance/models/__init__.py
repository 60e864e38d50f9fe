"""Persistence only: behaviour lives in relance.domain and relance.services."""

from relance.models.api import ApiToken, IdempotencyKey
from relance.models.campaign import Campaign, Wave
from relance.models.company import Alias, Company, Membership
from relance.models.customer import Contact, Customer
from relance.models.documents import Allocation, CreditNote, Invoice, Payment
from relance.models.dunning import (
    ActionItem,
    Dispute,
    Execution,
    OutboxMessage,
    PrintBatch,
    PrintedLetter,
    Promise,
    Run,
)
from relance.models.early_payment import DiscountProposal
from relance.models.event import AppendOnly, Event
from relance.models.forecast import ForecastEntry
from relance.models.golive import GoLiveProjection
from relance.models.imports import ImportJob
from relance.models.law import ReferenceRate
from relance.models.mappings import SavedMapping
from relance.models.payment_plans import Instalment, PaymentPlan
from relance.models.payments import PaymentRequest
from relance.models.plan import AssignmentRules, Plan, PlanDraft, Step
from relance.models.portal import PortalCode
from relance.models.receivables import DailyFigures
from relance.models.smart_notices import SmartNotice
from relance.models.webhooks import EVENT_TYPES, WebhookDelivery, WebhookEndpoint

__all__ = [
    "EVENT_TYPES",
    "ActionItem",
    "Alias",
    "Allocation",
    "ApiToken",
    "AppendOnly",
    "AssignmentRules",
    "Campaign",
    "Company",
    "Contact",
    "CreditNote",
    "Customer",
    "DailyFigures",
    "DiscountProposal",
    "Dispute",
    "Event",
    "Execution",
    "ForecastEntry",
    "GoLiveProjection",
    "IdempotencyKey",
    "ImportJob",
    "Instalment",
    "Invoice",
    "Membership",
    "OutboxMessage",
    "Payment",
    "PaymentPlan",
    "PaymentRequest",
    "Plan",
    "PlanDraft",
    "PortalCode",
    "PrintBatch",
    "PrintedLetter",
    "Promise",
    "ReferenceRate",
    "Run",
    "SavedMapping",
    "SmartNotice",
    "Step",
    "Wave",
    "WebhookDelivery",
    "WebhookEndpoint",
]
