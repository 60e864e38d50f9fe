"""HTML to PDF with WeasyPrint: dunning letters and invoice summaries on the company's stationery.

Templates are Jinja2, sandboxed and autoescaped (messaging.sandbox.sandboxed), independent of
Django settings, so the same code renders from a web request, a Celery task or the command line.
WeasyPrint is imported on first use: the services import the dataclasses of this package without
paying for Pango.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from jinja2 import PackageLoader, StrictUndefined

from relance.documents.labels import LABELS
from relance.documents.layout import (
    FOLD_MARK_FROM_EDGE,
    GAP_BELOW_WINDOW,
    GAP_BESIDE_WINDOW,
    GEOMETRIES,
    Geometry,
)
from relance.documents.model import (
    InvoiceLine,
    Language,
    Letter,
    Party,
    PaymentInstructions,
    Stationery,
)
from relance.messaging.sandbox import sandboxed

if TYPE_CHECKING:
    from collections.abc import Mapping

_ENV = sandboxed(
    PackageLoader("relance.documents", "templates"),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _css_string(value: str) -> str:
    """Labels end up in `content:` declarations: quote them so no character can end the string."""
    escaped = "".join(
        ch if ch.isalnum() or ch in " .,:;-'\u2019()/" else f"\\{ord(ch):06x}" for ch in value
    )
    return f'"{escaped}"'


def _mm(value: float) -> str:
    return f"{value:.2f}mm"


_ENV.filters["css_string"] = _css_string
_ENV.filters["mm"] = _mm


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


# Postal services read at most six lines plus the country; more would not fit the window.
MAX_ADDRESS_LINES = 7


def render_letter(letter: Letter) -> bytes:
    """A dunning letter as PDF, its address placed for the envelope window of its paper size.

    Raises ValueError for an address too long for the window: printed, the letter would be
    undeliverable or show someone else's text through the envelope.
    """
    stationery = letter.stationery
    recipient_lines = _address_lines(letter.recipient)
    if len(recipient_lines) > MAX_ADDRESS_LINES:
        raise ValueError(
            f"the address of {letter.recipient.name!r} has {len(recipient_lines)} lines, "
            f"at most {MAX_ADDRESS_LINES} fit an envelope window"
        )
    return _render(
        "letter.html",
        stationery=stationery,
        language=letter.language,
        title=f"{letter.recipient.name} — {letter.subject}",
        running_reference=letter.reference,
        letter=letter,
        recipient_lines=recipient_lines,
        body=_body_blocks(letter.body),
        payment=_payment(letter.payment, stationery),
    )


def render_invoice_summary(
    stationery: Stationery, customer: Party, line: InvoiceLine, language: Language
) -> bytes:
    """One page recapping an invoice, attached to an e-mail when the ERP supplied no invoice PDF.

    It says plainly that it is not the invoice: only the issuer's original invoice is the legal
    document, and a customer must never be able to mistake the summary for it.
    """
    if language not in LABELS:
        raise ValueError(f"language must be one of {', '.join(LABELS)}, not {language!r}")
    labels = LABELS[language]
    return _render(
        "invoice_summary.html",
        stationery=stationery,
        language=language,
        title=f"{labels['summary_title']} {line.number}",
        running_reference=line.number,
        customer_lines=_address_lines(customer),
        line=line,
        payment=_payment(
            PaymentInstructions(iban=stationery.iban, bic=stationery.bic, reference=line.number),
            stationery,
        ),
    )


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def _render(
    template: str,
    *,
    stationery: Stationery,
    language: Language,
    title: str,
    running_reference: str,
    **context: Any,
) -> bytes:
    from weasyprint import CSS, HTML

    geometry = GEOMETRIES[stationery.paper]
    labels = LABELS[language]
    common: Mapping[str, Any] = {
        "s": stationery,
        "t": labels,
        "g": geometry,
        "first": _first_page(geometry),
        "language": language,
        "title": title,
        "running_reference": running_reference,
        "logo": _logo_data_uri(stationery.logo),
        "footer_identity": _footer_identity(stationery),
        "footer_legal": _footer_legal(stationery, labels),
        "contact": _contact(stationery, labels),
    }
    html = _ENV.get_template(template).render(**common, **context)
    css = _ENV.get_template("letter.css").render(**common)
    fetcher = _data_only_fetcher()
    document = HTML(string=html, url_fetcher=fetcher)
    return bytes(document.write_pdf(stylesheets=[CSS(string=css, url_fetcher=fetcher)]))


@dataclass(frozen=True)
class _FirstPage:
    """Where the blocks of the first page go, relative to its content area."""

    head_height: float
    window_left: float
    window_top: float
    window_width: float
    window_height: float
    meta_left: float
    meta_width: float
    # How far the signature is indented: under the window on a right-window layout, as a French
    # reader expects, flush left otherwise.
    signature_indent: float
    fold_marks: tuple[float, ...]
    fold_mark_left: float


def _first_page(geometry: Geometry) -> _FirstPage:
    window = geometry.window
    window_left = window.left - geometry.margin_left
    window_top = window.top - geometry.margin_top_first
    if geometry.window_side == "right":
        meta_left = 0.0
        meta_width = window_left - GAP_BESIDE_WINDOW
        signature_indent = window_left
    else:
        meta_left = window_left + window.width + GAP_BESIDE_WINDOW
        meta_width = geometry.content_width - meta_left
        signature_indent = 0.0
    return _FirstPage(
        head_height=window_top + window.height + GAP_BELOW_WINDOW,
        window_left=window_left,
        window_top=window_top,
        window_width=window.width,
        window_height=window.height,
        meta_left=meta_left,
        meta_width=meta_width,
        signature_indent=signature_indent,
        fold_marks=tuple(mark - geometry.margin_top_first for mark in geometry.fold_marks),
        fold_mark_left=FOLD_MARK_FROM_EDGE - geometry.margin_left,
    )


def _data_only_fetcher() -> Any:
    """The HTML is built from user-written text and an uploaded logo: WeasyPrint may resolve
    nothing but the data: URLs we embed ourselves (no file://, no http:// from an SVG logo)."""
    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # WeasyPrint < 67 takes a function
        from weasyprint import default_url_fetcher

        def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
            if not url.startswith("data:"):
                raise ValueError(f"refusing to fetch {url[:80]!r}")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols=("data",))


# --------------------------------------------------------------------------------------------------
# Content helpers
# --------------------------------------------------------------------------------------------------

BlockKind = Literal["p", "ul"]


def _body_blocks(body: str) -> list[tuple[BlockKind, list[str]]]:
    """User text as paragraphs and bullet lists. Single line breaks inside a paragraph are kept
    (greetings, a name above a title) because users lay their templates out line by line."""
    blocks: list[tuple[BlockKind, list[str]]] = []
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    for chunk in re.split(r"\n[ \t]*\n", text):
        current: BlockKind | None = None
        for raw in chunk.split("\n"):
            line = raw.strip()
            if not line or line == "-":
                continue
            kind: BlockKind = "ul" if line.startswith("- ") else "p"
            content = line[2:].strip() if kind == "ul" else line
            if kind == current:
                blocks[-1][1].append(content)
            else:
                blocks.append((kind, [content]))
                current = kind
    return blocks


def _address_lines(party: Party) -> list[str]:
    lines = [party.name, *(line for line in party.address_lines if line.strip())]
    if party.country:
        lines.append(party.country.upper())
    return lines


def _group_iban(value: str) -> str:
    """IBANs are read aloud and typed by people: print them in groups of four as ISO 13616 asks
    for the paper form, unless the caller already formatted them."""
    compact = value.strip()
    if " " in compact or len(compact) < 15:
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _payment(payment: PaymentInstructions | None, stationery: Stationery) -> dict[str, str] | None:
    if payment is None:
        return None
    return {
        "beneficiary": payment.beneficiary or stationery.company_name,
        "iban": _group_iban(payment.iban),
        "bic": payment.bic.strip(),
        "reference": payment.reference,
        "sort_code": payment.sort_code,
        "account_number": payment.account_number,
    }


def _contact(stationery: Stationery, labels: Mapping[str, str]) -> list[str]:
    """Contact lines of the letterhead: phone and e-mail together, the website below."""
    first = []
    if stationery.phone:
        first.append(f"{labels['phone']} {stationery.phone}")
    if stationery.email:
        first.append(stationery.email)
    lines = [" · ".join(first)] if first else []
    if stationery.website:
        lines.append(stationery.website)
    return lines


def _footer_identity(stationery: Stationery) -> str:
    return " · ".join(
        part for part in (stationery.company_name, *stationery.address_lines) if part.strip()
    )


def _footer_legal(stationery: Stationery, labels: Mapping[str, str]) -> str:
    parts = list(stationery.legal_identity)
    if not parts and stationery.registration_number:
        parts.append(f"{labels['registration']} {stationery.registration_number}")
    if stationery.vat_number:
        parts.append(f"{labels['vat']} {stationery.vat_number}")
    if stationery.iban:
        parts.append(f"IBAN {_group_iban(stationery.iban)}")
    if stationery.bic:
        parts.append(f"BIC {stationery.bic}")
    return " · ".join(parts)


def _logo_data_uri(logo: bytes | None) -> str | None:
    """The logo is embedded, never linked: a letter must print the same in ten years."""
    if not logo:
        return None
    head = logo[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if logo.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = "image/png"
    elif logo.startswith(b"\xff\xd8\xff"):
        mime = "image/jpeg"
    elif head.startswith((b"<?xml", b"<svg", b"<!--", b"<!DOCTYPE svg")) and b"<svg" in logo[:4096]:
        mime = "image/svg+xml"
    else:
        raise ValueError("the logo must be a PNG, JPEG or SVG image")
    return f"data:{mime};base64,{base64.b64encode(logo).decode('ascii')}"
