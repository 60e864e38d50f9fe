"""Money as an exact Decimal amount tagged with its ISO 4217 currency.

Receivables in different currencies must never be summed: a EUR invoice and a GBP payment are not
comparable without a rate, and a collections tool has no business inventing one. `Money` refuses
such arithmetic, and `Totals` keeps one running sum per currency for every "how much is owed"
figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from relance.domain.errors import RelanceError
from relance.domain.texts import N_

ZERO = Decimal(0)


class CurrencyMismatch(RelanceError, ValueError):
    """Raised when arithmetic would mix two currencies."""


class InvalidCurrency(RelanceError, ValueError):
    """Raised for a code that is not an ISO 4217 currency."""


class InvalidAmount(RelanceError, ValueError):
    """Raised for text that is not a plain decimal amount in the currency's minor unit."""


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def normalize_currency(code: str) -> str:
    """Return the upper-case ISO 4217 code, or raise `InvalidCurrency`."""
    candidate = (code or "").strip().upper()
    if len(candidate) != 3 or candidate not in _known_currencies():
        raise InvalidCurrency(N_("'%(code)s' is not an ISO 4217 currency code"), code=code)
    return candidate


@cache
def minor_units(currency: str) -> int:
    """Decimals of the currency's minor unit: 2 for EUR, 0 for JPY, 3 for KWD."""
    return int(get_currency_precision(currency))


@cache
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def parse_amount(text: str, currency: str) -> Decimal:
    """Parse an amount written with a decimal point, refusing more decimals than the currency has.

    Refusing rather than rounding: a ledger that sends 10.005 EUR has a problem worth seeing.
    """
    raw = (text or "").strip()
    if not raw:
        raise InvalidAmount(N_("an amount is required"))
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidAmount(
            N_("'%(text)s' is not a number (use a decimal point, no separators)"), text=text
        ) from None
    if not value.is_finite():
        raise InvalidAmount(N_("'%(text)s' is not a finite number"), text=text)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > minor_units(currency):
        raise InvalidAmount(
            N_("'%(text)s' has more decimals than %(currency)s allows (%(decimals)s)"),
            text=text,
            currency=currency,
            decimals=minor_units(currency),
        )
    return value


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-even to the currency's minor unit (presentation, or where the law says)."""
    return amount.quantize(_quantum(currency), rounding=ROUND_HALF_EVEN)


def format_amount(amount: Decimal, currency: str) -> str:
    """The contract's JSON form: a string with exactly the currency's minor-unit decimals."""
    return f"{quantize(amount, currency):f}"


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", Decimal(self.amount))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(ZERO, currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def min(self, other: Money) -> Money:
        return self if self <= other else other

    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{format_amount(self.amount, self.currency)} {self.currency}"


class Totals(Mapping[str, Decimal]):
    """Sums per currency, e.g. {"EUR": 1500.00, "USD": 20.00}; adding never crosses currencies."""

    def __init__(self, items: Iterable[Money] = ()) -> None:
        self._sums: dict[str, Decimal] = {}
        for money in items:
            self.add(money)

    @classmethod
    def of(cls, amounts: Iterable[tuple[Decimal, str]]) -> Totals:
        """Sums of (amount, currency) pairs: the same totals without a `Money` per amount, for
        the cycle, which totals a million invoices."""
        totals = cls()
        sums = totals._sums
        for amount, currency in amounts:
            sums[currency] = sums.get(currency, ZERO) + amount
        return totals

    def add(self, money: Money) -> None:
        self._sums[money.currency] = self._sums.get(money.currency, ZERO) + money.amount

    def __getitem__(self, currency: str) -> Decimal:
        return self._sums[currency]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._sums))

    def __len__(self) -> int:
        return len(self._sums)

    def as_json(self) -> dict[str, str]:
        return {cur: format_amount(self._sums[cur], cur) for cur in self}
