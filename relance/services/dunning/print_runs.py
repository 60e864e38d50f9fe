"""Print runs: a company's rendered letters, downloaded as one PDF (or handed to a print
provider) and then marked posted, which is when each letter's message counts as sent."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.module_loading import import_string

from relance.documents import merge_pdfs, page_count
from relance.domain.errors import Refusal
from relance.models import Company, OutboxMessage, PrintBatch, PrintedLetter
from relance.services.organisation import hours, journal


class PrintRunError(Refusal, ValueError):
    """The run cannot be used as asked (unknown, empty, already posted)."""


def file_letter(company_id: int, message_id: int, pdf: bytes) -> None:
    """Put a letter the letter channel accepted in its company's open print run (opening one when
    none is), never twice: a retry after a crash finds the letter already filed."""
    with transaction.atomic():
        if PrintedLetter.objects.filter(message_id=message_id).exists():
            return
        batch = (
            PrintBatch.objects.select_for_update()
            .filter(company_id=company_id, status=PrintBatch.Status.OPEN)
            .first()
        )
        if batch is None:
            try:
                with transaction.atomic():
                    batch = PrintBatch.objects.create(
                        company_id=company_id,
                        created_on=hours.company_today(Company.objects.get(pk=company_id)),
                    )
            except IntegrityError:  # opened meanwhile (a run posted with letters after it)
                batch = PrintBatch.objects.get(company_id=company_id, status=PrintBatch.Status.OPEN)
        PrintedLetter.objects.create(
            batch=batch, message_id=message_id, pdf=pdf, pages=page_count(pdf)
        )


def summary(batch: PrintBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "company": batch.company.code,
        "created_on": batch.created_on.isoformat(),
        "status": batch.status,
        "letters": getattr(batch, "count", None) or batch.letters.count(),
        "pages": getattr(batch, "page_total", None) or 0,
        "posted_at": batch.posted_at.isoformat() if batch.posted_at else None,
        "posted_by": batch.posted_by,
        "provider_reference": batch.provider_reference,
    }


def runs(status: str | None = None) -> list[dict[str, Any]]:
    query = PrintBatch.objects.select_related("company").annotate(
        count=Count("letters"), page_total=Sum("letters__pages")
    )
    if status:
        query = query.filter(status=status)
    return [summary(b) for b in query]


def _batch(batch_id: int) -> PrintBatch:
    batch = PrintBatch.objects.select_related("company").filter(pk=batch_id).first()
    if batch is None:
        raise PrintRunError(f"no print run {batch_id}")
    return batch


def _letters(batch: PrintBatch, through: int | None) -> Any:
    """The run's letters, up to letter `through` when given: what a person downloaded, as an
    open run keeps receiving letters while they print."""
    letters = batch.letters.order_by("pk")
    return letters.filter(pk__lte=through) if through is not None else letters


def last_letter(batch: PrintBatch) -> int | None:
    """The id of the run's latest letter: a page hands it to the download and to "posted" so
    that both mean the same letters."""
    return batch.letters.order_by("-pk").values_list("pk", flat=True).first()


def document(batch_id: int, *, duplex: bool = False, through: int | None = None) -> bytes:
    """The whole run as one PDF, letters in the order they were filed (up to `through`)."""
    batch = _batch(batch_id)
    pdfs: Iterable[bytes] = (
        bytes(p) for p in _letters(batch, through).values_list("pdf", flat=True)
    )
    letters = list(pdfs)
    if not letters:
        raise PrintRunError(f"print run {batch_id} holds no letter")
    return merge_pdfs(letters, duplex=duplex)


def mark_posted(
    batch_id: int, by: str, provider_reference: str = "", *, through: int | None = None
) -> dict[str, Any]:
    """Close the run: its letters' messages become sent, now. With `through`, only the letters
    up to that one were printed: those filed since go to a new open run, to be printed with
    the next one, instead of being recorded as posted when nobody printed them."""
    now = timezone.now()
    with transaction.atomic():
        batch = (
            PrintBatch.objects.select_for_update()
            .select_related("company")
            .get(pk=_batch(batch_id).pk)
        )
        if batch.status == PrintBatch.Status.POSTED:
            raise PrintRunError(f"print run {batch_id} was already posted on {batch.posted_at}")
        batch.status = PrintBatch.Status.POSTED
        batch.posted_at = now
        batch.posted_by = by[:200]
        batch.provider_reference = provider_reference[:200]
        batch.save()
        later = batch.letters.filter(pk__gt=through) if through is not None else None
        if later is not None and later.exists():
            following = PrintBatch.objects.create(
                company=batch.company, created_on=hours.company_today(batch.company)
            )
            later.update(batch=following)
        letters = OutboxMessage.objects.filter(
            letter__batch=batch, status=OutboxMessage.Status.PRINTING
        )
        posted = list(letters.select_related("customer"))
        sent = letters.update(status=OutboxMessage.Status.SENT, sent_at=now)
        journal.tell("reminder.sent", posted)
        journal.record(
            "letters.posted",
            batch.company,
            source="print",
            data={"run": batch.pk, "letters": sent, "by": by, "reference": provider_reference},
        )
    return summary(batch)


class PrintProvider(Protocol):
    def submit(self, pdf: bytes, batch: PrintBatch) -> str:
        """Hand the run over for printing and posting; return the provider's reference."""


class DirectoryProvider:
    """Drops each run's PDF into RELANCE_PRINT_DIR, for a print shop's hot folder."""

    def submit(self, pdf: bytes, batch: PrintBatch) -> str:
        folder = Path(settings.RELANCE_PRINT_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{batch.company.code}-run-{batch.pk}.pdf"
        target.write_bytes(pdf)
        return str(target)


def send_to_provider(batch_id: int) -> dict[str, Any]:
    """Submit the run to the configured provider, then record it posted by that provider."""
    provider: PrintProvider = import_string(settings.RELANCE_PRINT_PROVIDER)()
    pdf = document(batch_id, duplex=True)
    reference = provider.submit(pdf, _batch(batch_id))
    return mark_posted(batch_id, by=type(provider).__name__, provider_reference=reference)
