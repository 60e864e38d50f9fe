"""The length of an SMS: its encoding (GSM-7 or UCS-2) and the number of segments it is billed
as; what a preview shows and what the SMS channel checks before sending."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# GSM 03.38 (3GPP TS 23.038) default alphabet, without the escape code, and its extension table,
# whose characters are sent as escape + character: two septets each.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Typography the GSM alphabet lacks, written as the plain characters it has: French amounts and
# dates carry narrow no-break spaces ("1 250,00 €"), and one of them would otherwise send the whole
# text as UCS-2, 70 characters a part instead of 160 (a reminder billed as three SMS, not one).
PLAIN = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u202f": " ",  # narrow no-break space (Babel's French grouping and before : ; ! ?)
        "\u2009": " ",  # thin space
        "\u2007": " ",  # figure space
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)


def plain(text: str) -> str:
    """The text as an SMS carries it: typographic spaces, quotes, dashes and ellipses as their
    GSM-7 equivalents. What is sent and what is counted."""
    return text.translate(PLAIN)


# Units in a single message / in each part of a concatenated one (the rest of a part carries the
# user data header that numbers the parts).
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsLength:
    """How a text travels: its encoding, its length in that encoding's units (septets for GSM-7,
    UTF-16 code units for UCS-2) and the number of SMS it is billed as."""

    encoding: Literal["GSM-7", "UCS-2"]
    characters: int
    segments: int


def in_gsm7(character: str) -> bool:
    """Whether GSM-7 carries the character (in its default alphabet or its extension table)."""
    return character in GSM7_BASIC or character in GSM7_EXTENSION


def _units(text: str) -> tuple[Literal["GSM-7", "UCS-2"], list[int]]:
    """The encoding of `text` and the units each of its characters takes."""
    if all(in_gsm7(c) for c in text):
        return "GSM-7", [2 if c in GSM7_EXTENSION else 1 for c in text]
    return "UCS-2", [2 if ord(c) > 0xFFFF else 1 for c in text]  # surrogate pairs: 2


def segments(text: str) -> SmsLength:
    """The encoding, length and segment count of `text` as sent (`plain`): GSM-7 unless one
    character is outside the GSM 03.38 tables, then UCS-2 for the whole text.

    A concatenated message never splits an escape sequence or a surrogate pair between two parts
    (phones and providers keep them whole), so a part can carry one unit less than its limit: the
    count is that of the parts actually filled, not just length / limit.
    """
    encoding, units = _units(plain(text))
    total = sum(units)
    single, part = LIMITS[encoding]
    if total <= single:
        return SmsLength(encoding, total, 1 if total else 0)
    count, used = 1, 0
    for size in units:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return SmsLength(encoding, total, count)
