"""The one rule for the language of what relance writes to a company's staff."""

from __future__ import annotations

import pytest

from relance.models import Company
from relance.services.organisation.language import staff_language


@pytest.mark.parametrize(("country", "language"), [("FR", "fr"), ("GB", "en"), ("BE", "en")])
def test_staff_read_their_company_s_language(country: str, language: str) -> None:
    assert staff_language(Company(country=country)) == language
