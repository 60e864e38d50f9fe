"""Early-payment discounts taken: an invoice paid within the company's discount days, less at most
its discount, leaves that rest unpaid; the daily tick proposes it as a credit note, and staff
confirm (the credit note is recorded and allocated, the invoice is settled) or decline (the rest
stays owed and dunning takes it up again)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from relance.domain import early_payment
from relance.models import Company, CreditNote, DiscountProposal, Invoice
from relance.services.dialogue.pauses import Refused
from relance.services.ledger import allocation, snapshots
from relance.services.organisation import hours, journal

Status = DiscountProposal.Status
#: A payment this much above the discounted amount still counts as taking the discount (rounding).
SLACK = Decimal("0.01")


def propose(company: Company, today: date) -> int:
    """Proposals for the invoices whose discount the customer took; how many are new."""
    percent, days = company.early_discount_percent, company.early_discount_days
    if not percent or not days:
        return 0
    recent = Invoice.objects.filter(
        company=company, issue_date__gte=today - timedelta(days=days + 60), total__gt=0
    ).exclude(pk__in=DiscountProposal.objects.filter(company=company).values("invoice_id"))
    by_customer: dict[int, list[Invoice]] = {}
    for invoice in recent:
        by_customer.setdefault(invoice.customer_id, []).append(invoice)
    if not by_customer:
        return 0
    owed = {
        pk: snapshots.as_decimal(amount)
        for pk, *_rest, amount, _t in snapshots.amounts_due(sorted(by_customer), today)
    }
    last_paid = dict(
        Invoice.objects.filter(pk__in=[i.pk for found in by_customer.values() for i in found])
        .annotate(on=Max("allocations__date"))
        .values_list("pk", "on")
    )
    made = 0
    for invoices in by_customer.values():
        for invoice in invoices:
            offer = early_payment.offer(
                invoice.total, invoice.currency, invoice.issue_date, percent, days
            )
            left = owed.get(invoice.pk, Decimal(0))
            paid_on = last_paid.get(invoice.pk)
            if offer is None or paid_on is None or paid_on > offer.until:
                continue
            if 0 < left <= offer.amount + SLACK:
                DiscountProposal.objects.create(
                    company=company,
                    customer_id=invoice.customer_id,
                    invoice=invoice,
                    currency=invoice.currency,
                    amount=left,
                    paid_on=paid_on,
                )
                made += 1
    return made


def confirm(proposal: DiscountProposal, *, actor: Any = None) -> CreditNote:
    if proposal.status != Status.PROPOSED:
        raise Refused(_("This discount is already decided."))
    today = hours.company_today(proposal.company)
    with transaction.atomic():
        note = CreditNote.objects.create(
            company=proposal.company,
            customer=proposal.customer,
            external_id=f"DISC-{proposal.invoice.external_id}"[:100],
            invoice=proposal.invoice,
            date=today,
            currency=proposal.currency,
            amount=proposal.amount,
        )
        proposal.status, proposal.credit_note = Status.CONFIRMED, note
        proposal.decided_by = actor if getattr(actor, "pk", None) else None
        proposal.save(update_fields=["status", "credit_note", "decided_by"])
        allocation.reallocate([proposal.customer_id])
        journal.record(
            "discount.confirmed", proposal, actor=actor, source="web", data=_amount(proposal)
        )
    return note


def decline(proposal: DiscountProposal, *, actor: Any = None) -> None:
    if proposal.status != Status.PROPOSED:
        raise Refused(_("This discount is already decided."))
    proposal.status = Status.DECLINED
    proposal.decided_by = actor if getattr(actor, "pk", None) else None
    proposal.save(update_fields=["status", "decided_by"])
    journal.record("discount.declined", proposal, actor=actor, source="web", data=_amount(proposal))


def _amount(proposal: DiscountProposal) -> dict[str, Any]:
    return {"amount": f"{proposal.amount:f}", "currency": proposal.currency}
