"""The one Jinja2 environment every message template renders in.

Sandboxed (templates are written by users: no attribute of Python objects beyond the plain data
given, no `__class__`/`__globals__` escape), no HTML escaping (the HTML part is built from the
text), block tags eat their own line so templates can be laid out readably. An unknown field
prints empty: plans are checked when saved (relance.domain.merge_fields), and a message must not
fail to leave for a field another version of relance knew.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template
from jinja2.sandbox import SandboxedEnvironment


class RenderError(ValueError):
    """A template could not be rendered; the message says why (never a stack trace)."""


@cache
def environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        undefined=ChainableUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    """Compiled once per process: a day renders the same few templates thousands of times."""
    return environment().from_string(source)


def render(source: str, values: dict[str, Any]) -> str:
    """The text, or RenderError naming the problem (a syntax error, a sandbox refusal, a type
    error such as dividing a name by two)."""
    try:
        return _compiled(source).render(values).strip("\n")
    except Exception as exc:  # the template's fault, whatever it is: reported, never raised raw
        raise RenderError(f"template error: {type(exc).__name__}: {exc}") from exc
