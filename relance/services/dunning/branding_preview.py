"""What a company's reminders look like with settings not saved yet: the library's first reminder
as an email and its formal notice as the first page of a letter, composed by the same code that
composes real messages (merge fields, late-payment law, legal mentions, logo, colour), for a
sample customer owing one overdue invoice, and shown as images.

Images rather than the HTML itself: the staff app's Content-Security-Policy forbids the inline
styles an email needs (and a frame would inherit it), and a picture runs nothing in the page. The
email is laid out by WeasyPrint like a letter, then both are rasterised by poppler's pdftoppm."""

from __future__ import annotations

import base64
import copy
import dataclasses
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from relance.documents import render_letter
from relance.domain import engine
from relance.domain.errors import Refusal
from relance.messaging import library
from relance.messaging.email_html import render_html
from relance.models import Company, Customer
from relance.services.dunning import delivery, letters, messages
from relance.services.ledger import late_fees
from relance.services.ledger.snapshots import Debtor

EMAIL_TEMPLATE = "first_reminder"
LETTER_TEMPLATE = "formal_notice"
_RESOLUTION = 60  # dots per inch: a page is about 500 pixels wide, enough to judge the look
_TIMEOUT = 20


class PreviewUnavailable(Refusal, RuntimeError):
    """The images cannot be drawn here (poppler's pdftoppm is not installed)."""


def draft(company: Company, values: dict[str, Any]) -> tuple[Company, dict[str, list[str]]]:
    """The company as it would be with `values`, not saved: a copy; a value its field refuses
    keeps the saved one and is named in the problems (field -> messages)."""
    found = copy.copy(company)
    problems: dict[str, list[str]] = {}
    for name, value in values.items():
        field = Company._meta.get_field(name)
        try:
            cleaned = field.clean(value, found)  # type: ignore[union-attr]
        except ValidationError as exc:
            problems[name] = exc.messages
            continue
        setattr(found, name, cleaned)
    return found, problems


def _customer(company: Company, language: str, today: date) -> tuple[Customer, Debtor]:
    """A customer owing one invoice of 1,250 in the company's currency, 15 days late."""
    fr = language == "fr"
    name = "Exemple Distribution SARL" if fr else "Example Trading Ltd"
    address = ("12 rue des Lilas", "69003 Lyon") if fr else ("12 Station Road", "Bristol BS1 4DJ")
    customer = Customer(
        company=company,
        external_id="C-1024",
        name=name,
        address_line1=address[0],
        city=address[1],
        country=company.country,
        currency=company.currency,
        language=language,
    )
    debtor = Debtor(
        pk=0,
        external_id=customer.external_id,
        name=name,
        company_id=company.pk or 0,
        company_code=company.code,
        plan_id=None,
        hold_until=None,
        owner_id=None,
        owner=None,
        sales_rep_id=None,
        sales_rep=None,
        segment="",
        risk="",
        country=company.country,
        currency=company.currency,
        credit_limit=None,
        language=language,
        address=address,
    )
    return customer, debtor


def _composed(company: Company, language: str, template: str, today: date) -> messages.Composed:
    _customer_row, debtor = _customer(company, language, today)
    item = engine.Item(
        id="INV-2026-0042",
        number="INV-2026-0042" if language == "en" else "F-2026-0042",
        issue_date=today - timedelta(days=45),
        due_date=today - timedelta(days=15),
        currency=company.currency,
        amount_due=Decimal("1250.00"),
        total=Decimal("1250.00"),
    )
    values = messages.context(
        company,
        debtor,
        item,
        [item],
        today,
        rates=late_fees.rate_table(),
        contact=None,
    )
    text = library.templates()[template].text(language)
    subject, body = messages.render_texts((text.subject, text.body), values)
    return messages.Composed(subject=subject, body=body, values=values, items=(item,))


def _png(pdf: bytes) -> bytes:
    """The first page of a PDF as a PNG."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise PreviewUnavailable("pdftoppm (poppler-utils) is not installed")
    done = subprocess.run(  # a fixed program, the PDF on its standard input
        [tool, "-png", "-r", str(_RESOLUTION), "-f", "1", "-l", "1", "-singlefile", "-"],
        input=pdf,
        capture_output=True,
        timeout=_TIMEOUT,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        raise PreviewUnavailable("pdftoppm could not draw the page")
    return done.stdout


def _trimmed(png: bytes) -> bytes:
    """The image without the empty background below its content (an email is shorter than the
    page it was laid out on)."""
    import io

    from PIL import Image, ImageChops

    with Image.open(io.BytesIO(png)) as image:
        picture = image.convert("RGB")
    width, height = picture.size
    background = Image.new("RGB", picture.size, picture.getpixel((0, height - 1)))
    box = ImageChops.difference(picture, background).getbbox()
    if box is None or box[3] + 12 >= height:
        return png
    out = io.BytesIO()
    picture.crop((0, 0, width, box[3] + 12)).save(out, "PNG", optimize=True)
    return out.getvalue()


def _data_url(image: bytes) -> str:
    mime = "image/jpeg" if image.startswith(b"\xff\xd8\xff") else "image/png"
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


def _saved_logo(company: Company) -> bytes | None:
    if not company.logo:
        return None
    try:
        with company.logo.open("rb") as handle:
            return bytes(handle.read())
    except OSError:
        return None


def email_html(company: Company, language: str, logo: bytes | None, today: date) -> str:
    """The HTML part of the first reminder as the sample customer would receive it, the logo
    embedded (data: URL) instead of attached."""
    text = _composed(company, language, EMAIL_TEMPLATE, today)
    image = logo if logo is not None else _saved_logo(company)
    return render_html(
        text.subject,
        text.body,
        delivery.branding(company, language),
        None,
        logo_src=_data_url(image) if image else "",
    )


_EMAIL_PAGE = "@page { size: 170mm 300mm; margin: 0 } body { margin: 0 }"


def email_png(company: Company, language: str, logo: bytes | None, today: date) -> bytes:
    from weasyprint import CSS, HTML

    from relance.documents.render import _data_only_fetcher

    fetcher = _data_only_fetcher()
    html = HTML(string=email_html(company, language, logo, today), url_fetcher=fetcher)
    pdf = html.write_pdf(stylesheets=[CSS(string=_EMAIL_PAGE)])
    return _trimmed(_png(bytes(pdf)))


def letter_png(company: Company, language: str, logo: bytes | None, today: date) -> bytes:
    """The first page of the formal notice, on the company's stationery, as a PNG."""
    text = _composed(company, language, LETTER_TEMPLATE, today)
    customer, _debtor = _customer(company, language, today)
    letter = letters.build_letter(customer, text)
    if logo is not None:
        letter = dataclasses.replace(
            letter, stationery=dataclasses.replace(letter.stationery, logo=logo)
        )
    return _png(render_letter(letter))


def images(company: Company, language: str, logo: bytes | None, today: date) -> dict[str, str]:
    """Both previews as data: URLs, {"email": …, "letter": …}."""
    return {
        "email": _data_url(email_png(company, language, logo, today)),
        "letter": _data_url(letter_png(company, language, logo, today)),
    }
