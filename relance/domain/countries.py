"""ISO 3166 country codes, the one list that says what a country is: a company's or customer's
country (models' validators) and an assignment rule's `country` condition both check against it."""

from __future__ import annotations

from functools import cache

# Babel also lists regions that are no country (ZZ unknown, EU, UN…), which must not pass.
_NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO"})


@cache
def _codes() -> frozenset[str]:
    from babel import Locale  # loaded on first use: the list is only needed when checking

    codes = [str(code) for code in Locale("en").territories]
    regions = {code for code in codes if len(code) == 2 and code.isalpha()}
    return frozenset(regions - _NOT_COUNTRIES)


def is_country(code: str) -> bool:
    """Whether `code` is an ISO 3166 alpha-2 country code (upper case, as stored)."""
    return code in _codes()
