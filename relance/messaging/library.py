"""The default template library: one YAML file per template under `library/`, each with an
English and a French text (subject, body, SMS). A plan step names one with `template:`; the
recipient's language picks the text, English when the template has none in that language."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

LIBRARY = Path(__file__).resolve().parent / "library"
LANGUAGES = ("en", "fr")
FALLBACK = "en"


@dataclass(frozen=True, slots=True)
class Text:
    subject: str
    body: str
    sms: str


@dataclass(frozen=True, slots=True)
class LibraryTemplate:
    name: str
    description: str
    texts: dict[str, Text]

    def text(self, language: str) -> Text:
        return self.texts.get(language) or self.texts[FALLBACK]


@cache
def templates() -> dict[str, LibraryTemplate]:
    found = {}
    for path in sorted(LIBRARY.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts = {
            language: Text(data[language]["subject"], data[language]["body"], data[language]["sms"])
            for language in LANGUAGES
            if language in data
        }
        found[data["name"]] = LibraryTemplate(data["name"], data["description"], texts)
    return found


def names() -> list[str]:
    return sorted(templates())
