"""Allocation of payments and credit notes to invoices, and what each invoice still owes.

The ledger is replayed in date order, which makes every past date answerable from one result:
allocations dated on or before D are exactly those the ledger as it stood on D would produce.

Rules (DESIGN §3 rule 1):
- A payment or credit note naming an invoice settles that invoice first; anything it cannot use
  (the invoice is already settled, void, in another currency, or not issued yet on the payment's
  date) joins the customer's credit.
- Credit without an invoice settles open invoices of the same currency, oldest due date first
  (ties: issue date, then number). What no invoice needs stays as unallocated customer credit.
- Amounts never cross currencies and an invoice never owes less than zero.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from relance.domain.money import ZERO, Money, Totals

PAYMENT = "payment"
CREDIT_NOTE = "credit_note"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    id: Hashable
    number: str
    issue_date: date
    due_date: date
    currency: str
    total: Decimal
    void: bool = False
    external_id: str = ""  # the source system's id, for display; `id` is what allocations use

    def sort_key(self) -> tuple[date, date, str, str]:
        """Oldest due date first; ties by issue date, then number (DESIGN §3 rule 3)."""
        return (self.due_date, self.issue_date, self.number, str(self.id))


@dataclass(frozen=True, slots=True)
class Settlement:
    """Money the customer no longer owes: a payment received or a credit note issued."""

    id: Hashable
    kind: str  # PAYMENT or CREDIT_NOTE
    date: date
    currency: str
    amount: Decimal
    invoice_id: Hashable | None = None

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError(f"{self.kind} {self.id}: amount must be positive, got {self.amount}")


@dataclass(frozen=True, slots=True)
class Allocation:
    invoice_id: Hashable
    source_kind: str
    source_id: Hashable
    amount: Decimal
    date: date


@dataclass(frozen=True)
class Position:
    """A customer's ledger as of one date."""

    as_of: date
    amount_due: dict[Hashable, Decimal]
    credit: Totals = field(default_factory=Totals)

    def balance(self, lines: Iterable[InvoiceLine]) -> Totals:
        """What the customer owes per currency, net of unallocated credit."""
        totals = Totals()
        for line in lines:
            if line.id in self.amount_due:
                totals.add(Money(self.amount_due[line.id], line.currency))
        for currency, amount in self.credit.items():
            totals.add(Money(-amount, currency))
        return totals


def allocate(
    invoices: Sequence[InvoiceLine], settlements: Iterable[Settlement]
) -> list[Allocation]:
    """Replay one customer's ledger and return every allocation, each dated when it took effect."""
    by_id = {inv.id: inv for inv in invoices}
    remaining = {inv.id: inv.total for inv in invoices if not inv.void}
    issues: dict[date, list[InvoiceLine]] = defaultdict(list)
    for inv in invoices:
        if not inv.void and inv.total > 0:
            issues[inv.issue_date].append(inv)
    on_date: dict[date, list[Settlement]] = defaultdict(list)
    for s in settlements:
        on_date[s.date].append(s)

    open_heaps: dict[str, list[tuple[tuple[date, date, str, str], Hashable]]] = defaultdict(list)
    pools: dict[str, deque[list]] = defaultdict(deque)  # currency -> [settlement, unused amount]
    allocations: list[Allocation] = []

    def settle(inv: InvoiceLine, s: Settlement, available: Decimal, when: date) -> Decimal:
        used = min(available, remaining[inv.id])
        if used > 0:
            remaining[inv.id] -= used
            allocations.append(Allocation(inv.id, s.kind, s.id, used, when))
        return available - used

    for day in sorted(issues.keys() | on_date.keys()):
        for inv in issues.get(day, ()):
            heapq.heappush(open_heaps[inv.currency], (inv.sort_key(), inv.id))
        # Explicit settlements first, credit notes before payments, then by id: deterministic.
        todays = sorted(
            on_date.get(day, ()),
            key=lambda s: (s.invoice_id is None, s.kind != CREDIT_NOTE, str(s.id)),
        )
        for s in todays:
            target = by_id.get(s.invoice_id) if s.invoice_id is not None else None
            explicit = (
                target is not None
                and not target.void
                and target.currency == s.currency
                and target.issue_date <= day
            )
            left = settle(target, s, s.amount, day) if explicit and target else s.amount
            if left > 0:
                pools[s.currency].append([s, left])
        for currency, pool in pools.items():
            heap = open_heaps[currency]
            while pool and heap:
                _, inv_id = heap[0]
                if remaining[inv_id] <= 0:
                    heapq.heappop(heap)
                    continue
                entry = pool[0]
                entry[1] = settle(by_id[inv_id], entry[0], entry[1], day)
                if entry[1] <= 0:
                    pool.popleft()
    return allocations


def position(
    invoices: Sequence[InvoiceLine],
    settlements: Sequence[Settlement],
    as_of: date,
    allocations: Sequence[Allocation] | None = None,
) -> Position:
    """Amount due per invoice issued by `as_of` and unallocated credit per currency on that date."""
    if allocations is None:
        allocations = allocate(invoices, settlements)
    settled: dict[Hashable, Decimal] = defaultdict(lambda: ZERO)
    used: dict[str, Decimal] = defaultdict(lambda: ZERO)
    currency_of = {inv.id: inv.currency for inv in invoices}
    for a in allocations:
        if a.date <= as_of:
            settled[a.invoice_id] += a.amount
            used[currency_of[a.invoice_id]] += a.amount
    due = {
        inv.id: (ZERO if inv.void else inv.total - settled[inv.id])
        for inv in invoices
        if inv.issue_date <= as_of
    }
    received: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for s in settlements:
        if s.date <= as_of:
            received[s.currency] += s.amount
    credit = Totals()
    for currency, amount in received.items():
        left = amount - used[currency]
        if left:
            credit.add(Money(left, currency))
    return Position(as_of=as_of, amount_due=due, credit=credit)
