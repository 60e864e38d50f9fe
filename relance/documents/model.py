"""What a printed document needs to know, as plain frozen values.

The services layer reads the database, formats dates and amounts in the customer's language and
currency, and hands these values over: the renderer never touches a model, never formats money and
never decides what is owed, so a letter printed today can be reproduced from what was recorded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Paper = Literal["A4", "Letter"]
Language = Literal["fr", "en"]

PAPERS: tuple[Paper, ...] = ("A4", "Letter")
LANGUAGES: tuple[Language, ...] = ("fr", "en")

DEFAULT_ACCENT = "#1F3A5F"

_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def _freeze(instance: object, name: str) -> None:
    """Lists given by callers become tuples, so a frozen value really cannot change afterwards."""
    value = getattr(instance, name)
    if not isinstance(value, tuple):
        object.__setattr__(instance, name, tuple(value))


@dataclass(frozen=True)
class Party:
    """A postal addressee. `country` is printed (in capitals, last line) only when given: the
    caller leaves it out for domestic mail, as postal services ask."""

    name: str
    address_lines: Sequence[str] = ()
    country: str | None = None

    def __post_init__(self) -> None:
        _freeze(self, "address_lines")


@dataclass(frozen=True)
class Stationery:
    """The company's letterhead: identity, legal mentions required on business letters (in France
    the registration and VAT numbers), bank details, logo and paper size."""

    company_name: str
    address_lines: Sequence[str]
    registration_number: str
    vat_number: str
    email: str
    phone: str
    iban: str
    bic: str
    website: str | None = None
    logo: bytes | None = field(default=None, repr=False)
    accent_colour: str = DEFAULT_ACCENT
    legal_text: str | None = None
    paper: Paper = "A4"
    # The legal identity already in the letter's language (domain.legal_mentions), e.g. ("SAS au
    # capital de 10 000 €", "RCS Lyon 123 456 789"); empty: the registration number alone.
    legal_identity: Sequence[str] = ()

    def __post_init__(self) -> None:
        _freeze(self, "address_lines")
        _freeze(self, "legal_identity")
        # The colour is written into the stylesheet: anything but a hex colour is refused so a
        # setting can never inject CSS.
        if not _HEX_COLOUR.fullmatch(self.accent_colour):
            raise ValueError(f"accent colour must be #RGB or #RRGGBB, not {self.accent_colour!r}")
        if self.paper not in PAPERS:
            raise ValueError(f"paper must be one of {', '.join(PAPERS)}, not {self.paper!r}")


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice as the customer should read it; amounts and dates are already formatted."""

    number: str
    issue_date: str
    due_date: str
    total: str
    amount_due: str
    days_late: int
    late_interest: str
    fixed_indemnity: str


@dataclass(frozen=True)
class PaymentInstructions:
    """Where to pay and which reference to quote, so the payment can be matched automatically.
    `beneficiary` defaults to the company name of the stationery."""

    iban: str
    bic: str
    reference: str
    beneficiary: str | None = None
    sort_code: str = ""  # UK payers: sort code and account number instead of IBAN and BIC
    account_number: str = ""


@dataclass(frozen=True)
class Letter:
    """One dunning letter for one customer. `body` is user-written plain text: paragraphs are
    separated by blank lines, lines starting with "- " are list items; it is always escaped."""

    stationery: Stationery
    recipient: Party
    place_and_date: str
    reference: str
    subject: str
    body: str
    invoices: Sequence[InvoiceLine] = ()
    totals: Sequence[tuple[str, str]] = ()
    payment: PaymentInstructions | None = None
    language: Language = "fr"
    statement_appendix: bool = False
    signatory: str | None = None

    def __post_init__(self) -> None:
        _freeze(self, "invoices")
        _freeze(self, "totals")
        if self.language not in LANGUAGES:
            raise ValueError(
                f"language must be one of {', '.join(LANGUAGES)}, not {self.language!r}"
            )
