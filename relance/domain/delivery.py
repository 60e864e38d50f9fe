"""The port between the outbox and the delivery channels: plain values both sides may import.

A channel is transport only: it is handed everything a message says (`Delivery`, composed by
services.dunning.delivery) and answers what happened (`Sent`) or raises DeliveryError. It never
reads the database, so a channel can be swapped (settings.RELANCE_CHANNELS) or tested without one,
and what a message says is decided in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from relance.domain.errors import RelanceError


@dataclass(frozen=True)
class Attachment:
    """A file sent with the message; one with a `content_id` is shown inside the HTML part (the
    company's logo)."""

    filename: str
    mime: str
    content: bytes
    content_id: str = ""


@dataclass(frozen=True)
class Bounced:
    """Addresses refused for good: the outbox marks their contacts bounced, so the next message
    goes to another contact."""

    addresses: tuple[str, ...]
    detail: str


@dataclass(frozen=True)
class Delivery:
    """One message as it leaves. `key` is the outbox key: the idempotency key a retry after a
    crash repeats, so the receiving side can recognise it."""

    key: str
    outbox_id: int
    channel: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    html: str = ""
    attachments: tuple[Attachment, ...] = ()
    sender: str = ""  # the From address
    sender_name: str = ""
    reply_to: str = ""
    customer: str | None = None  # the customer's external id; None for a message to staff
    letter: bytes | None = None  # the letter's PDF, when the customer has a postal address


@dataclass(frozen=True)
class Sent:
    """What the outbox records of a delivery the channel took: the provider's id (an ESP's, for
    its tracking webhooks), addresses refused for good while others took it, and whether the
    message waits for the print run to be posted instead of counting as sent now (a letter)."""

    provider_id: str = ""
    bounced: Bounced | None = None
    printing: bool = False


class DeliveryError(RelanceError):
    """A delivery failed; `permanent` failures are not retried (e.g. an invalid address)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_only: list[str] | None = None,
        bounced: Bounced | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        # After a partial delivery: the addresses still to reach, so a retry repeats nothing.
        self.retry_only = retry_only
        self.bounced = bounced


class Channel(Protocol):
    def send(self, delivery: Delivery) -> Sent:
        """Deliver the message or raise DeliveryError. Must be safe to call again with the same
        delivery after a crash (its key is the message's stable identity)."""
