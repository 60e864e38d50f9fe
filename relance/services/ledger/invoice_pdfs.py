"""Invoice PDFs from the ERP, attached to reminders: a folder of files named after the invoices
(external id or number, e.g. `I001.pdf` or `F2026-0001.pdf`) is matched to the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction

from relance.domain.errors import NotFound
from relance.models import Company, Invoice

MAX_BYTES = 20 * 1024 * 1024


@dataclass
class PdfReport:
    attached: list[str] = field(default_factory=list)  # invoice external ids
    unchanged: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # file names
    refused: list[str] = field(default_factory=list)  # "file: why"


def attach_folder(folder: Path, company: Company) -> PdfReport:
    """Attach every `*.pdf` of `folder` to the company's invoice of that external id or number;
    a file that is not a PDF, or too large, is refused; re-running changes nothing."""
    if not folder.is_dir():
        raise NotFound(f"{folder} is not a folder")
    invoices = Invoice.objects.filter(company=company)
    by_id = {i.external_id: i for i in invoices}
    by_number = {i.number: i for i in by_id.values()}
    report = PdfReport()
    for path in sorted(folder.glob("*.pdf")):
        invoice = by_id.get(path.stem) or by_number.get(path.stem)
        if invoice is None:
            report.unmatched.append(path.name)
            continue
        content = path.read_bytes()
        if len(content) > MAX_BYTES or not content.startswith(b"%PDF"):
            report.refused.append(f"{path.name}: not a PDF, or over {MAX_BYTES // 2**20} MB")
            continue
        if invoice.pdf and invoice.pdf.size == len(content) and invoice.pdf.read() == content:
            report.unchanged.append(invoice.external_id)
            continue
        with transaction.atomic():
            invoice.pdf.save(f"{company.code}/{invoice.external_id}.pdf", ContentFile(content))
        report.attached.append(invoice.external_id)
    return report
