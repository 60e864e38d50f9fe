"""A credit controller prints the letters of the day in Chromium: from the outbox to the print
runs, downloads the run's PDF, marks it posted; the page then says so, in English and French."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect
from pypdf import PdfReader, PdfWriter

from relance.models import Company, Customer, Membership, OutboxMessage, PrintBatch
from relance.services.dunning.print_runs import file_letter

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_controller_downloads_and_posts_a_print_run(page, live_server, tmp_path):
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    marc = get_user_model().objects.create(
        username="marc", first_name="Marc", password=make_password(PASSWORD)
    )
    company = Company.objects.create(code="a", name="Atelier", country="FR", currency="EUR")
    Membership.objects.create(company=company, user=marc, role=Membership.Role.CREDIT_CONTROLLER)
    customer = Customer.objects.create(company=company, external_id="C1", name="Dupont")
    for n in range(3):
        message = OutboxMessage.objects.create(
            key=f"l{n}",
            company=company,
            customer=customer,
            channel="letter",
            to=[],
            status=OutboxMessage.Status.PRINTING,
        )
        file_letter(company.pk, message.pk, _pdf())

    page.goto("/login/")
    page.get_by_label("Username").fill("marc")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Outbox").click()
    page.get_by_role("link", name="Print runs").click()
    row = page.locator("table.print-runs tbody tr").first
    expect(row).to_contain_text("To print")
    expect(row).to_contain_text("3")
    page.screenshot(path=str(shots / "print-runs-en.png"), full_page=True)
    with page.expect_download() as download:
        row.get_by_role("link", name="Download (PDF)").click()
    pdf = Path(download.value.path()).read_bytes()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 3
    row.get_by_label("Reference (optional)").fill("La Poste 42")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Mark posted").click()
    expect(page.locator(".messages")).to_contain_text("is posted")
    expect(page.locator("table.print-runs tbody tr").first).to_contain_text("La Poste 42")
    assert PrintBatch.objects.get().status == PrintBatch.Status.POSTED
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    page.get_by_label("Language", exact=True).select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.screenshot(path=str(shots / "print-runs-fr.png"), full_page=True)
