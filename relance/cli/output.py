"""How every command answers: its outcome as text or JSON, and relance's errors as exit code 1
with their message (domain.errors maps the kinds once, here)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
import orjson

#: Dates, times and dataclasses are written as `str()` writes them, as they always were.
_AS_BEFORE = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    """Indented JSON for a person at a terminal; compact for programs, where a 100,000-action
    report indented would cost a gigabyte of memory to build (and orjson, as json.dumps took
    seconds to write one)."""
    if as_json:
        option = _AS_BEFORE | (orjson.OPT_INDENT_2 if sys.stdout.isatty() else 0)
        click.echo(orjson.dumps(payload, option=option, default=str).decode())
    else:
        click.echo(text)


def reject(message: str, as_json: bool = False, payload: dict[str, Any] | None = None) -> NoReturn:
    """Input was refused: say why (JSON on stdout when asked) and exit 1."""
    if as_json:
        click.echo(json.dumps(payload or {"error": message}, indent=2, ensure_ascii=False))
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


@contextmanager
def rejections(as_json: bool) -> Iterator[None]:
    """Every kind of relance error (domain.errors: not found, refused, invalid, conflict,
    forbidden) and Django's ValidationError become exit code 1 with their message, never a
    traceback; an error of no kind, like any programming error, stays a traceback."""
    from django.core.exceptions import ValidationError

    from relance.domain.errors import KINDS

    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "message_dict"):
            problems = [f"{f}: {m}" for f, ms in exc.message_dict.items() for m in ms]
        else:
            problems = list(exc.messages)
        reject("; ".join(problems), as_json, {"errors": problems})
    except KINDS as exc:
        reject(str(exc), as_json)
