"""Letters: the composer lays each one out on the company's stationery (services.dunning.letters);
this channel hands the PDF to the company's open print run, which is downloaded as one PDF (or
handed to a print provider) and marked posted, which is when its letters count as sent
(services.dunning.print_runs).

The print run is a queue in the database, so the outbox files the letter there when this channel
answers `printing` (services.dunning.print_runs.file_letter): the channel stays transport only,
and a retry after a crash finds the letter already filed.
"""

from __future__ import annotations

from relance.domain.delivery import Delivery, DeliveryError, Sent


class LetterChannel:
    """Accepts a laid-out letter for the print run; refuses for good a letter that cannot be
    posted (no customer, no postal address)."""

    def send(self, delivery: Delivery) -> Sent:
        if delivery.customer is None:
            raise DeliveryError(
                "a letter goes to a customer: this message has none", permanent=True
            )
        if delivery.letter is None:
            raise DeliveryError(
                f"no postal address for customer {delivery.customer}: add it (customers "
                "CSV columns address_line1, postal_code, city), then send the letter again",
                permanent=True,
            )
        return Sent(printing=True)
