"""Late-payment law packs: worked examples to the cent (DESIGN §6)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from relance.domain.law import (
    BOE,
    ECB,
    EU,
    FR,
    NONE,
    PUBLISHED_RATES,
    UK,
    MissingRate,
    RateTable,
    ReferenceRate,
    Terms,
    annual_rate,
    default_pack,
    fixed_indemnity,
    late_interest,
)

RATES = RateTable(PUBLISHED_RATES)
D = date.fromisoformat


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def test_a_contract_rate_of_ten_percent_for_fifteen_days():
    # 100.00 x 10 % x 15 / 365 = 0.41096
    terms = Terms(EU, contract_rate=Decimal(10))
    assert cents(
        late_interest(Decimal("100.00"), D("2026-01-01"), D("2026-01-16"), terms, RATES)
    ) == Decimal("0.41")


def test_france_ecb_rate_of_the_half_year_plus_ten_points():
    # ECB rate in force on 1 July 2025: 2.15 %, so 12.15 %; 1,000.00 for 30 days = 9.9863
    assert annual_rate(Terms(FR), RATES, D("2025-10-01"), D("2025-10-01")) == Decimal("12.15")
    interest = late_interest(Decimal("1000.00"), D("2025-09-30"), D("2025-10-30"), Terms(FR), RATES)
    assert cents(interest) == Decimal("9.99")


def test_interest_takes_each_half_years_rate():
    # 16 days of 2024 H2 at 4.25 + 10 = 14.25 % (6.2466), 14 days of 2025 H1 at 3.15 + 10 (5.0438)
    interest = late_interest(Decimal("1000.00"), D("2024-12-15"), D("2025-01-14"), Terms(FR), RATES)
    assert cents(interest) == Decimal("11.29")


def test_eu_default_is_ecb_plus_eight_points():
    assert annual_rate(Terms(EU), RATES, D("2025-02-10"), D("2025-02-10")) == Decimal("11.15")


def test_uk_rate_is_fixed_at_the_half_year_before_the_debt_fell_overdue():
    # Overdue from 1 September 2025: base rate on 30 June 2025 was 4.25 %, so 12.25 %, for good
    # (the cuts of August and December 2025 do not change it). 500.00 for 31 days = 5.2020
    terms = Terms(UK)
    assert annual_rate(terms, RATES, D("2026-02-01"), D("2025-09-01")) == Decimal("12.25")
    assert cents(
        late_interest(Decimal("500.00"), D("2025-08-31"), D("2025-10-01"), terms, RATES)
    ) == Decimal("5.20")
    long = late_interest(Decimal("500.00"), D("2025-08-31"), D("2026-08-31"), terms, RATES)
    assert cents(long) == cents(Decimal("500.00") * Decimal("0.1225") * 365 / 365)


def test_no_interest_on_the_due_date_or_before_or_when_waived():
    for on in (D("2026-01-01"), D("2025-12-01")):
        assert late_interest(Decimal(100), D("2026-01-01"), on, Terms(FR), RATES) == 0
    waived = Terms(FR, waived=True)
    assert late_interest(Decimal(100), D("2025-01-01"), D("2025-06-01"), waived, RATES) == 0
    assert late_interest(Decimal(100), D("2025-01-01"), D("2025-06-01"), Terms(NONE), RATES) == 0


def test_a_french_contract_rate_never_goes_below_three_times_the_legal_rate():
    low = Terms(FR, contract_rate=Decimal(5))
    assert annual_rate(low, RATES, D("2026-03-01"), D("2026-03-01")) == Decimal("7.86")
    high = Terms(FR, contract_rate=Decimal(15))
    assert annual_rate(high, RATES, D("2026-03-01"), D("2026-03-01")) == Decimal(15)


@pytest.mark.parametrize(
    ("pack", "amount", "currency", "expected"),
    [
        (FR, "12.00", "EUR", 40),
        (EU, "5000.00", "EUR", 40),
        (FR, "500.00", "USD", 0),  # no currency conversion
        (UK, "999.99", "GBP", 40),
        (UK, "1000.00", "GBP", 70),
        (UK, "9999.99", "GBP", 70),
        (UK, "10000.00", "GBP", 100),
        (UK, "10000.00", "EUR", 0),
        (NONE, "10000.00", "EUR", 0),
    ],
)
def test_fixed_indemnity(pack, amount, currency, expected):
    assert fixed_indemnity(Decimal(amount), currency, Terms(pack)) == expected


def test_the_waived_indemnity_is_zero():
    assert fixed_indemnity(Decimal(500), "EUR", Terms(FR, waived=True)) == 0


def test_a_date_before_the_table_is_a_clear_error():
    table = RateTable([ReferenceRate(ECB, D("2025-01-01"), Decimal("3.15"))])
    with pytest.raises(MissingRate, match="no ECB rate known on 2024-07-01"):
        late_interest(Decimal(100), D("2024-09-01"), D("2024-10-01"), Terms(FR), table)
    with pytest.raises(MissingRate, match="BOE"):
        annual_rate(Terms(UK), table, D("2025-03-01"), D("2025-03-01"))


def test_default_pack_by_country():
    assert [default_pack(c) for c in ("FR", "gb", "DE", "US")] == [FR, UK, EU, NONE]


def test_published_rates_are_in_order_and_distinct():
    for source in (ECB, BOE):
        dates = [r.since for r in PUBLISHED_RATES if r.source == source]
        assert dates == sorted(set(dates))
