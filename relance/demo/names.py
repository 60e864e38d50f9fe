"""Company names for the demo ledger: a bijection from customer index to a name, so names do not
repeat until the combination space is exhausted, without remembering which names were used (memory
stays flat), each with a domain for the contacts' addresses."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from string import Formatter

from relance.demo.words import (
    EN_INDUSTRIES,
    EN_PARTNERS,
    EN_SURNAMES,
    FR_HOUSES,
    FR_INDUSTRIES,
    FR_LEGAL,
    FR_PUBLIC,
    FR_REGIONS,
    FR_SURNAMES,
    FR_TOWNS,
    FR_TRADES,
    UK_FAMILY,
    UK_LEGAL,
    UK_PLACES,
    UK_PUBLIC,
    UK_TOWNS,
    US_LEGAL,
    US_PLACES,
    US_PUBLIC,
    US_TOWNS,
)

# Words left out of domain labels: articles, "city"/"university" (they read as filler in a domain)
# and legal forms.
_STOPWORDS = frozenset(
    {
        *("de", "du", "des", "la", "le", "les", "l", "d", "et", "of", "the", "and"),
        *("city", "university"),
        *("sarl", "sas", "sa", "eurl", "sasu", "ltd", "limited", "plc", "inc", "llc", "llp"),
        *("corp", "co"),
    }
)


def _slug(text: str) -> str:
    """ASCII, lower-case, dash-separated words minus stopwords and legal forms: a domain label."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in ascii_text).split()
    return "-".join(w for w in words if w not in _STOPWORDS)


def _email_part(text: str) -> str:
    """A person's name as the local part of an email address (accents and spaces removed)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c for c in ascii_text if c.isalnum())


def email_parts(*lists: Sequence[str]) -> dict[str, str]:
    # Precomputed once: Unicode normalisation per contact would cost more than the contact itself.
    return {name: _email_part(name) for names in lists for name in names}


@dataclass(frozen=True)
class _Pattern:
    template: str  # str.format template over the chosen words
    parts: tuple[tuple[str, ...], ...]
    tld: str
    # Legal forms are appended, not enumerated: "Dupont SARL" and "Dupont SAS" would be two names
    # with one domain. Repeats in the tuple weight the choice ("Ltd" is commoner than "plc").
    legal: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return math.prod(len(p) for p in self.parts)


class _NameSpace:
    """All names a set of patterns can produce, addressed by a scrambled customer index."""

    def __init__(self, patterns: Sequence[_Pattern]) -> None:
        self.patterns = tuple(patterns)
        self.size = sum(p.size for p in self.patterns)
        # A multiplier coprime with the size makes i -> i * m mod size a permutation, which spreads
        # consecutive customers over all patterns and words instead of walking one list in order.
        multiplier = 7_919
        while math.gcd(multiplier, self.size) != 1:
            multiplier += 2
        self.multiplier = multiplier
        # Domain labels are assembled from per-word slugs computed here once, because slugging a
        # whole name (Unicode normalisation) per customer was a third of a customer's cost.
        # Templates separate fields by spaces, so slugging word by word gives the same label.
        self.word_slugs = {w: _slug(w) for p in self.patterns for part in p.parts for w in part}
        self.layouts = {
            p.template: tuple(
                (_slug(literal), None if field is None else int(field))
                for literal, field, _, _ in Formatter().parse(p.template)
            )
            for p in self.patterns
        }

    def name(self, index: int, offset: int) -> tuple[str, str]:
        """Return (company name, domain) for a customer; domains stay unique past the wrap."""
        cycle, position = divmod(index, self.size)
        code = (position * self.multiplier + offset) % self.size
        for pattern in self.patterns:
            if code < pattern.size:
                break
            code -= pattern.size
        words = []
        for part in pattern.parts:
            code, k = divmod(code, len(part))
            words.append(part[k])
        name = pattern.template.format(*words)
        if pattern.legal:
            # A multiplicative hash of the position, so the form does not follow one word.
            mixed = (position * 2_654_435_761) >> 8
            name = f"{name} {pattern.legal[mixed % len(pattern.legal)]}"
        pieces = []
        for literal, position_ in self.layouts[pattern.template]:
            if literal:
                pieces.append(literal)
            if position_ is not None and (word_slug := self.word_slugs[words[position_]]):
                pieces.append(word_slug)
        label = "-".join(pieces) or "client"
        if cycle:
            label = f"{label}{cycle + 1}"
        return name, f"{label}.{pattern.tld}"


NAMES: dict[tuple[str, bool], _NameSpace] = {
    ("FR", False): _NameSpace(
        [
            _Pattern("{0} {1}", (FR_TRADES, FR_SURNAMES), "fr", FR_LEGAL),
            _Pattern("{0} {1}", (FR_SURNAMES, FR_INDUSTRIES), "fr", FR_LEGAL),
            _Pattern("{0} {1}", (FR_HOUSES, FR_SURNAMES), "fr"),
            _Pattern("{0} & Fils", (FR_SURNAMES,), "fr"),
            _Pattern("{0} {1}", (FR_INDUSTRIES, FR_REGIONS), "fr", FR_LEGAL),
        ]
    ),
    ("FR", True): _NameSpace([_Pattern("{0} {1}", (FR_PUBLIC, FR_TOWNS), "fr")]),
    ("GB", False): _NameSpace(
        [
            _Pattern("{0} {1}", (UK_PLACES, EN_INDUSTRIES), "co.uk", UK_LEGAL),
            _Pattern("{0} {1}", (EN_SURNAMES, UK_FAMILY), "co.uk"),
            _Pattern("{0} {1}", (EN_SURNAMES, EN_INDUSTRIES), "co.uk", UK_LEGAL),
            _Pattern("{0} & {1} LLP", (EN_SURNAMES, EN_PARTNERS), "co.uk"),
        ]
    ),
    ("GB", True): _NameSpace(
        [_Pattern(t, (UK_TOWNS,), "gov.uk") for t in UK_PUBLIC[:2]]
        + [_Pattern(t, (UK_TOWNS,), "nhs.uk") for t in UK_PUBLIC[2:3]]
        + [_Pattern(t, (UK_TOWNS,), "ac.uk") for t in UK_PUBLIC[3:6]]
        + [_Pattern(t, (UK_TOWNS,), "org.uk") for t in UK_PUBLIC[6:]]
    ),
    ("US", False): _NameSpace(
        [
            _Pattern("{0} {1}", (US_PLACES, EN_INDUSTRIES), "com", US_LEGAL),
            _Pattern("{0} {1}", (EN_SURNAMES, EN_INDUSTRIES), "com", US_LEGAL),
            _Pattern("{0} & {1} LLP", (EN_SURNAMES, EN_PARTNERS), "com"),
        ]
    ),
    ("US", True): _NameSpace(
        [_Pattern(t, (US_TOWNS,), "gov") for t in US_PUBLIC[:4]]
        + [_Pattern(t, (US_TOWNS,), "edu") for t in US_PUBLIC[4:]]
    ),
}
