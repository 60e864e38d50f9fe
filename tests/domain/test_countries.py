"""The one list of ISO 3166 countries: real countries pass, Babel's other regions do not."""

from __future__ import annotations

import pytest

from relance.domain import countries


@pytest.mark.parametrize("code", ["FR", "GB", "DE", "US", "JP"])
def test_countries_are_countries(code: str) -> None:
    assert countries.is_country(code)


@pytest.mark.parametrize("code", ["ZZ", "EU", "EZ", "UN", "QO", "001", "fr", "", "FRA"])
def test_regions_and_other_spellings_are_not(code: str) -> None:
    assert not countries.is_country(code)
