"""Allocation and amount due: worked examples and properties over random ledgers."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from relance.domain.ledger import (
    CREDIT_NOTE,
    PAYMENT,
    InvoiceLine,
    Settlement,
    allocate,
    position,
)

D0 = date(2026, 1, 1)


def inv(id, due, total, currency="EUR", issued=None, void=False, number=None):
    issued = issued or due - timedelta(days=30)
    return InvoiceLine(id, number or f"N{id}", issued, due, currency, Decimal(total), void)


def pay(id, day, amount, invoice=None, currency="EUR", kind=PAYMENT):
    return Settlement(id, kind, day, currency, Decimal(amount), invoice)


def test_explicit_payment_settles_its_invoice_only():
    invoices = [inv(1, date(2026, 2, 1), "100"), inv(2, date(2026, 3, 1), "100")]
    pos = position(invoices, [pay("p", date(2026, 2, 15), "60", invoice=2)], date(2026, 2, 20))
    assert pos.amount_due == {1: Decimal("100"), 2: Decimal("40")}
    assert dict(pos.credit) == {}


def test_unallocated_payment_goes_to_oldest_due_date_first():
    invoices = [
        inv(1, date(2026, 3, 1), "100", number="B"),
        inv(2, date(2026, 2, 1), "100", number="C"),
        inv(3, date(2026, 2, 1), "100", number="A"),  # same due and issue date: number decides
    ]
    pos = position(invoices, [pay("p", date(2026, 3, 5), "150")], date(2026, 3, 5))
    assert pos.amount_due == {3: Decimal("0"), 2: Decimal("50"), 1: Decimal("100")}


def test_overpayment_of_an_invoice_settles_others_then_stays_as_credit():
    invoices = [inv(1, date(2026, 2, 1), "100"), inv(2, date(2026, 3, 1), "50")]
    pos = position(invoices, [pay("p", date(2026, 2, 10), "200", invoice=1)], date(2026, 3, 1))
    assert pos.amount_due == {1: 0, 2: 0}
    assert dict(pos.credit) == {"EUR": Decimal("50")}


def test_credit_waits_for_the_next_invoice_and_is_dated_then():
    invoices = [inv(1, date(2026, 5, 1), "80", issued=date(2026, 4, 1))]
    # Naming an invoice that is not issued yet on the payment date makes it plain credit.
    settlements = [pay("p", date(2026, 3, 1), "100", invoice=1)]
    before = position(invoices, settlements, date(2026, 3, 31))
    assert before.amount_due == {}
    assert dict(before.credit) == {"EUR": Decimal("100")}
    after = position(invoices, settlements, date(2026, 4, 1))
    assert after.amount_due == {1: 0}
    assert dict(after.credit) == {"EUR": Decimal("20")}
    assert [a.date for a in allocate(invoices, settlements)] == [date(2026, 4, 1)]


def test_currencies_never_mix():
    invoices = [inv(1, date(2026, 2, 1), "100", "EUR"), inv(2, date(2026, 2, 1), "100", "GBP")]
    pos = position(invoices, [pay("p", date(2026, 2, 5), "70", currency="GBP")], date(2026, 3, 1))
    assert pos.amount_due == {1: Decimal("100"), 2: Decimal("30")}
    # A payment naming an invoice in another currency is credit in its own currency.
    pos = position(invoices, [pay("q", date(2026, 2, 5), "500", 1, "USD")], date(2026, 3, 1))
    assert pos.amount_due[1] == 100
    assert dict(pos.credit) == {"USD": Decimal("500")}


def test_void_invoice_owes_nothing_and_takes_nothing():
    invoices = [inv(1, date(2026, 2, 1), "100", void=True), inv(2, date(2026, 3, 1), "100")]
    pos = position(invoices, [pay("p", date(2026, 2, 5), "30", invoice=1)], date(2026, 3, 1))
    assert pos.amount_due == {1: 0, 2: Decimal("70")}


def test_credit_note_and_payment_on_the_same_day():
    invoices = [inv(1, date(2026, 2, 1), "100")]
    settlements = [
        pay("p", date(2026, 2, 5), "100", invoice=1),
        pay("c", date(2026, 2, 5), "30", invoice=1, kind=CREDIT_NOTE),
    ]
    pos = position(invoices, settlements, date(2026, 2, 5))
    assert pos.amount_due == {1: 0}
    assert dict(pos.credit) == {"EUR": Decimal("30")}
    # the credit note applies first (it reduces what was invoiced), the payment's excess is credit
    allocs = {a.source_id: a.amount for a in allocate(invoices, settlements)}
    assert allocs == {"c": Decimal("30"), "p": Decimal("70")}


# --- properties -------------------------------------------------------------------------------

CURRENCIES = ["EUR", "GBP"]
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
days = st.integers(min_value=0, max_value=200)


@st.composite
def ledgers(draw):
    n = draw(st.integers(min_value=0, max_value=8))
    invoices = []
    for i in range(n):
        issued = D0 + timedelta(days=draw(days))
        invoices.append(
            InvoiceLine(
                i,
                f"N{draw(st.integers(0, 5))}",
                issued,
                issued + timedelta(days=draw(st.integers(0, 60))),
                draw(st.sampled_from(CURRENCIES)),
                draw(st.one_of(amounts, st.just(Decimal("0")))),
                draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()),
            )
        )
    settlements = []
    for j in range(draw(st.integers(min_value=0, max_value=8))):
        target = draw(st.one_of(st.none(), st.integers(0, max(n - 1, 0)))) if n else None
        settlements.append(
            Settlement(
                f"s{j}",
                draw(st.sampled_from([PAYMENT, CREDIT_NOTE])),
                D0 + timedelta(days=draw(days)),
                draw(st.sampled_from(CURRENCIES)),
                draw(amounts),
                target,
            )
        )
    return invoices, settlements


# 300 examples, fewer under the quick profile (HYPOTHESIS_PROFILE=quick, `make unit`)
PROPERTY_SETTINGS = settings(max_examples=3 * settings.default.max_examples, deadline=None)


@PROPERTY_SETTINGS
@given(ledgers(), days)
def test_amount_due_stays_between_zero_and_total(ledger, offset):
    invoices, settlements = ledger
    pos = position(invoices, settlements, D0 + timedelta(days=offset))
    by_id = {i.id: i for i in invoices}
    for inv_id, due in pos.amount_due.items():
        total = by_id[inv_id].total
        assert 0 <= due <= total
        if by_id[inv_id].void:
            assert due == 0


@PROPERTY_SETTINGS
@given(ledgers(), days)
def test_money_is_conserved_per_currency(ledger, offset):
    """Received = allocated + credit, currency by currency; no source gives more than it has."""
    invoices, settlements = ledger
    as_of = D0 + timedelta(days=offset)
    allocations = allocate(invoices, settlements)
    currency_of = {i.id: i.currency for i in invoices}
    per_source: dict[str, Decimal] = defaultdict(Decimal)
    for a in allocations:
        source = next(s for s in settlements if s.id == a.source_id)
        assert source.currency == currency_of[a.invoice_id]
        assert a.date >= source.date
        per_source[a.source_id] += a.amount
    for s in settlements:
        assert per_source[s.id] <= s.amount
    pos = position(invoices, settlements, as_of, allocations)
    for cur in CURRENCIES:
        received = sum(
            (s.amount for s in settlements if s.date <= as_of and s.currency == cur), Decimal(0)
        )
        allocated = sum(
            (a.amount for a in allocations if a.date <= as_of and currency_of[a.invoice_id] == cur),
            Decimal(0),
        )
        assert received == allocated + pos.credit.get(cur, Decimal(0))
        assert pos.credit.get(cur, Decimal(0)) >= 0


@PROPERTY_SETTINGS
@given(ledgers(), days)
def test_credit_only_remains_when_nothing_in_its_currency_is_owed(ledger, offset):
    invoices, settlements = ledger
    pos = position(invoices, settlements, D0 + timedelta(days=offset))
    by_id = {i.id: i for i in invoices}
    for cur, credit in pos.credit.items():
        if credit > 0:
            owed = [d for i, d in pos.amount_due.items() if by_id[i].currency == cur and d > 0]
            assert not owed


@PROPERTY_SETTINGS
@given(ledgers(), days)
def test_the_past_does_not_depend_on_the_future(ledger, offset):
    """Position on D from the full ledger == position from only what existed on D."""
    invoices, settlements = ledger
    as_of = D0 + timedelta(days=offset)
    full = position(invoices, settlements, as_of)
    known = position(
        [i for i in invoices if i.issue_date <= as_of],
        [s for s in settlements if s.date <= as_of],
        as_of,
    )
    assert full.amount_due == known.amount_due
    assert dict(full.credit) == dict(known.credit)
