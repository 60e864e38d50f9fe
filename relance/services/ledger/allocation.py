"""Keep stored allocations equal to the domain's replay of each customer's ledger.

Called after anything changes a customer's invoices, credit notes or payments. Works in batches of
customers with one query per table per batch, so re-allocating 100k customers stays set-based.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from itertools import islice

from relance.domain import ledger
from relance.domain.ledger import CREDIT_NOTE, PAYMENT, InvoiceLine, Position, Settlement, allocate
from relance.models import Allocation, CreditNote, Customer, Invoice, Payment
from relance.services.ledger import balances
from relance.services.sql import Inserter

BATCH = 500


def _batches(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    it = iter(sorted(set(ids)))
    while chunk := list(islice(it, size)):
        yield chunk


def customers_with_settlements(customer_ids: Iterable[int]) -> set[int]:
    """The customers among these who have any payment or credit note, i.e. anything to allocate."""
    found: set[int] = set()
    for chunk in _batches(customer_ids, 5000):
        for model in (Payment, CreditNote):
            found.update(
                model.objects.filter(customer_id__in=chunk)
                .values_list("customer_id", flat=True)
                .distinct()
            )
    return found


def load_ledgers(
    customer_ids: list[int],
) -> dict[int, tuple[list[InvoiceLine], list[Settlement]]]:
    """Domain snapshots of these customers' invoices and settlements, three queries in all."""
    ledgers: dict[int, tuple[list[InvoiceLine], list[Settlement]]] = defaultdict(lambda: ([], []))
    rows = Invoice.objects.filter(customer_id__in=customer_ids).values_list(
        "pk",
        "customer_id",
        "number",
        "issue_date",
        "due_date",
        "currency",
        "total",
        "status",
        "external_id",
    )
    for pk, cust, number, issued, due, cur, total, status, ext in rows:
        ledgers[cust][0].append(
            InvoiceLine(pk, number, issued, due, cur, total, status == Invoice.Status.VOID, ext)
        )
    for model, kind in ((Payment, PAYMENT), (CreditNote, CREDIT_NOTE)):
        srows = model.objects.filter(customer_id__in=customer_ids).values_list(
            "pk", "customer_id", "date", "currency", "amount", "invoice_id"
        )
        for pk, cust, day, cur, amount, invoice_id in srows:
            ledgers[cust][1].append(Settlement(pk, kind, day, cur, amount, invoice_id))
    return ledgers


def reallocate(customer_ids: Iterable[int]) -> int:
    """Rebuild the allocations of these customers; returns how many allocations now exist."""
    written = 0
    inserter = Inserter(Allocation)
    for chunk in _batches(customer_ids, BATCH):
        ledgers = load_ledgers(chunk)
        Allocation.objects.filter(invoice__customer_id__in=chunk).delete()
        rows = [
            {
                "invoice_id": a.invoice_id,
                "payment_id": a.source_id if a.source_kind == PAYMENT else None,
                "credit_note_id": a.source_id if a.source_kind == CREDIT_NOTE else None,
                "amount": a.amount,
                "date": a.date,
            }
            for invoices, settlements in ledgers.values()
            for a in allocate(invoices, settlements)
        ]
        inserter.insert(rows)
        balances.refresh(chunk)
        written += len(rows)
    return written


def customer_position(customer: Customer, as_of: date) -> tuple[Position, list[InvoiceLine]]:
    """One customer's amounts due and unallocated credit on a date, from stored allocations."""
    invoices, settlements = load_ledgers([customer.pk])[customer.pk]
    stored = Allocation.objects.filter(
        invoice__customer_id=customer.pk, date__lte=as_of
    ).values_list("invoice_id", "payment_id", "credit_note_id", "amount", "date")
    allocations = [
        ledger.Allocation(inv, PAYMENT if pay else CREDIT_NOTE, pay or cn, amount, day)
        for inv, pay, cn, amount, day in stored
    ]
    return ledger.position(invoices, settlements, as_of, allocations), invoices
