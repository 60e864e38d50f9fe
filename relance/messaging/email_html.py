"""The HTML part of an email: the composed text in the company's branding, for mail programs that
show HTML (the plain-text part stays the message of record)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache
from itertools import groupby
from typing import Any

from jinja2 import PackageLoader, Template

from relance.messaging.sandbox import sandboxed
from relance.messaging.text import reflow

_URL = re.compile(r"(https?://[^\s<>\"]+)")


@dataclass(frozen=True)
class Branding:
    """What the HTML part shows of the sending company: its header colour and its legal footer."""

    name: str
    colour: str = "#1f3a5f"
    registration_number: str = ""
    vat_number: str = ""
    address_line1: str = ""
    address_line2: str = ""
    postal_code: str = ""
    city: str = ""
    email: str = ""
    phone: str = ""
    # The legal identity in the reader's language (domain.legal_mentions): "SAS au capital de
    # 10 000 €", "RCS Lyon 123 456 789"; empty: the registration number alone.
    legal_identity: tuple[str, ...] = ()
    language: str = "en"


@cache
def _template() -> Template:
    return sandboxed(PackageLoader("relance.messaging", "templates")).get_template("email.html")


def paragraphs(text: str) -> list[dict[str, Any]]:
    """The plain-text body as blocks for the HTML part: paragraphs (short lines kept), and runs
    of "- " lines as lists; wrapped prose is joined again; text is escaped, links made links."""
    blocks: list[dict[str, Any]] = []
    for chunk in reflow(text).split("\n\n"):
        for is_item, run in groupby(
            chunk.splitlines(), key=lambda ln: ln.lstrip().startswith("- ")
        ):
            lines = list(run)
            if is_item:
                blocks.append({"list": [_linked(ln.lstrip()[2:]) for ln in lines]})
            else:
                blocks.append({"text": "<br>".join(_linked(ln) for ln in lines)})
    return blocks


def _linked(line: str) -> str:
    escaped = html.escape(line)
    return _URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)


def render_html(
    subject: str, body: str, company: Branding, logo_cid: str | None, *, logo_src: str = ""
) -> str:
    """`logo_cid`: the logo travels as an inline attachment; `logo_src`: an URL of the logo
    instead (a data: URL, for previews)."""
    return _template().render(
        subject=subject,
        blocks=paragraphs(body),
        company=company,
        colour=company.colour,
        logo_src=logo_src or (f"cid:{logo_cid}" if logo_cid else ""),
        language=company.language,
        vat_label="N° TVA" if company.language == "fr" else "VAT",
    )
