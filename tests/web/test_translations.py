"""The French text the app shows is the one in the .po file: the compiled .mo, committed so that
no gettext tool is needed to run relance, must not lag behind (`make messages` rebuilds both)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import relance

FRENCH = Path(relance.__file__).parent / "locale" / "fr" / "LC_MESSAGES"


def _texts(catalog) -> dict[object, object]:
    """id -> text; plural forms as tuples (the two readers give lists or tuples)."""

    def key(value: object) -> object:
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {key(m.id): key(m.string) for m in catalog if m.id and m.string}


def test_every_message_is_translated_and_compiled():
    with (FRENCH / "django.po").open("rb") as po, (FRENCH / "django.mo").open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    untranslated = [m.id for m in source if m.id and (not m.string or "fuzzy" in m.flags)]
    assert untranslated == []
    assert _texts(compiled) == _texts(source)
