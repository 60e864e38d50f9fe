"""What leaves for one outbox message, composed in one place for every channel (domain.delivery's
`Delivery`): the text the composer wrote, and for an email its sender, Reply-To, HTML part in the
company's branding and the invoices its step attaches, for a letter its PDF on the company's
stationery. The channels only carry it (relance.channels), so none of them reads the database.

What the outbox does with a channel's answer that is not transport lives here too: contacts whose
address bounced, and a letter filed in its company's print run.
"""

from __future__ import annotations

import dataclasses
import mimetypes
import re
from pathlib import Path
from typing import Any

from django.conf import settings

from relance.documents import InvoiceLine, Party, render_invoice_summary, render_letter
from relance.domain.delivery import Attachment, Bounced, Delivery, DeliveryError
from relance.messaging.email_html import Branding, render_html
from relance.models import Company, Customer, Invoice, OutboxMessage
from relance.services.dunning.bounces import mark_bounced
from relance.services.dunning.letters import build_letter, stationery
from relance.services.dunning.messages import Composed
from relance.services.organisation.companies import legal_identity

LOGO_CID = "logo"


def compose(message: OutboxMessage, text: Composed | None = None) -> Delivery:
    """The delivery of a claimed message (its customer, company and owner loaded with it) whose
    subject and body were just composed (`text`: the composer's values, for letters and
    attachments)."""
    text = text or Composed(subject=message.subject, body=message.body)
    customer = message.customer
    delivery = Delivery(
        key=message.key,
        outbox_id=message.pk,
        channel=message.channel,
        to=tuple(message.to),
        cc=tuple(message.cc),
        subject=message.subject,
        body=message.body,
        customer=customer.external_id if customer else None,
    )
    if message.channel == "email":
        return _email(delivery, message, text)
    if message.channel == "letter" and customer and (customer.address_line1 or customer.city):
        return dataclasses.replace(delivery, letter=_letter(customer, text))
    return delivery


def _email(delivery: Delivery, message: OutboxMessage, text: Composed) -> Delivery:
    company = message.company
    customer = message.customer
    owner = customer.owner if customer else None  # none for a message to staff
    attachments: list[Attachment] = []
    if company.logo:
        with company.logo.open("rb") as handle:
            logo = handle.read()
        name = Path(company.logo.name).name
        mime = mimetypes.guess_type(name)[0] or "image"
        attachments.append(Attachment(name, mime, logo, LOGO_CID))
    attachments += invoice_pdfs(customer, text)
    return dataclasses.replace(
        delivery,
        sender=company.sender_email or settings.DEFAULT_FROM_EMAIL,
        sender_name=company.name,
        reply_to=(owner.email if owner else "") or company.reply_to,
        html=render_html(
            message.subject,
            message.body,
            branding(company, customer.language if customer else "en"),
            LOGO_CID if company.logo else None,
        ),
        attachments=tuple(attachments),
    )


def branding(company: Company, language: str = "en") -> Branding:
    """What the HTML part shows of the company, its legal mentions in the reader's language."""
    language = "fr" if language == "fr" else "en"
    return Branding(
        name=company.name,
        colour=company.brand_colour or "#1f3a5f",
        registration_number=company.registration_number,
        vat_number=company.vat_number,
        address_line1=company.address_line1,
        address_line2=company.address_line2,
        postal_code=company.postal_code,
        city=company.city,
        email=company.email,
        phone=company.phone,
        legal_identity=legal_identity(company, language),
        language=language,
    )


def _letter(customer: Customer, text: Composed) -> bytes:
    try:
        return render_letter(build_letter(customer, text))
    except ValueError as error:  # an address too long for the window, a bad logo…
        raise DeliveryError(f"cannot lay out the letter: {error}", permanent=True) from None


def invoice_pdfs(customer: Customer | None, text: Composed) -> list[Attachment]:
    """The PDFs of the invoices the step attaches: the invoice imported from the ERP, or, when
    there is none and RELANCE_INVOICE_SUMMARIES is on, a generated one-page summary (about a
    fifth of a second each: off by default, so a day's emails are not held up by PDF layout)."""
    if customer is None or not text.attachments:
        return []
    lines = {i["id"]: i for i in text.values.get("invoices", [])}
    if reference := text.values.get("reference"):
        lines.setdefault(reference["id"], reference)
    found = []
    for invoice in Invoice.objects.filter(pk__in=text.attachments).order_by("due_date", "pk"):
        name = re.sub(r"[^\w.-]+", "-", invoice.number).strip("-") or str(invoice.pk)
        if invoice.pdf:
            with invoice.pdf.open("rb") as handle:
                found.append(Attachment(f"{name}.pdf", "application/pdf", handle.read()))
        elif settings.RELANCE_INVOICE_SUMMARIES and invoice.external_id in lines:
            summary = _summary(customer, lines[invoice.external_id])
            found.append(Attachment(f"{name}-summary.pdf", "application/pdf", summary))
    return found


def _summary(customer: Customer, line: dict[str, Any]) -> bytes:
    return render_invoice_summary(
        stationery(customer.company, customer.language),
        Party(customer.name),
        InvoiceLine(
            line["number"],
            line["issue_date"],
            line["due_date"],
            line["total"],
            line["amount_due"],
            line["days_late"],
            line["late_interest"],
            line["fixed_indemnity"],
        ),
        "fr" if customer.language == "fr" else "en",
    )


def bounce(message: OutboxMessage, bounced: Bounced | None) -> None:
    """Mark the contacts whose addresses the channel reports refused for good (a staff address,
    on a message without a customer, is no customer contact)."""
    if bounced and message.customer_id:
        mark_bounced(
            message.company_id,
            message.customer_id,
            list(bounced.addresses),
            bounced.detail,
            source=message.channel,
        )
