"""Phone numbers put in E.164 (+33142685300), the one form relance stores and sends to: a ledger
import stores a contact's number this way, the SMS channel checks each recipient this way."""

from __future__ import annotations

import phonenumbers


def normalize(raw: str, country: str | None) -> str:
    """`raw` in E.164; `country` (ISO code, may be empty) reads national numbers.

    Raises ValueError saying what is wrong: the message ends up in an outbox error or an import
    report, read by someone who has to fix the number.
    """
    text = (raw or "").strip()
    if not text:
        raise ValueError("empty phone number")
    try:
        number = phonenumbers.parse(text, country or None)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            hint = "its country code is missing or unknown (write it as +<country code>…)"
        else:
            hint = "it is not a phone number"
        raise ValueError(f"'{raw}' cannot be read: {hint}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(
            f"'{raw}' is not a valid phone number for country code +{number.country_code}"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
