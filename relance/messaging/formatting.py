"""Amounts, dates and rates as the recipient reads them (Babel, CLDR data): "1 500,00 €" and
"23 novembre 2026" in French, "€1,500.00" and "23 November 2026" in English. Rounding to the
currency's minor unit (half-even) happens here, at presentation, and nowhere before."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def locale(language: str) -> str:
    return LOCALES.get(language, LOCALES["en"])


def money(amount: Decimal, currency: str, language: str) -> str:
    return format_currency(amount, currency, locale=locale(language))


def day(value: date | None, language: str) -> str:
    return format_date(value, format="long", locale=locale(language)) if value else ""


def percent(rate: Decimal, language: str) -> str:
    """A yearly rate given in percent (12.15 -> "12,15 %" / "12.15%")."""
    number = format_decimal(rate, format="#,##0.00", locale=locale(language))
    return f"{number}\u00a0%" if language == "fr" else f"{number}%"
