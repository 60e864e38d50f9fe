"""The one small interface every delivery channel implements."""

from __future__ import annotations

from typing import Protocol

from relance.domain.errors import RelanceError
from relance.models import OutboxMessage


class DeliveryError(RelanceError):
    """A delivery failed; `permanent` failures are not retried (e.g. an invalid address)."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_only: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        # After a partial delivery: the addresses still to reach, so a retry repeats nothing.
        self.retry_only = retry_only


class Channel(Protocol):
    def send(self, message: OutboxMessage) -> None:
        """Deliver the message or raise DeliveryError. Must be safe to call again with the same
        message after a crash (the outbox key is the message's stable identity)."""
