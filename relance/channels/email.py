"""Email through Django's mail framework: SMTP, an ESP through django-anymail, or one .eml file per
message in embedded mode (settings.EMAIL_BACKEND).

Each message carries a Message-ID derived from its outbox key, so a retry after a crash is the
same message to the receiving side, a plain-text part and an HTML part, with the attachments and
addresses composed for it (services.dunning.delivery). Recipients an SMTP server refuses for good
(5xx) are reported as bounced: the outbox marks those contacts, the next message goes to another
contact, and the owner gets a task when none is left (see services.dunning.cycle).
"""

from __future__ import annotations

import hashlib
import smtplib
from email.mime.image import MIMEImage
from email.utils import formataddr
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends import smtp
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import sanitize_address

from relance.domain.delivery import Bounced, Delivery, DeliveryError, Sent


def message_id(key: str, domain: str) -> str:
    """Stable for one outbox message: the receiving side can tell a retry from a new message."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "relance.invalid"


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

    def send(self, delivery: Delivery) -> Sent:
        email = self.build(delivery)
        try:
            self.connection().send_messages([email])
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            refused = {r: code for r, (code, _) in error.recipients.items()}
            permanent = tuple(r for r, code in refused.items() if code >= 500)
            detail = "; ".join(f"{r}: {c}" for r, c in refused.items())
            raise DeliveryError(
                f"recipients refused: {refused}",
                permanent=len(permanent) == len(refused),
                bounced=Bounced(permanent, detail) if permanent else None,
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
        status = getattr(email, "anymail_status", None)  # an ESP's id, for its webhooks
        provider_id = (status.message_id or "") if status else ""
        refused = {address: code for address, (code, _) in getattr(email, "refused", {}).items()}
        return Sent(provider_id, self._partly_refused(delivery, refused) if refused else None)

    @staticmethod
    def _partly_refused(delivery: Delivery, refused: dict[str, int]) -> Bounced | None:
        """Some recipients took the message, others refused it. Those refused for good bounce.
        Those refused for now are tried again, alone: the others must not receive it twice.
        When every addressee (To) refused it for good, the message failed (CC only is not a
        delivery)."""
        detail = "; ".join(f"{address}: {code}" for address, code in refused.items())
        permanent = tuple(a for a, code in refused.items() if code >= 500)
        bounced = Bounced(permanent, detail) if permanent else None
        later = [a for a, code in refused.items() if code < 500]
        if later:
            raise DeliveryError(f"refused for now ({detail})", retry_only=later, bounced=bounced)
        if all(address in refused for address in delivery.to):
            raise DeliveryError(
                f"addressees refused ({detail}); CC delivered", permanent=True, bounced=bounced
            )
        return bounced

    @staticmethod
    def build(delivery: Delivery) -> EmailMultiAlternatives:
        email = EmailMultiAlternatives(
            subject=delivery.subject,
            body=delivery.body,
            from_email=formataddr((delivery.sender_name, delivery.sender)),
            to=list(delivery.to),
            cc=list(delivery.cc),
            reply_to=[delivery.reply_to] if delivery.reply_to else None,
            headers={
                "Message-ID": message_id(delivery.key, _domain(delivery.sender)),
                "X-Relance-Key": delivery.key[:200],
            },
        )
        for attachment in delivery.attachments:
            if attachment.content_id:  # shown in the HTML part
                image = MIMEImage(attachment.content)
                image.add_header("Content-ID", f"<{attachment.content_id}>")
                image.add_header("Content-Disposition", "inline", filename=attachment.filename)
                email.attach(image)
            else:
                email.attach(attachment.filename, attachment.content, attachment.mime)
        if delivery.html:
            email.attach_alternative(delivery.html, "text/html")
        return email


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
