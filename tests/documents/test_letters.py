"""Letters and invoice summaries as PDF: content, window placement, pagination, escaping, merging.

The PDFs are read back with poppler (pdftotext, pdftoppm) as a printer or a customer would see
them, not by inspecting the HTML we fed WeasyPrint.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from relance.documents import (
    InvoiceLine,
    Letter,
    Party,
    PaymentInstructions,
    Stationery,
    merge_pdfs,
    page_count,
    render_invoice_summary,
    render_letter,
)
from relance.documents.layout import GEOMETRIES, Box

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils is not installed (make system-deps)",
)

PT_TO_MM = 25.4 / 72

SVG_LOGO = b"""<svg xmlns="http://www.w3.org/2000/svg" width="240" height="48" viewBox="0 0 240 48">
<rect x="0" y="4" width="40" height="40" rx="4" fill="#1F3A5F"/>
<path d="M10 34 L20 14 L30 34 Z" fill="#ffffff"/>
<text x="50" y="33" font-family="DejaVu Sans" font-weight="bold" font-size="24"
 fill="#1F3A5F">Atelier Nord</text></svg>"""


def png_logo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 60), "#23403A").save(buffer, format="PNG")
    return buffer.getvalue()


FR_STATIONERY = Stationery(
    company_name="Atelier Nord SAS",
    address_lines=("12 rue de la Paix", "75002 Paris"),
    registration_number="RCS Paris 812 345 678",
    vat_number="FR 40 812345678",
    email="recouvrement@ateliernord.fr",
    phone="+33 1 42 68 53 00",
    website="www.ateliernord.fr",
    iban="FR7630006000011234567890189",
    bic="AGRIFRPPXXX",
    logo=SVG_LOGO,
    legal_text=(
        "SAS au capital de 150 000 € — indemnité forfaitaire pour frais de recouvrement : 40 €."
    ),
    paper="A4",
)

EN_STATIONERY = Stationery(
    company_name="Northwind Supplies Inc.",
    address_lines=("400 Market Street, Suite 1200", "San Francisco, CA 94105"),
    registration_number="EIN 94-1234567",
    vat_number="",
    email="ar@northwind.example",
    phone="+1 415 555 0100",
    iban="GB33BUKB20201555555555",
    bic="BUKBGB22",
    logo=png_logo(),
    accent_colour="#23403A",
    paper="Letter",
)

FR_INVOICES = (
    InvoiceLine(
        "F-2026-0141",
        "12/08/2026",
        "11/09/2026",
        "1 200,00 €",
        "1 200,00 €",
        73,
        "24,60 €",
        "40,00 €",
    ),
    InvoiceLine(
        "F-2026-0163", "03/09/2026", "03/10/2026", "480,00 €", "180,00 €", 51, "2,59 €", "40,00 €"
    ),
    InvoiceLine(
        "F-2026-0188",
        "30/09/2026",
        "30/10/2026",
        "2 460,50 €",
        "2 460,50 €",
        24,
        "16,65 €",
        "40,00 €",
    ),
)

FR_BODY = """Madame, Monsieur,

Sauf erreur de notre part, les factures détaillées ci-dessous restent impayées à ce jour.

Nous vous remercions de bien vouloir procéder à leur règlement sous huit jours :
- par virement, en rappelant la référence indiquée ci-dessous ;
- ou par chèque à l'ordre d'Atelier Nord SAS.

Nous vous prions d'agréer, Madame, Monsieur, l'expression de nos salutations distinguées."""

FR_LETTER = Letter(
    stationery=FR_STATIONERY,
    recipient=Party(
        "Boulangerie Dupont SARL",
        ("À l'attention de M. Jean Dupont", "8 avenue Victor Hugo", "69002 Lyon"),
    ),
    place_and_date="Paris, le 23 novembre 2026",
    reference="Client C001 — Factures F-2026-0141 à F-2026-0188",
    subject="Relance pour factures impayées",
    body=FR_BODY,
    invoices=FR_INVOICES,
    totals=(("Intérêts et indemnités", "163,84 €"), ("Total dû EUR", "4 004,34 €")),
    payment=PaymentInstructions("FR7630006000011234567890189", "AGRIFRPPXXX", "C001-R2"),
    language="fr",
    signatory="Service recouvrement",
)

EN_INVOICES = tuple(
    InvoiceLine(
        f"INV-{1000 + i}",
        f"Aug {i + 1}, 2026",
        f"Sep {i + 1}, 2026",
        f"${(i + 1) * 317.25:,.2f}",
        f"${(i + 1) * 317.25:,.2f}",
        80 - 3 * i,
        f"${2 + 1.5 * i:,.2f}",
        "$0.00",
    )
    for i in range(5)
)

EN_LETTER = Letter(
    stationery=EN_STATIONERY,
    recipient=Party(
        "Contoso Ltd", ("Attn: Accounts Payable", "1 Main Street", "Springfield, IL 62701")
    ),
    place_and_date="San Francisco, November 23, 2026",
    reference="Customer C002 — 5 invoices",
    subject="Final reminder: overdue account",
    body="Dear Accounts Payable team,\n\nThe invoices listed below are past due.\n\nSincerely,",
    invoices=EN_INVOICES,
    totals=(("Total due USD", "$4,758.75"),),
    payment=PaymentInstructions("GB33BUKB20201555555555", "BUKBGB22", "C002-FINAL"),
    language="en",
    statement_appendix=True,
)


@pytest.fixture(scope="module")
def fr_pdf() -> bytes:
    return render_letter(FR_LETTER)


@pytest.fixture(scope="module")
def en_pdf() -> bytes:
    return render_letter(EN_LETTER)


def pdf_text(pdf: bytes, tmp_path: Path, *, page: int | None = None) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def words_on_first_page(pdf: bytes, tmp_path: Path) -> list[tuple[str, float, float, float, float]]:
    """(text, left, top, right, bottom) of every word of page 1, in millimetres."""
    path = tmp_path / "bbox.pdf"
    path.write_bytes(pdf)
    xhtml = subprocess.run(
        ["pdftotext", "-bbox-layout", "-f", "1", "-l", "1", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pattern = re.compile(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    )
    return [
        (html.unescape(text), *(float(value) * PT_TO_MM for value in box))
        for *box, text in pattern.findall(xhtml)
    ]


def assert_in_window(pdf: bytes, tmp_path: Path, party: Party, window: Box) -> None:
    words = words_on_first_page(pdf, tmp_path)
    for line in (party.name, *party.address_lines):
        first = line.split()[0]
        matches = [word for word in words if word[0] == first]
        assert matches, f"{first!r} not found on page 1"
        # The letterhead or the body might repeat a word: at least one occurrence, and the whole
        # recipient line, must be inside the window.
        inside = [
            (text, left, top, right, bottom)
            for text, left, top, right, bottom in matches
            if window.left <= left
            and right <= window.right
            and window.top <= top
            and bottom <= window.bottom
        ]
        assert inside, f"{line!r} is outside the window {window}: {matches}"


# --------------------------------------------------------------------------------------------------
# Content and pagination
# --------------------------------------------------------------------------------------------------


def test_french_a4_letter_has_one_page_and_everything_the_customer_needs(
    fr_pdf: bytes, tmp_path: Path
) -> None:
    assert fr_pdf.startswith(b"%PDF-")
    assert page_count(fr_pdf) == 1
    box = PdfReader(io.BytesIO(fr_pdf)).pages[0].mediabox
    assert (round(float(box.width) * PT_TO_MM), round(float(box.height) * PT_TO_MM)) == (210, 297)

    text = pdf_text(fr_pdf, tmp_path)
    for expected in (
        "Boulangerie Dupont SARL",
        "8 avenue Victor Hugo",
        "69002 Lyon",
        "Paris, le 23 novembre 2026",
        "Relance pour factures impayées",
        "Objet",
        *(invoice.number for invoice in FR_INVOICES),
        "Total dû EUR",
        "4 004,34 €",
        "FR76 3000 6000 0112 3456 7890 189",
        "C001-R2",
        "Facture",
        "Échéance",
        "Jours de retard",
        "Page 1 sur 1",
        "RCS Paris 812 345 678",
        "FR 40 812345678",
        "Service recouvrement",
    ):
        assert expected in text, expected
    # Bullet list from the "- " lines.
    assert "• par virement" in text
    assert "Statement" not in text
    assert "Relevé de compte" not in text


def test_english_letter_paper_with_statement_appendix(en_pdf: bytes, tmp_path: Path) -> None:
    assert page_count(en_pdf) == 2
    reader = PdfReader(io.BytesIO(en_pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)

    letter = pdf_text(en_pdf, tmp_path, page=1)
    for expected in (
        "Contoso Ltd",
        "1 Main Street",
        "Springfield, IL 62701",
        "Final reminder: overdue account",
        *(invoice.number for invoice in EN_INVOICES),
        "Total due USD",
        "$4,758.75",
        "Days late",
        "Amount due",
        "Page 1 of 2",
        "PAYMENT BY BANK TRANSFER",  # a small-caps heading, upper-cased by the stylesheet
        "GB33 BUKB 2020 1555 5555 55",
    ):
        assert expected in letter, expected

    appendix = pdf_text(en_pdf, tmp_path, page=2)
    assert "Statement of account" in appendix
    assert "Page 2 of 2" in appendix
    for invoice in EN_INVOICES:
        assert invoice.number in appendix
        assert invoice.late_interest in appendix
    assert "Late interest" in appendix
    assert "Fixed indemnity" in appendix
    assert "$4,758.75" in appendix
    # Legal mentions in the footer of every page.
    for page in (letter, appendix):
        assert "EIN 94-1234567" in page
        assert "IBAN GB33 BUKB 2020 1555 5555 55" in page


def test_long_letter_repeats_the_footer_and_keeps_totals_with_the_table(tmp_path: Path) -> None:
    invoices = tuple(replace(FR_INVOICES[0], number=f"F-2026-{i:04d}") for i in range(40))
    pdf = render_letter(replace(FR_LETTER, invoices=invoices))
    pages = page_count(pdf)
    assert pages >= 2
    texts = [pdf_text(pdf, tmp_path, page=page) for page in range(1, pages + 1)]
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} sur {pages}" in text
        assert "RCS Paris 812 345 678" in text
        if number > 1:  # running header instead of the letterhead
            assert "Client C001 — Factures" in text
            assert "Objet" not in text
    with_totals = [text for text in texts if "Total dû EUR" in text]
    assert len(with_totals) == 1
    assert "F-2026-0039" in with_totals[0]  # the totals did not leave the table behind
    assert "Jours de retard" in with_totals[0]  # and the header row is repeated
    assert "Service recouvrement" in texts[-1]


# --------------------------------------------------------------------------------------------------
# Envelope window
# --------------------------------------------------------------------------------------------------


def test_recipient_address_is_inside_the_a4_window(fr_pdf: bytes, tmp_path: Path) -> None:
    window = GEOMETRIES["A4"].window
    assert (window.left, window.top, window.width, window.height) == (110, 50, 85, 40)
    assert_in_window(fr_pdf, tmp_path, FR_LETTER.recipient, window)


def test_recipient_address_is_inside_the_us_10_window(en_pdf: bytes, tmp_path: Path) -> None:
    window = GEOMETRIES["Letter"].window
    assert_in_window(en_pdf, tmp_path, EN_LETTER.recipient, window)


def test_nothing_else_is_printed_in_the_window(fr_pdf: bytes, tmp_path: Path) -> None:
    window = GEOMETRIES["A4"].window
    recipient_words = {
        word
        for line in (FR_LETTER.recipient.name, *FR_LETTER.recipient.address_lines)
        for word in line.split()
    }
    for text, left, top, right, bottom in words_on_first_page(fr_pdf, tmp_path):
        overlaps = left < window.right and right > window.left
        overlaps = overlaps and top < window.bottom and bottom > window.top
        if overlaps:
            assert text in recipient_words, f"{text!r} shows through the window"


def test_an_address_too_long_for_the_window_is_refused() -> None:
    party = Party("Someone", tuple(f"line {i}" for i in range(7)), country="France")
    with pytest.raises(ValueError, match="envelope window"):
        render_letter(replace(FR_LETTER, recipient=party))


# --------------------------------------------------------------------------------------------------
# Pictures of the pages
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["fr", "en"])
def test_pages_render_to_non_trivial_pictures(
    which: str, fr_pdf: bytes, en_pdf: bytes, tmp_path: Path
) -> None:
    pdf = fr_pdf if which == "fr" else en_pdf
    source = tmp_path / f"{which}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", str(source), str(tmp_path / "page")], check=True
    )
    pictures = sorted(tmp_path.glob("page-*.png"))
    assert len(pictures) == page_count(pdf)
    for picture in pictures:
        assert picture.stat().st_size > 5_000
        with Image.open(picture) as image:
            histogram = image.convert("L").histogram()
        # Ink on paper, not a blank or a black page: dark text, mostly white.
        assert sum(histogram[:128]) > 1_000
        assert sum(histogram[240:]) > sum(histogram) / 2


# --------------------------------------------------------------------------------------------------
# Escaping and fetching
# --------------------------------------------------------------------------------------------------


def test_user_text_is_printed_literally(tmp_path: Path) -> None:
    body = (
        "Hello <script>alert(1)</script> and <b>not bold</b>\n\n"
        "Template leftovers {{ 7 * 7 }} and {% if x %} stay as typed & so does &amp;."
    )
    letter = replace(
        FR_LETTER,
        body=body,
        subject="Objet <i>urgent</i> {{ subject }}",
        recipient=Party("Dupont & Fils <SARL>", ("1 rue A", "75001 Paris")),
    )
    text = pdf_text(render_letter(letter), tmp_path)
    assert "<script>alert(1)</script>" in text
    assert "<b>not bold</b>" in text
    assert "{{ 7 * 7 }}" in text
    assert "{% if x %}" in text
    assert "49" not in text
    assert "& so does &amp;." in text
    assert "<i>urgent</i> {{ subject }}" in text
    assert "Dupont & Fils <SARL>" in text


def test_an_svg_logo_cannot_make_the_renderer_read_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_logo())
    logo = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="200" height="60"><image xlink:href="file://{secret}" width="200" height="60"/>'
        "</svg>"
    ).encode()
    stationery = replace(FR_STATIONERY, logo=logo)
    pdf = render_letter(replace(FR_LETTER, stationery=stationery))
    assert not PdfReader(io.BytesIO(pdf)).pages[0].images
    # The same PNG given directly as the logo is embedded.
    direct = render_letter(replace(FR_LETTER, stationery=replace(FR_STATIONERY, logo=png_logo())))
    assert PdfReader(io.BytesIO(direct)).pages[0].images


def test_stationery_refuses_unknown_logos_and_colours() -> None:
    with pytest.raises(ValueError, match="PNG, JPEG or SVG"):
        render_letter(replace(FR_LETTER, stationery=replace(FR_STATIONERY, logo=b"GIF89a....")))
    with pytest.raises(ValueError, match="accent colour"):
        replace(FR_STATIONERY, accent_colour="red; background: url(file:///etc/passwd)")
    with pytest.raises(ValueError, match="paper"):
        replace(FR_STATIONERY, paper="A5")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Invoice summary
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "title", "disclaimer"),
    [
        ("fr", "Récapitulatif de facture", "ne remplace pas la facture originale"),
        ("en", "Invoice summary", "does not replace the original"),
    ],
)
def test_invoice_summary_is_one_page_and_says_it_is_not_the_invoice(
    language: str, title: str, disclaimer: str, tmp_path: Path
) -> None:
    pdf = render_invoice_summary(
        FR_STATIONERY,
        FR_LETTER.recipient,
        FR_INVOICES[0],
        language,  # type: ignore[arg-type]
    )
    assert page_count(pdf) == 1
    text = pdf_text(pdf, tmp_path)
    assert title in text
    assert disclaimer in text
    assert "F-2026-0141" in text
    assert "1 200,00 €" in text
    assert "Boulangerie Dupont SARL" in text
    assert "FR76 3000 6000 0112 3456 7890 189" in text
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert (metadata.title or "").startswith(title)


# --------------------------------------------------------------------------------------------------
# Print run
# --------------------------------------------------------------------------------------------------


def test_merged_print_run_pads_odd_letters_for_duplex(fr_pdf: bytes, en_pdf: bytes) -> None:
    run = [fr_pdf, en_pdf, fr_pdf, fr_pdf]  # 1, 2, 1, 1 pages
    assert page_count(merge_pdfs(run)) == 5

    duplex = merge_pdfs(run, duplex=True)
    # 1 + blank, 2, 1 + blank, 1 (the last letter needs no padding)
    assert page_count(duplex) == 7
    reader = PdfReader(io.BytesIO(duplex))
    starts = [0, 2, 4, 6]
    for start in starts:
        assert start % 2 == 0  # every letter starts on the front of a sheet
        assert reader.pages[start].extract_text().strip()
    for blank in (1, 5):
        assert not reader.pages[blank].extract_text().strip()
        # The blank page has the size of the letter it follows (A4), not of the next one.
        assert round(float(reader.pages[blank].mediabox.height)) == 842
    # One bookmark per letter, titled after its recipient.
    titles = [str(item.title) for item in reader.outline]  # type: ignore[union-attr]
    assert len(titles) == 4
    assert titles[1].startswith("Contoso Ltd")


def test_merging_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        merge_pdfs([])


def test_a_uk_payers_letter_gives_the_sort_code_and_account_number(tmp_path: Path) -> None:
    uk = replace(
        EN_LETTER,
        payment=PaymentInstructions(
            "GB33BUKB20201555555555",
            "BUKBGB22",
            "C002-FINAL",
            sort_code="20-20-15",
            account_number="55555555",
        ),
        statement_appendix=False,
    )
    text = pdf_text(render_letter(uk), tmp_path, page=1)
    assert "Sort code" in text
    assert "20-20-15" in text
    assert "Account number" in text
    assert "55555555" in text
    box = text.upper().split("PAYMENT BY BANK TRANSFER")[1].split("PAGE 1 OF")[0]
    assert "GB33" not in box  # the IBAN stays in the footer, not in the payment box


def test_the_letter_service_fills_the_payment_box_for_a_uk_payer() -> None:
    from relance.models import Company
    from relance.services.dunning.letters import _payment

    company = Company(iban="GB33BUKB20201555555555", bic="BUKBGB22", sort_code="202015")
    uk = {"payment": {"reference": "R", "sort_code": "20-20-15", "account_number": "55555555"}}
    box = _payment(company, uk)
    assert box is not None
    assert (box.sort_code, box.account_number) == ("20-20-15", "55555555")
    other = _payment(company, {"payment": {"reference": "R", "sort_code": ""}})
    assert other is not None
    assert (other.iban, other.sort_code) == ("GB33BUKB20201555555555", "")
    assert _payment(Company(), {"payment": {"reference": "R", "sort_code": ""}}) is None
