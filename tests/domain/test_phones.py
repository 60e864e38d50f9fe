"""Phone numbers in E.164, and refusals that tell the person fixing the number what is wrong."""

from __future__ import annotations

import re

import pytest

from relance.domain import phones


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+33 1 42 68 53 00", None, "+33142685300"),
        ("+33142685300", None, "+33142685300"),
        ("01 42 68 53 00", "FR", "+33142685300"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("020 7946 0000", "GB", "+442079460000"),
        ("  +44 (0)20 7946 0000 ", None, "+442079460000"),
    ],
)
def test_numbers_are_put_in_e164(raw: str, region: str | None, expected: str) -> None:
    assert phones.normalize(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ("", None, "empty phone number"),
        ("   ", "FR", "empty phone number"),
        ("0142685300", None, "'0142685300' cannot be read: its country code is missing"),
        ("hello", "FR", "'hello' cannot be read: it is not a phone number"),
        ("+33 12", None, "'+33 12' is not a valid phone number for country code +33"),
        ("12", "FR", "'12' is not a valid phone number for country code +33"),
    ],
)
def test_a_refused_number_says_what_is_wrong(raw: str, region: str | None, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        phones.normalize(raw, region)
