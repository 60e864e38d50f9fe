"""Email through Django's mail framework: SMTP, an ESP through django-anymail, or one .eml file per
message in embedded mode (settings.EMAIL_BACKEND).

Each message carries a Message-ID derived from its outbox key, so a retry after a crash is the
same message to the receiving side, a plain-text part (the composed body) and an HTML part in the
company's branding, the invoices its step attaches, Reply-To the customer's owner (else the
company's reply-to address), and the CC addresses the step names. An SMTP server that refuses a
recipient for good (5xx) marks that contact bounced: the next message goes to another contact,
and the owner gets a task when none is left (see services.cycle.recipients).
"""

from __future__ import annotations

import hashlib
import html
import re
import smtplib
from email.mime.image import MIMEImage
from email.utils import formataddr
from functools import cache
from itertools import groupby
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends import smtp
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import sanitize_address
from jinja2 import Environment, FileSystemLoader, select_autoescape

from relance.channels.base import DeliveryError
from relance.messaging.text import reflow
from relance.models import Company, Invoice, OutboxMessage
from relance.services.dunning.bounces import mark_bounced

TEMPLATES = Path(__file__).resolve().parent / "templates"
_URL = re.compile(r"(https?://[^\s<>\"]+)")


def message_id(key: str, domain: str) -> str:
    """Stable for one outbox message: the receiving side can tell a retry from a new message."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "relance.invalid"


@cache
def _html_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True)
    )


def paragraphs(text: str) -> list[dict[str, Any]]:
    """The plain-text body as blocks for the HTML part: paragraphs (short lines kept), and runs
    of "- " lines as lists; wrapped prose is joined again; text is escaped, links made links."""
    blocks: list[dict[str, Any]] = []
    for chunk in reflow(text).split("\n\n"):
        for is_item, run in groupby(
            chunk.splitlines(), key=lambda ln: ln.lstrip().startswith("- ")
        ):
            lines = list(run)
            if is_item:
                blocks.append({"list": [_linked(ln.lstrip()[2:]) for ln in lines]})
            else:
                blocks.append({"text": "<br>".join(_linked(ln) for ln in lines)})
    return blocks


def _linked(line: str) -> str:
    escaped = html.escape(line)
    return _URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)


def render_html(subject: str, body: str, company: Company, logo_cid: str | None) -> str:
    return (
        _html_environment()
        .get_template("email.html")
        .render(
            subject=subject,
            blocks=paragraphs(body),
            company=company,
            colour=company.brand_colour or "#1f3a5f",
            logo_cid=logo_cid,
        )
    )


class EmailChannel:
    """Sends through one mail connection kept open across the messages of a delivery run."""

    def __init__(self) -> None:
        self._connection: BaseEmailBackend | None = None

    def connection(self) -> BaseEmailBackend:
        if self._connection is None:
            self._connection = get_connection(fail_silently=False)
            self._connection.open()
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def send(self, message: OutboxMessage) -> None:
        email = self.build(message)
        try:
            self.connection().send_messages([email])
            status = getattr(email, "anymail_status", None)  # an ESP's id, for its webhooks
            message.provider_id = (status.message_id or "") if status else ""
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            refused = {r: code for r, (code, _) in error.recipients.items()}
            permanent = [r for r, code in refused.items() if code >= 500]
            if permanent and message.customer_id:  # a staff address is no customer contact
                mark_bounced(
                    message.company_id,
                    message.customer_id,
                    permanent,
                    "; ".join(f"{r}: {c}" for r, c in refused.items()),
                    source="email",
                )
            raise DeliveryError(
                f"recipients refused: {refused}", permanent=len(permanent) == len(refused)
            ) from None
        except smtplib.SMTPResponseException as error:
            self.close()
            reply = error.smtp_error
            text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
            raise DeliveryError(
                f"SMTP {error.smtp_code}: {text}", permanent=error.smtp_code >= 500
            ) from None
        except (smtplib.SMTPException, OSError) as error:  # timeouts are OSErrors
            self.close()  # a broken connection: the next message opens a fresh one
            raise DeliveryError(f"mail server unavailable: {error}") from None
        refused = {address: code for address, (code, _) in getattr(email, "refused", {}).items()}
        if refused:
            self._partly_refused(message, refused)

    @staticmethod
    def _partly_refused(message: OutboxMessage, refused: dict[str, int]) -> None:
        """Some recipients took the message, others refused it. Those refused for good bounce.
        Those refused for now are tried again, alone: the others must not receive it twice.
        When every addressee (To) refused it for good, the message failed (CC only is not a
        delivery)."""
        detail = "; ".join(f"{address}: {code}" for address, code in refused.items())
        permanent = [a for a, code in refused.items() if code >= 500]
        if permanent and message.customer_id:
            mark_bounced(message.company_id, message.customer_id, permanent, detail, "email")
        later = [a for a, code in refused.items() if code < 500]
        if later:
            raise DeliveryError(f"refused for now ({detail})", retry_only=later)
        if all(address in refused for address in message.to):
            raise DeliveryError(f"addressees refused ({detail}); CC delivered", permanent=True)

    def build(self, message: OutboxMessage) -> EmailMultiAlternatives:
        customer = message.customer  # claimed with its company and owner (services.dunning.outbox)
        company = message.company
        sender = company.sender_email or settings.DEFAULT_FROM_EMAIL
        owner = customer.owner if customer else None  # none for a message to staff
        reply_to = (owner.email if owner else "") or company.reply_to
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=formataddr((company.name, sender)),
            to=list(message.to),
            cc=list(message.cc),
            reply_to=[reply_to] if reply_to else None,
            headers={
                "Message-ID": message_id(message.key, _domain(sender)),
                "X-Relance-Key": message.key[:200],
            },
        )
        logo_cid = None
        if company.logo:
            logo_cid = "logo"
            image = MIMEImage(company.logo.read())
            image.add_header("Content-ID", f"<{logo_cid}>")
            image.add_header("Content-Disposition", "inline", filename=Path(company.logo.name).name)
            email.attach(image)
        email.attach_alternative(
            render_html(message.subject, message.body, company, logo_cid), "text/html"
        )
        for name, content in invoice_pdfs(message):
            email.attach(name, content, "application/pdf")
        return email


def invoice_pdfs(message: OutboxMessage) -> list[tuple[str, bytes]]:
    """The PDFs of the invoices the step attaches: the invoice imported from the ERP, or, when
    there is none and RELANCE_INVOICE_SUMMARIES is on, a generated one-page summary (about a
    fifth of a second each: off by default, so a day's emails are not held up by PDF layout)."""
    composed = message.composed
    if composed is None or not composed.attachments:
        return []
    lines = {i["id"]: i for i in composed.values.get("invoices", [])}
    if reference := composed.values.get("reference"):
        lines.setdefault(reference["id"], reference)
    found = []
    for invoice in Invoice.objects.filter(pk__in=composed.attachments).order_by("due_date", "pk"):
        name = re.sub(r"[^\w.-]+", "-", invoice.number).strip("-") or str(invoice.pk)
        if invoice.pdf:
            with invoice.pdf.open("rb") as handle:
                found.append((f"{name}.pdf", handle.read()))
        elif settings.RELANCE_INVOICE_SUMMARIES and invoice.external_id in lines:
            found.append((f"{name}-summary.pdf", _summary(message, lines[invoice.external_id])))
    return found


def _summary(message: OutboxMessage, line: dict[str, Any]) -> bytes:
    from relance.channels.letter import stationery
    from relance.documents import InvoiceLine, Party, render_invoice_summary

    customer = message.customer
    assert customer is not None  # only a customer's message attaches invoices
    return render_invoice_summary(
        stationery(customer.company),
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


def on_tracking_event(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """An ESP reports a bounce or a rejection (anymail's tracking webhook): the contact is
    marked bounced, found through the message the ESP names."""
    if event.event_type not in ("bounced", "rejected") or not event.message_id:
        return
    message = OutboxMessage.objects.filter(provider_id=event.message_id).first()
    if message is None or not event.recipient:
        return
    detail = f"{esp_name}: {event.event_type} {event.reject_reason or ''} {event.description or ''}"
    mark_bounced(
        message.company_id, message.customer_id, [event.recipient], detail, source=esp_name
    )


class SmtpBackend(smtp.EmailBackend):
    """Django's SMTP backend, except that recipients the server refused while accepting others
    are kept on the message (`refused`: address -> (code, reply)) instead of being ignored."""

    def _send(self, email_message: Any) -> bool:
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(email_message.from_email, encoding)
        recipients = [sanitize_address(a, encoding) for a in email_message.recipients()]
        content = email_message.message().as_bytes(linesep="\r\n")
        assert self.connection is not None
        email_message.refused = self.connection.sendmail(sender, recipients, content)
        return True


class EmlDirectoryBackend(BaseEmailBackend):
    """The embedded default: each message as <RELANCE_OUTBOX_DIR>/email/<Message-ID hash>.eml,
    replaced when the same message is sent again, so a retry never leaves two copies."""

    def send_messages(self, email_messages: Any) -> int:
        folder = Path(settings.RELANCE_OUTBOX_DIR) / "email"
        folder.mkdir(parents=True, exist_ok=True)
        for email in email_messages:
            ident = email.extra_headers.get("Message-ID", "") or str(id(email))
            name = hashlib.sha256(ident.encode()).hexdigest()[:32]
            temporary = folder / f"{name}.tmp"
            temporary.write_bytes(email.message().as_bytes())
            temporary.replace(folder / f"{name}.eml")
        return len(email_messages)
