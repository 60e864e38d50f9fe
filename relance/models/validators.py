"""Field validators shared by models and importers, with messages a finance user can act on."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from relance.domain import countries
from relance.domain.money import InvalidCurrency, normalize_currency


def validate_iban(value: str) -> None:
    if not value:
        return
    try:
        IBAN(value)
    except SchwiftyException as exc:
        raise ValidationError(f"'{value}' is not a valid IBAN: {exc}") from None


def validate_bic(value: str) -> None:
    if not value:
        return
    try:
        BIC(value)
    except SchwiftyException as exc:
        raise ValidationError(f"'{value}' is not a valid BIC: {exc}") from None


def validate_currency(value: str) -> None:
    try:
        if normalize_currency(value) != value:
            raise ValidationError(f"write the currency in upper case: '{value.upper()}'")
    except InvalidCurrency as exc:
        raise ValidationError(str(exc)) from None


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(value: str) -> bool:
    return value in _time_zones()


def validate_time_zone(value: str) -> None:
    if value and not is_time_zone(value):
        raise ValidationError(f"'{value}' is not an IANA time zone such as Europe/Paris")


def validate_country(value: str) -> None:
    if value and not countries.is_country(value):
        raise ValidationError(f"'{value}' is not an ISO 3166 country code such as FR or GB")


def validate_weekdays(value: str) -> None:
    from relance.domain.business_hours import BusinessHours

    try:
        BusinessHours.parse_days(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
