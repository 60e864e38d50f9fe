"""Printed documents: dunning letters and invoice summaries as PDF, and the day's print run.

Pure rendering: plain frozen values in, PDF bytes out; no database, no Django models. The
services layer builds `Letter` values (amounts and dates already formatted for the customer) and
decides where the bytes go (print queue, e-mail attachment).
"""

from relance.documents.model import (
    InvoiceLine,
    Language,
    Letter,
    Paper,
    Party,
    PaymentInstructions,
    Stationery,
)
from relance.documents.pdf import merge_pdfs, page_count
from relance.documents.render import render_invoice_summary, render_letter

__all__ = [
    "InvoiceLine",
    "Language",
    "Letter",
    "Paper",
    "Party",
    "PaymentInstructions",
    "Stationery",
    "merge_pdfs",
    "page_count",
    "render_invoice_summary",
    "render_letter",
]
