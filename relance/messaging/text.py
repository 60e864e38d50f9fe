"""Plain-text bodies are written wrapped (for the text part of an email and for readers of the
YAML); layouts that wrap by themselves (HTML, PDF letters) want logical lines back."""

from __future__ import annotations

import re

#: A line at least this long was wrapped: the next line continues it.
WRAPPED = 72
_ITEM = re.compile(r"\s*- ")
_URL = re.compile(r"\s*https?://")


def reflow(text: str) -> str:
    """Join wrapped prose and the continuation lines of "- " items; keep paragraphs, items and
    short lines (an IBAN, a signature) as they are."""
    paragraphs = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        for line in chunk.splitlines():
            previous = lines[-1] if lines else ""
            continues_item = bool(lines) and _ITEM.match(previous) and line[:1].isspace()
            continues_prose = bool(lines) and len(previous) >= WRAPPED and not _ITEM.match(line)
            if (continues_item or continues_prose) and not _URL.match(line):
                lines[-1] = f"{previous.rstrip()} {line.strip()}"
            else:
                lines.append(line.rstrip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)
