"""Amounts, dates and rates as the recipient reads them (Babel, CLDR data): "1 500,00 €" and
"23 novembre 2026" in French, "€1,500.00" and "23 November 2026" in English. Rounding to the
currency's minor unit (half-even) happens here, at presentation, and nowhere before."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_currency_precision

LOCALES = {"fr": "fr_FR", "en": "en_GB", "en_GB": "en_GB", "en_US": "en_US", "fr_FR": "fr_FR"}

#: English as written in these countries (dates above all: "7 December 2026" in the UK,
#: "December 7, 2026" in the US); English elsewhere is written the British way.
_ENGLISH_BY_COUNTRY = {"GB": "en_GB", "US": "en_US"}


def locale(language: str) -> str:
    """The Babel locale of a language ("fr", "en") or of a reader's locale ("en_US")."""
    return LOCALES.get(language, LOCALES["en"])


def for_reader(language: str, country: str | None) -> str:
    """What the formatting functions take for a reader of `language` in `country` (a customer):
    "en_US" for an American reading English, "en_GB" for a British one, the language itself
    otherwise (French is written the French way wherever the reader is)."""
    if language == "en" and country:
        return _ENGLISH_BY_COUNTRY.get(country.upper(), "en")
    return language


@dataclass(frozen=True, slots=True)
class _Shape:
    """How one locale writes one currency, read once from Babel: a message lists dozens of
    amounts and Babel's general formatter costs tens of microseconds each."""

    prefix: str
    suffix: str
    group: str
    decimal: str
    exponent: Decimal  # e.g. 0.01 for two decimals


@lru_cache(maxsize=512)
def _shape(currency: str, language: str) -> _Shape | None:
    digits = get_currency_precision(currency)
    fraction = "123456"[:digits]
    probe = Decimal(f"1234567.{fraction}") if digits else Decimal(1234567)
    written = format_currency(probe, currency, locale=locale(language))
    pattern = r"1(\D?)234(\D?)567" + (rf"(\D){fraction}(?!\d)" if digits else r"(?![\d])()")
    number = re.search(pattern, written)
    if number is None or number.group(1) != number.group(2):
        return None  # an unusual layout (e.g. Indian grouping): leave it all to Babel
    decimal_mark = number.group(3)
    return _Shape(
        written[: number.start()],
        written[number.end() :],
        number.group(1),
        decimal_mark,
        Decimal(1).scaleb(-digits),
    )


def money(amount: Decimal, currency: str, language: str) -> str:
    """The amount rounded half-even to the currency's minor unit, written as the locale does."""
    shape = _shape(currency, language)
    if shape is None or amount < 0:
        return format_currency(amount, currency, locale=locale(language))
    rounded = amount.quantize(shape.exponent, rounding=ROUND_HALF_EVEN)
    whole, _, fraction = f"{rounded:,f}".partition(".")
    text = whole.replace(",", shape.group) + (shape.decimal + fraction if fraction else "")
    return f"{shape.prefix}{text}{shape.suffix}"


def capital(amount: Decimal, currency: str, language: str) -> str:
    """A share capital as legal mentions print it: "10 000 €", its cents only when it has some."""
    written = money(amount, currency, language)
    shape = _shape(currency, language)
    if shape is None or amount < 0 or amount != amount.to_integral_value() or not shape.decimal:
        return written
    whole = f"{int(amount):,d}".replace(",", shape.group)
    return f"{shape.prefix}{whole}{shape.suffix}"


def amounts(by_currency: Mapping[str, Decimal], language: str) -> str:
    """Amounts in several currencies side by side, in currency order: never added up."""
    return ", ".join(money(a, c, language) for c, a in sorted(by_currency.items()))


@lru_cache(maxsize=8192)  # the same due dates come back in every message of a run
def day(value: date | None, language: str) -> str:
    """A day written out: "1 October 2026"; in French the first of the month is "1er"
    ("1er octobre 2026"), as French writes it and CLDR does not."""
    if not value:
        return ""
    written = format_date(value, format="long", locale=locale(language))
    if value.day == 1 and language == "fr" and written.startswith("1 "):
        return "1er" + written[1:]
    return written


def moment(at: datetime | None, zone: str, language: str) -> str:
    """A moment as a person in `zone` reads it: "7 December 2026 16:00" (24-hour clock)."""
    if at is None:
        return ""
    local = at.astimezone(ZoneInfo(zone))
    return f"{day(local.date(), language)} {local:%H:%M}"


def number(value: Decimal, language: str) -> str:
    """A plain figure as the reader writes it, up to three decimals: "85,5" / "85.5"."""
    return format_decimal(value, locale=locale(language))


def percent(rate: Decimal, language: str, digits: int = 2) -> str:
    """A yearly rate given in percent (12.15 -> "12,15 %" / "12.15%"), or a share with `digits`
    decimals (50.0 -> "50,0 %" / "50.0%")."""
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    number = format_decimal(rate, format=pattern, locale=locale(language))
    return f"{number}\u00a0%" if locale(language).startswith("fr") else f"{number}%"


def postal_lines(line1: str, line2: str, postal_code: str, city: str) -> tuple[str, ...]:
    """A postal address as printed: its street lines, then "postal code city", blanks left out."""
    return tuple(line for line in (line1, line2, f"{postal_code} {city}".strip()) if line)
