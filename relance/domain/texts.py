"""The words relance shows a person, marked in the pure domain and translated by the adapter.

The domain must not import Django, yet its messages (a bad date in row 12, an unknown mapping
key) are read by French finance controllers. So a message is written once in English, marked
with `N_` for `makemessages` (like Django's `gettext_noop`), carried untranslated with its named
parameters, and translated only when it becomes text: `render(template, params)` asks the
translator installed here, which the Django app sets to `gettext` at start-up (`apps.ready`).
Without Django (a script, a domain test) the translator is the identity: the English text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Translator = Callable[[str], str]


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it now (it is translated later)."""
    return message


def _identity(message: str) -> str:
    return message


_translator: Translator = _identity


def install(translator: Translator | None) -> Translator:
    """Make `translator` the one messages are rendered with (None: back to English); returns
    the one it replaces, so a test can put it back."""
    global _translator
    previous = _translator
    _translator = translator if translator is not None else _identity
    return previous


def translator() -> Translator:
    """The translator messages are rendered with now."""
    return _translator


def translate(message: str) -> str:
    """`message` in the language active now (English without a translator)."""
    return _translator(message) if message else message


def render(template: str, params: Mapping[str, Any] | None = None) -> str:
    """The template translated and its `%(name)s` placeholders filled in; without parameters
    the template is taken as it is (a `%` in it is kept)."""
    text = translate(template)
    return text % dict(params) if params else text


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words put into another message (a value described, a list of what is expected): an
    English template and its parameters, read in the language active when the message that
    holds it is read (`%(name)s` calls `str`), not when it was built."""

    template: str
    params: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        return render(self.template, dict(self.params))


def phrase(template: str, **params: Any) -> Phrase:
    """A `Phrase`: `template` marked with `N_` by the caller, filled with `params` when read."""
    return Phrase(template, tuple(params.items()))
