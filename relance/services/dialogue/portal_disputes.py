"""Disputes a customer raises from the portal: the invoices leave dunning at once, the company's
service level sets the acknowledgement and resolution deadlines in business time (its working
business hours, domain.business_time), the customer gets a receipt saying when, and the owner (or
the company's address) is told, both through the outbox.

Proof is a PDF, PNG or JPEG of at most MAX_PROOF bytes, recognised by its first bytes, not by the
name or type the browser claims."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relance.domain import business_time
from relance.messaging import formatting
from relance.models import Customer, Dispute, Invoice, Membership, OutboxMessage
from relance.services.dialogue import notices, pauses
from relance.services.dialogue.pauses import Refused
from relance.services.organisation import hours, journal
from relance.services.organisation.language import staff_language

MAX_PROOF = 5 * 1024 * 1024
PROOF_KINDS = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


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
    invoices: Sequence[Invoice],
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
    if not invoices:
        raise Refused(_("Choose at least one invoice."))
    if any(invoice.customer_id != customer.pk for invoice in invoices):
        raise Refused(_("There is no such invoice on your account."))
    invoices = sorted({i.pk: i for i in invoices}.values(), key=lambda i: (i.due_date, i.number))
    taken = pauses.disputed(invoices)
    if taken is not None:
        raise Refused(
            _("Invoice %(number)s is already disputed.") % {"number": taken.invoice.number}
        )
    kind = proof_kind(proof) if proof else ""
    open_hours, zone = hours.business_hours(company), ZoneInfo(company.time_zone)
    acknowledge_by = business_time.add_hours(now, company.dispute_ack_hours, open_hours, zone)
    resolve_by = business_time.add_days(now, company.dispute_resolve_days, open_hours, zone)
    today = hours.company_today(company, now)
    with transaction.atomic():
        stored = ""
        if proof:
            holder = Dispute(company=company, customer=customer)
            holder.proof.save(
                f"{customer.pk}-{now:%Y%m%d%H%M%S}.{kind}", ContentFile(proof), save=False
            )
            stored = holder.proof.name
        claim = pauses.Claim(category, stored, now, acknowledge_by, resolve_by)
        made = [
            pauses.open_dispute(
                invoice, today, reason=message.strip(), source="portal", claim=claim
            )
            for invoice in invoices
        ]
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
    language = staff_language(customer.company)
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
    notices.to_staff(customer.company, f"dispute-notice:{first.pk}", [address], subject, body, now)


def countdown(dispute: Dispute, now: datetime | None = None) -> dict[str, Any]:
    """Where a dispute stands against its service level, for the customer's page."""
    now = now or timezone.now()
    company = dispute.company
    found: dict[str, Any] = {"acknowledged": dispute.acknowledged_at is not None}
    if dispute.resolve_by is not None:
        zone = ZoneInfo(company.time_zone)
        left = business_time.left(now, dispute.resolve_by, hours.business_hours(company), zone)
        found["resolve_hours_left"] = int(left.total_seconds() // 3600)
        found["late"] = left.total_seconds() < 0
    return found


OUTCOMES = {
    "credit_note": gettext_lazy("A credit note is issued"),
    "corrected_invoice": gettext_lazy("A corrected invoice replaces it"),
    "rejected": gettext_lazy("The invoice stands"),
}


def acknowledge(dispute: Dispute, *, actor: Any = None, now: datetime | None = None) -> None:
    """A person has read it: the acknowledgement deadline is met (recorded once)."""
    now = now or timezone.now()
    if Dispute.objects.filter(pk=dispute.pk, acknowledged_at=None).update(acknowledged_at=now):
        dispute.acknowledged_at = now
        journal.record("dispute.acknowledged", dispute, actor=actor, source="web", data={})


def reply(dispute: Dispute, text: str, *, actor: Any = None, now: datetime | None = None) -> str:
    """A written answer to the customer (their billing contacts), which also acknowledges."""
    now = now or timezone.now()
    if not text.strip():
        raise Refused(_("Write the answer."))
    acknowledge(dispute, actor=actor, now=now)
    key = _to_customer(dispute, text.strip(), "reply", now)
    journal.record(
        "dispute.replied", dispute, actor=actor, source="web", data={"text": text.strip()}
    )
    return key


def resolve(
    dispute: Dispute,
    outcome: str,
    explanation: str,
    *,
    actor: Any = None,
    now: datetime | None = None,
) -> None:
    """Close the dispute with its outcome; the customer is told. A rejection must say why. The
    invoice returns to dunning the next day if it is still owed (a credit note or a corrected
    invoice comes through the ledger import)."""
    now = now or timezone.now()
    if outcome not in OUTCOMES:
        raise Refused(_("Choose how the dispute ends."))
    if outcome == "rejected" and not explanation.strip():
        raise Refused(_("Say why the invoice stands: the customer reads it."))
    today = hours.company_today(dispute.company, now)
    with transaction.atomic():
        acknowledge(dispute, actor=actor, now=now)
        resolution = f"{OUTCOMES[outcome]}. {explanation.strip()}".strip()
        pauses.resolve_dispute(
            dispute.invoice,
            max(today, dispute.opened_on),
            resolution=resolution,
            source="web",
            actor=actor,
        )
        with translation.override(dispute.customer.language or "en"):
            text = "\n\n".join(filter(None, [str(OUTCOMES[outcome]) + ".", explanation.strip()]))
        _to_customer(dispute, text, "resolved", now)


def _to_customer(dispute: Dispute, text: str, kind: str, now: datetime) -> str:
    customer = dispute.customer
    contacts = notices.billing_contacts(customer)
    if not contacts:
        return ""
    with translation.override(customer.language or "en"):
        subject = _("Your dispute about invoice %(number)s") % {"number": dispute.invoice.number}
        greeting = _("Hello,")
        closing = _("Kind regards,")
    key = f"dispute-{kind}:{dispute.pk}:{now:%Y%m%d%H%M%S%f}"
    OutboxMessage.objects.create(
        key=key,
        company=dispute.company,
        customer=customer,
        channel="email",
        to=[c.email for c in contacts],
        subject=subject,
        body=f"{greeting}\n\n{text}\n\n{closing}\n{dispute.company.name}\n",
        created_at=now,
        next_attempt_at=now,
    )
    return key


def escalate(now: datetime | None = None) -> int:
    """Disputes past their acknowledgement or resolution deadline: the company's admins and the
    customer's owner hear of it, once per dispute and deadline. Returns how many notices."""
    now = now or timezone.now()
    late = Dispute.objects.filter(resolved_on=None).filter(
        Q(acknowledged_at=None, acknowledge_by__lt=now) | Q(resolve_by__lt=now)
    )
    made = 0
    for dispute in late.select_related("company", "customer__owner", "invoice"):
        kind = "resolve" if dispute.resolve_by and dispute.resolve_by < now else "acknowledge"
        key = f"dispute-breach:{dispute.pk}:{kind}"
        if OutboxMessage.objects.filter(key=key).exists():
            continue
        company, customer = dispute.company, dispute.customer
        admins = list(
            Membership.objects.filter(company=company, role=Membership.Role.ADMIN)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
        owner = customer.owner.email if customer.owner else ""
        to = list(dict.fromkeys(filter(None, [*admins, owner]))) or list(
            filter(None, [company.email])
        )
        if not to:
            continue
        language = staff_language(company)
        deadline = dispute.resolve_by if kind == "resolve" else dispute.acknowledge_by
        with translation.override(language):
            subject = _("Late: the dispute of %(customer)s on %(number)s") % {
                "customer": customer.name,
                "number": dispute.invoice.number,
            }
            body = (
                _("The %(what)s deadline of this dispute was %(when)s and it is not met.")
                % {
                    "what": _("resolution") if kind == "resolve" else _("acknowledgement"),
                    "when": formatting.moment(deadline, company.time_zone, language),
                }
                + "\n\n"
                + _("Customer: %(customer)s (%(id)s). Their message: %(message)s")
                % {"customer": customer.name, "id": customer.external_id, "message": dispute.reason}
            )
        notices.to_staff(company, key, to, subject, body, now)
        journal.record(
            "dispute.escalated", dispute, source="web", data={"deadline": kind, "to": to}
        )
        made += 1
    return made
