"""Disputes a customer raises from the portal: the invoices leave dunning at once, the company's
service level sets the acknowledgement and resolution deadlines in business time (its working
days and hours, domain.business_time), the customer gets a receipt saying when, and the owner (or
the company's address) is told, both through the outbox.

Proof is a PDF, PNG or JPEG of at most MAX_PROOF bytes, recognised by its first bytes, not by the
name or type the browser claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relance.domain import business_time
from relance.messaging import formatting
from relance.models import Company, Customer, Dispute, Event, Invoice, OutboxMessage
from relance.services import hours, notices
from relance.services.dialogue import Refused

MAX_PROOF = 5 * 1024 * 1024
PROOF_KINDS = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


def week_of(company: Company) -> business_time.Week:
    """The company's working week: the days and hours its messages leave in."""
    return business_time.Week(
        frozenset(int(d) for d in company.send_days),
        company.send_from,
        company.send_until,
        company.time_zone,
    )


def proof_kind(content: bytes) -> str:
    """The file's kind from its first bytes, or Refused saying what is accepted."""
    if len(content) > MAX_PROOF:
        raise Refused(_("The file is too large: at most %(mb)s MB.") % {"mb": MAX_PROOF // 2**20})
    for magic, kind in PROOF_KINDS.items():
        if content.startswith(magic):
            return kind
    raise Refused(_("Send the proof as a PDF, PNG or JPEG file."))


@dataclass(frozen=True)
class Raised:
    disputes: list[Dispute]
    acknowledge_by: datetime
    resolve_by: datetime


def raise_from_portal(
    customer: Customer,
    invoice_ids: list[str],
    category: str,
    message: str,
    proof: bytes | None,
    *,
    now: datetime | None = None,
) -> Raised:
    """Open a dispute on each chosen invoice of this customer (all or none), with the deadlines
    of the company's service level; queue the customer's receipt and the staff's notice."""
    now = now or timezone.now()
    company = customer.company
    if category not in Dispute.Category.values:
        raise Refused(_("Choose what is wrong."))
    if not invoice_ids:
        raise Refused(_("Choose at least one invoice."))
    invoices = list(
        Invoice.objects.filter(customer=customer, external_id__in=invoice_ids).order_by(
            "due_date", "number"
        )
    )
    if len(invoices) != len(set(invoice_ids)):
        raise Refused(_("There is no such invoice on your account."))
    taken = (
        Dispute.objects.filter(invoice__in=invoices, resolved_on=None)
        .select_related("invoice")
        .first()
    )
    if taken is not None:
        raise Refused(
            _("Invoice %(number)s is already disputed.") % {"number": taken.invoice.number}
        )
    kind = proof_kind(proof) if proof else ""
    week = week_of(company)
    acknowledge_by = business_time.add_hours(now, company.dispute_ack_hours, week)
    resolve_by = business_time.add_days(now, company.dispute_resolve_days, week)
    today = hours.company_today(company, now)
    with transaction.atomic():
        stored = ""
        if proof:
            holder = Dispute(company=company, customer=customer)
            holder.proof.save(
                f"{customer.pk}-{now:%Y%m%d%H%M%S}.{kind}", ContentFile(proof), save=False
            )
            stored = holder.proof.name
        made = [
            Dispute.objects.create(
                company=company,
                customer=customer,
                invoice=invoice,
                opened_on=today,
                reason=message.strip(),
                category=category,
                proof=stored,
                source="portal",
                opened_at=now,
                acknowledge_by=acknowledge_by,
                resolve_by=resolve_by,
            )
            for invoice in invoices
        ]
        for dispute in made:
            Event.objects.create(
                company=company,
                customer=customer,
                invoice=dispute.invoice,
                source="portal",
                kind="dispute.opened",
                data={
                    "on": today.isoformat(),
                    "reason": dispute.reason,
                    "category": category,
                    "acknowledge_by": acknowledge_by.isoformat(),
                    "resolve_by": resolve_by.isoformat(),
                },
            )
        _queue_receipt(customer, made, now)
        _queue_notice(customer, made, now)
    return Raised(made, acknowledge_by, resolve_by)


def _queue_receipt(customer: Customer, made: list[Dispute], now: datetime) -> None:
    """The library's acknowledgement, in the customer's language."""
    first = made[0]
    language, zone = customer.language, customer.company.time_zone
    notices.queue(
        customer,
        "dispute_acknowledgement",
        f"dispute-receipt:{first.pk}",
        first.opened_on,
        now,
        {
            "dispute": {
                "reason": first.reason,
                "opened_on": formatting.day(first.opened_on, language),
                "invoices": ", ".join(d.invoice.number for d in made),
                "acknowledge_by": formatting.moment(first.acknowledge_by, zone, language),
                "resolve_by": formatting.moment(first.resolve_by, zone, language),
            }
        },
    )


def _queue_notice(customer: Customer, made: list[Dispute], now: datetime) -> None:
    """Tell the customer's owner (else the company's address) in the company's language."""
    address = (customer.owner.email if customer.owner else "") or customer.company.email
    if not address:
        return
    language = "fr" if customer.company.country == "FR" else "en"
    first = made[0]
    zone = customer.company.time_zone
    with translation.override(language):
        subject = _("%(customer)s disputes %(invoices)s") % {
            "customer": customer.name,
            "invoices": ", ".join(d.invoice.number for d in made),
        }
        body = "\n".join(
            [
                _("%(customer)s (%(id)s) raised a dispute from the portal.")
                % {"customer": customer.name, "id": customer.external_id},
                "",
                _("What is wrong: %(category)s") % {"category": first.get_category_display()},
                _("Their message: %(message)s") % {"message": first.reason or "—"},
                _("Proof attached on the customer's page: %(yes)s")
                % {"yes": _("yes") if first.proof else _("no")},
                "",
                _("Acknowledge by %(ack)s, resolve by %(resolve)s.")
                % {
                    "ack": formatting.moment(first.acknowledge_by, zone, language),
                    "resolve": formatting.moment(first.resolve_by, zone, language),
                },
            ]
        )
    OutboxMessage.objects.create(
        key=f"dispute-notice:{first.pk}",
        company=customer.company,
        customer=None,
        channel="email",
        to=[address],
        subject=subject,
        body=body + "\n",
        created_at=now,
        next_attempt_at=now,
    )


def countdown(dispute: Dispute, now: datetime | None = None) -> dict[str, Any]:
    """Where a dispute stands against its service level, for the customer's page."""
    now = now or timezone.now()
    week = week_of(dispute.company)
    found: dict[str, Any] = {"acknowledged": dispute.acknowledged_at is not None}
    if dispute.resolve_by is not None:
        left = business_time.left(now, dispute.resolve_by, week)
        found["resolve_hours_left"] = int(left.total_seconds() // 3600)
        found["late"] = left.total_seconds() < 0
    return found
