"""The French text the app shows is the one in the .po file: the compiled .mo, committed so that
no gettext tool is needed to run relance, must not lag behind (`make messages` rebuilds both)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def test_no_text_of_the_code_is_missing_from_the_catalogue(tmp_path):
    """`make messages` on a copy of the code: every text it finds has its French already.
    A text added to the code (or a template) without a translation fails here, in CI."""
    package = Path(relance.__file__).parent
    copy = tmp_path / "relance"
    shutil.copytree(
        package,
        copy,
        ignore=shutil.ignore_patterns("migrations", "__pycache__", "static", "*.mo"),
    )
    subprocess.run(
        [
            str(Path(sys.executable).parent / "django-admin"),
            "makemessages",
            "-l",
            "fr",
            "--no-location",
            "--ignore",
            "*/migrations/*",
        ],
        cwd=copy,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "relance.settings"},
        check=True,
        capture_output=True,
    )
    with (copy / "locale" / "fr" / "LC_MESSAGES" / "django.po").open("rb") as po:
        extracted = read_po(po)
    missing = [m.id for m in extracted if m.id and (not m.string or "fuzzy" in m.flags)]
    assert missing == []
