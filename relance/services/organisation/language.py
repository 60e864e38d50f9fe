"""The language relance writes to a company's staff in: sales reps' digests and heads-ups, and the
notices to a customer's owner (a dispute, a late dispute, a payment plan to decide on, a card or
credit limit). One rule, so that one company's people always read one language.

The rule is the company's: French for a company in France, else English. No one's own choice is
stored (the staff app follows the browser's language, request by request), so a message written
outside a request takes the company's. Customers are another matter: each has a language of their
own (Customer.language)."""

from __future__ import annotations

from relance.models import Company

#: The staff language of a company's country; any other country reads English.
_BY_COUNTRY = {"FR": "fr"}


def staff_language(company: Company) -> str:
    """The language ("fr" or "en") of what relance writes to the company's staff."""
    return _BY_COUNTRY.get(company.country, "en")
