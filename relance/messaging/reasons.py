"""The engine's reasons as the reader reads them: translated, dates written as in their language
("F-1 échue le 1er octobre 2026 + 30 jours"). A reason stored before it had codes (a plain
text) is shown as it was written."""

from __future__ import annotations

from functools import partial
from typing import Any

from relance.domain import reasons, texts
from relance.messaging import formatting


def written(value: object, language: str, data: Any = None) -> str:
    """`value` (a `reasons.Reason`, or the stored text with its stored codes in `data`) in
    `language`, through the translator installed (the active language's catalogue)."""
    why = value if isinstance(value, reasons.Reason) else reasons.from_json(data)
    if why is None:
        return str(value or "")
    return reasons.write(
        why.clauses,
        day=partial(formatting.day, language=language),
        translate=texts.translate,
        number=partial(formatting.number, language=language),
    )
