"""The letter channel as transport only (plain values in, no database), and the print run that
files each accepted letter exactly once, retries after a crash included."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfWriter

from relance.channels.letter import LetterChannel
from relance.domain.delivery import Delivery, DeliveryError, Sent
from relance.models import Customer, OutboxMessage, PrintBatch, PrintedLetter
from relance.services.dunning.print_runs import file_letter


def letter(customer: str | None = "C1", pdf: bytes | None = b"%PDF") -> Delivery:
    return Delivery(
        key="acme:letter:1", outbox_id=7, channel="letter", to=(), customer=customer, letter=pdf
    )


def test_a_laid_out_letter_waits_for_its_print_run() -> None:
    assert LetterChannel().send(letter()) == Sent(printing=True)


@pytest.mark.parametrize(
    ("delivery", "error"),
    [
        (letter(customer=None), "a letter goes to a customer: this message has none"),
        (letter(pdf=None), "no postal address for customer C1: add it"),
    ],
)
def test_a_letter_that_cannot_be_posted_is_refused_for_good(delivery, error) -> None:
    with pytest.raises(DeliveryError, match=error) as refused:
        LetterChannel().send(delivery)
    assert refused.value.permanent


def _pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def test_each_letter_is_filed_once_in_the_company_s_open_run(company) -> None:
    customer = Customer.objects.create(company=company, external_id="C1", name="Acme")
    first, second = (
        OutboxMessage.objects.create(
            key=f"k{n}", company=company, customer=customer, channel="letter", to=[]
        )
        for n in (1, 2)
    )
    file_letter(company.pk, first.pk, _pdf(2))
    file_letter(company.pk, first.pk, _pdf(2))  # the worker died before recording the first
    file_letter(company.pk, second.pk, _pdf(1))
    [run] = PrintBatch.objects.all()
    assert run.status == PrintBatch.Status.OPEN
    filed = PrintedLetter.objects.filter(batch=run).order_by("pk")
    assert [(p.message_id, p.pages) for p in filed] == [(first.pk, 2), (second.pk, 1)]
