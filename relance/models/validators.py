"""Field validators shared by models and importers, with messages a finance user can act on."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
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
        raise ValidationError(
            _("'%(value)s' is not a valid IBAN (%(reason)s): copy it from a bank statement.")
            % {"value": value, "reason": exc}
        ) from None


def validate_bic(value: str) -> None:
    if not value:
        return
    try:
        BIC(value)
    except SchwiftyException as exc:
        raise ValidationError(
            _(
                "'%(value)s' is not a valid BIC (%(reason)s): "
                "it has 8 or 11 characters, e.g. BNPAFRPP."
            )
            % {"value": value, "reason": exc}
        ) from None


_DIGITS = re.compile(r"[0-9]+")


def validate_sort_code(value: str) -> None:
    """A UK sort code as stored: six digits (shown 12-34-56)."""
    if value and not (len(value) == 6 and _DIGITS.fullmatch(value)):
        raise ValidationError(
            _("'%(value)s' is not a sort code: it has 6 digits, e.g. 12-34-56.") % {"value": value}
        )


def validate_account_number(value: str) -> None:
    """A UK bank account number as stored: eight digits."""
    if value and not (len(value) == 8 and _DIGITS.fullmatch(value)):
        raise ValidationError(
            _("'%(value)s' is not a UK account number: it has 8 digits, e.g. 12345678.")
            % {"value": value}
        )


def validate_currency(value: str) -> None:
    try:
        if normalize_currency(value) != value:
            raise ValidationError(
                _("write the currency in upper case: '%(value)s'") % {"value": value.upper()}
            )
    except InvalidCurrency as exc:
        raise ValidationError(str(exc)) from None


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(value: str) -> bool:
    return value in _time_zones()


def validate_time_zone(value: str) -> None:
    if value and not is_time_zone(value):
        raise ValidationError(
            _("'%(value)s' is not a time zone (IANA name) such as Europe/Paris or Europe/London")
            % {"value": value}
        )


def validate_country(value: str) -> None:
    if value and not countries.is_country(value):
        raise ValidationError(
            _("'%(value)s' is not a two-letter country code such as FR or GB") % {"value": value}
        )


def validate_weekdays(value: str) -> None:
    from relance.domain.business_hours import BusinessHours

    try:
        BusinessHours.parse_days(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def validate_hex_colour(value: str) -> None:
    """A colour written into emails' and letters' styles: nothing but #rgb or #rrggbb, so a
    setting can never carry CSS of its own."""
    if value and not _HEX_COLOUR.fullmatch(value):
        raise ValidationError(_("'%(value)s' is not a colour such as #1f3a5f") % {"value": value})
