"""Late-payment law packs (DESIGN §6): statutory interest and the fixed recovery indemnity.

* FR, Code de commerce L441-10: the ECB's main refinancing rate + 10 points; the rate in force on
  1 January applies to the first half-year, the one in force on 1 July to the second. A contract
  may agree another rate, never below three times the legal interest rate (professionals). €40
  fixed indemnity per late invoice.
* EU default, Directive 2011/7/EU art. 2(6) and 6: ECB rate on the first day of the half-year
  + 8 points; €40.
* UK, Late Payment of Commercial Debts (Interest) Act 1998: Bank of England base rate in force on
  the 30 June or 31 December before the half-year in which the debt fell overdue + 8 points,
  fixed for that debt; £40 under £1,000, £70 under £10,000, £100 from £10,000.

Interest is simple, on the amount due, counted from the day after the due date, actual days / 365;
when the rate changes at a half-year, each part of the period takes its own rate. Amounts are kept
exact here; rounding (half-even, to the currency's minor unit) is for presentation.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from relance.domain.errors import RelanceError

ECB = "ECB"  # main refinancing operations rate
BOE = "BOE"  # Bank of England base rate (Bank Rate)
FR_LEGAL = "FR_LEGAL"  # French legal interest rate, creditors other than private individuals
SOURCES = (ECB, BOE, FR_LEGAL)

FR, EU, UK, NONE = "FR", "EU", "UK", "NONE"
PACKS = (FR, EU, UK, NONE)

#: Member states of the EU (ISO 3166-1 alpha-2), whose companies default to the EU pack.
EU_COUNTRIES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)

_DAYS_A_YEAR = Decimal(365)
_HUNDRED = Decimal(100)


class MissingRate(RelanceError, LookupError):
    """No reference rate is known for a date the law needs one: the table must be completed."""


@dataclass(frozen=True, slots=True)
class ReferenceRate:
    """A central bank's rate, in percent, in force from `since` until the next entry."""

    source: str
    since: date
    percent: Decimal


class RateTable:
    """Dated reference rates; `in_force` answers with the entry valid on a day."""

    def __init__(self, rates: Iterable[ReferenceRate]) -> None:
        self._by_source: dict[str, list[ReferenceRate]] = {}
        for rate in sorted(rates, key=lambda r: (r.source, r.since)):
            self._by_source.setdefault(rate.source, []).append(rate)
        self._starts = {s: [r.since for r in rs] for s, rs in self._by_source.items()}
        self._rate_days: dict[tuple[Terms, date, date], Decimal] = {}

    def rate_days(self, terms: Terms, first: date, last: date) -> Decimal:
        """Rate x days over a late period, remembered: a day's messages list thousands of
        invoices sharing a few due dates."""
        key = (terms, first, last)
        if key not in self._rate_days:
            self._rate_days[key] = _rate_days(terms, self, first, last)
        return self._rate_days[key]

    def in_force(self, source: str, on: date) -> Decimal:
        rates = self._by_source.get(source, [])
        index = bisect_right(self._starts.get(source, []), on)
        if index == 0:
            raise MissingRate(f"no {source} rate known on {on.isoformat()}")
        return rates[index - 1].percent


@dataclass(frozen=True, slots=True)
class Terms:
    """The late-payment terms of one customer: the company's pack, unless the contract says
    otherwise (`contract_rate` in percent a year) or the company waived them."""

    pack: str
    contract_rate: Decimal | None = None
    waived: bool = False


def default_pack(country: str) -> str:
    """The pack a company's country gives by default (UK for GB, FR for France, EU elsewhere in
    the Union, none outside it: set one explicitly)."""
    country = country.upper()
    if country == "FR":
        return FR
    if country == "GB":
        return UK
    return EU if country in EU_COUNTRIES else NONE


def _half_year_start(day: date) -> date:
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def _next_half_year(day: date) -> date:
    start = _half_year_start(day)
    return date(start.year, 7, 1) if start.month == 1 else date(start.year + 1, 1, 1)


def _half_years(first: date, last: date) -> list[tuple[date, date]]:
    """[first, last] cut at each 1 January and 1 July: (start, end) inclusive."""
    parts = []
    start = first
    while start <= last:
        end = min(_next_half_year(start) - timedelta(days=1), last)
        parts.append((start, end))
        start = end + timedelta(days=1)
    return parts


def annual_rate(terms: Terms, rates: RateTable, day: date, overdue_since: date) -> Decimal:
    """The yearly rate, in percent, that applies on `day` to a debt overdue since
    `overdue_since` (the first day of interest)."""
    if terms.waived or (terms.pack == NONE and terms.contract_rate is None):
        return Decimal(0)
    if terms.contract_rate is not None:
        if terms.pack == FR:  # L441-10: never below three times the legal interest rate
            floor = 3 * rates.in_force(FR_LEGAL, _half_year_start(day))
            return max(terms.contract_rate, floor)
        return terms.contract_rate
    if terms.pack == FR:
        return rates.in_force(ECB, _half_year_start(day)) + 10
    if terms.pack == EU:
        return rates.in_force(ECB, _half_year_start(day)) + 8
    if terms.pack == UK:
        fixed_on = _half_year_start(overdue_since) - timedelta(days=1)
        return rates.in_force(BOE, fixed_on) + 8
    raise ValueError(f"unknown law pack {terms.pack!r}")


def late_interest(
    amount_due: Decimal, due_date: date, on: date, terms: Terms, rates: RateTable
) -> Decimal:
    """Interest accrued by `on` on `amount_due`, unpaid since `due_date` (exact, not rounded)."""
    first = due_date + timedelta(days=1)
    if amount_due <= 0 or on < first or terms.waived:
        return Decimal(0)
    return amount_due * rates.rate_days(terms, first, on) / _HUNDRED / _DAYS_A_YEAR


def _rate_days(terms: Terms, rates: RateTable, first: date, last: date) -> Decimal:
    """Sum over the days first..last of the yearly rate in force on each (percent x days)."""
    total = Decimal(0)
    for start, end in _half_years(first, last):
        total += annual_rate(terms, rates, start, first) * ((end - start).days + 1)
    return total


def fixed_indemnity(amount_due: Decimal, currency: str, terms: Terms) -> Decimal:
    """The fixed recovery indemnity for one late invoice, in `currency`.

    The law sets it in euros (FR, EU) or pounds (UK); relance converts no currencies, so an
    invoice in another currency carries none (claim it by hand if the contract provides for it).
    """
    if terms.waived or amount_due <= 0:
        return Decimal(0)
    if terms.pack in (FR, EU):
        return Decimal(40) if currency == "EUR" else Decimal(0)
    if terms.pack == UK:
        if currency != "GBP":
            return Decimal(0)
        if amount_due < 1000:
            return Decimal(40)
        return Decimal(70) if amount_due < 10000 else Decimal(100)
    return Decimal(0)


def _published(source: str, rows: str) -> list[ReferenceRate]:
    return [
        ReferenceRate(source, date.fromisoformat(since), Decimal(percent))
        for since, percent in (line.split() for line in rows.strip().splitlines())
    ]


#: Rates published up to the day this table was last updated (effective dates), copied into each
#: new database; companies add newer ones (`relance rate add`). Nothing is fetched from the web.
PUBLISHED_RATES: tuple[ReferenceRate, ...] = tuple(
    _published(
        ECB,
        """
        2016-03-16 0.00
        2022-07-27 0.50
        2022-09-14 1.25
        2022-11-02 2.00
        2022-12-21 2.50
        2023-02-08 3.00
        2023-03-22 3.50
        2023-05-10 3.75
        2023-06-21 4.00
        2023-08-02 4.25
        2023-09-20 4.50
        2024-06-12 4.25
        2024-09-18 3.65
        2024-10-23 3.40
        2024-12-18 3.15
        2025-02-05 2.90
        2025-03-12 2.65
        2025-04-23 2.40
        2025-06-11 2.15
        """,
    )
    + _published(
        BOE,
        """
        2020-03-19 0.10
        2021-12-16 0.25
        2022-02-03 0.50
        2022-03-17 0.75
        2022-05-05 1.00
        2022-06-16 1.25
        2022-08-04 1.75
        2022-09-22 2.25
        2022-11-03 3.00
        2022-12-15 3.50
        2023-02-02 4.00
        2023-03-23 4.25
        2023-05-11 4.50
        2023-06-22 5.00
        2023-08-03 5.25
        2024-08-01 5.00
        2024-11-07 4.75
        2025-02-06 4.50
        2025-05-08 4.25
        2025-08-07 4.00
        2025-12-18 3.75
        """,
    )
    + _published(
        FR_LEGAL,
        """
        2020-01-01 0.87
        2020-07-01 0.84
        2021-01-01 0.79
        2021-07-01 0.76
        2022-01-01 0.76
        2022-07-01 0.77
        2023-01-01 2.06
        2023-07-01 4.22
        2024-01-01 5.07
        2024-07-01 4.92
        2025-01-01 3.71
        2025-07-01 2.76
        2026-01-01 2.62
        """,
    )
)
