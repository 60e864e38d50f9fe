"""The cycle's own reading of SQLite values gives what Django's SQLite backend gives."""

from __future__ import annotations

import decimal
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from relance.services.sql import sqlite_amount, sqlite_dates

DJANGO_CONTEXT = decimal.Context(prec=15)  # django.db.backends.sqlite3.operations


def django_amount(value: float) -> Decimal:
    """DatabaseOperations.get_decimalfield_converter for a field with four decimals."""
    return DJANGO_CONTEXT.create_decimal_from_float(value).quantize(Decimal("0.0001"))


# Up to a billion each: beyond 10^11 Django's 15 digits drop decimals that a float still holds.
amounts = st.decimals(
    min_value=Decimal("-999999999.9999"),
    max_value=Decimal("999999999.9999"),
    places=4,
    allow_nan=False,
    allow_infinity=False,
)


@given(st.lists(amounts, min_size=1, max_size=12))
def test_amounts_and_sums_of_amounts_read_as_django_reads_them(values):
    """SQLite stores amounts as REAL and sums them as REAL; both come back as Django would."""
    for value in values:
        assert sqlite_amount(float(value)) == django_amount(float(value)) == value
    total = sum(float(v) for v in values)
    converted = sqlite_amount(total)
    assert converted == django_amount(total)
    assert str(converted) == str(django_amount(total))  # the same exponent too


def test_integers_none_and_decimals_pass():
    assert sqlite_amount(None) is None
    assert sqlite_amount(12) == Decimal(12)
    assert sqlite_amount(Decimal("1.50")) == Decimal("1.50")


def test_dates_are_parsed_once_per_text():
    read = sqlite_dates()
    first, second = read("2026-11-23"), read("2026-11-23")
    assert first is second
    assert str(first) == "2026-11-23"
    assert read(None) is None


def test_an_invoice_paid_in_parts_is_not_left_with_a_residue(
    db, company, new_customer, new_invoice
):
    """1082.83 + 336.54 + 42.33 = 1461.70, but not as SQLite's REAL sum: 2e-13 short."""
    from datetime import date

    from relance.models import Allocation, Payment
    from relance.services.ledger.snapshots import amounts_due

    customer = new_customer(company, "C1", "Dupont")
    paid = new_invoice(customer, "I1", "1461.70", days_late=40)
    owed = new_invoice(customer, "I2", "10.00", days_late=5)
    for n, part in enumerate(["1082.83", "336.54", "42.33"]):
        payment = Payment.objects.create(
            company=company,
            customer=customer,
            external_id=f"P{n}",
            date=date(2026, 1, 1),
            currency="EUR",
            amount=Decimal(part),
        )
        Allocation.objects.create(
            invoice=paid, payment=payment, amount=Decimal(part), date=date(2026, 1, 1)
        )
    rows = amounts_due([customer.pk], date(2026, 12, 31))
    assert [(row[0], row[7]) for row in rows] == [(owed.pk, Decimal("10.0000"))]
