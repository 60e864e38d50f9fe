"""A credit controller imports customers in Chromium: the file has a mistake, the check shows it
on its row; the corrected file is checked, imported for real in the background while the progress
bar fills, appears in the history, and is undone. The pages are pictured in English and French."""

from __future__ import annotations

import os
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connections
from playwright.sync_api import expect

from relance.models import Company, Customer, Event, ImportJob, Membership, Payment
from relance.services.ledger import import_jobs

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cret-pass!"

# as a French Excel saves it: semicolons, Windows-1252 (the tabular reader detects both)
HEADER = "external_id;name;currency;country;segment\n"
ROWS = [f"C{i:04d};Café Dupré {i};EUR;FR;retail\n" for i in range(1, 400)]


class Unhurried:
    """The embedded executor, its thread waiting a moment first so the page shows the job
    waiting, then running, then done."""

    def start(self, job_id: int) -> None:
        def later() -> None:
            time.sleep(1.5)
            try:
                import_jobs.run(job_id)
            finally:
                connections.close_all()

        threading.Thread(target=later, daemon=True).start()


def _log_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_controller_fixes_a_file_imports_it_and_undoes_it(page, live_server, tmp_path, settings):
    settings.RELANCE_IMPORT_DIR = tmp_path / "imports"
    settings.RELANCE_IMPORT_EXECUTOR = f"{__name__}.Unhurried"
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    marc = get_user_model().objects.create(
        username="marc", email="marc@atelier.test", password=make_password(PASSWORD)
    )
    company = Company.objects.create(
        code="atelier", name="Atelier Lumière", country="FR", currency="EUR"
    )
    Membership.objects.create(company=company, user=marc, role=Membership.Role.CREDIT_CONTROLLER)
    wrong = tmp_path / "clients.csv"
    wrong.write_text(
        HEADER + "".join(ROWS[:3]) + "C0004;;EUR;FR;retail\n" + "".join(ROWS[4:]), "cp1252"
    )

    _log_in(page, "marc")
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import", exact=True)).to_be_visible()
    expect(page.get_by_label("Check the file only (nothing is saved)")).to_be_checked()
    page.get_by_label("What the file holds").select_option("customers")
    page.get_by_label("File", exact=True).set_input_files(str(wrong))
    page.screenshot(path=str(shots / "import-en.png"), full_page=True)
    page.get_by_role("button", name="Send").click()

    # the check runs in the background, then shows the problem on its row
    expect(page.locator("#job-state")).to_have_text("Failed", timeout=30_000)
    errors = page.locator("#job-errors")
    expect(errors).to_contain_text("1 problem")
    row = errors.locator("tbody tr").first
    expect(row).to_contain_text("5")
    expect(row).to_contain_text("name")
    expect(row).to_contain_text("required")
    page.screenshot(path=str(shots / "import-problems-en.png"), full_page=True)
    assert not Customer.objects.exists()

    # the corrected file: checked, then imported for real
    right = tmp_path / "clients-corrected.csv"
    right.write_text(HEADER + "".join(ROWS), "cp1252")
    page.get_by_role("link", name="Send a corrected file").click()
    expect(page.get_by_label("What the file holds")).to_have_value("customers")
    page.get_by_label("File", exact=True).set_input_files(str(right))
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#job-progress")).to_be_visible()
    expect(page.locator("#job-state")).to_have_text("Checked", timeout=30_000)
    expect(page.locator("#job-summary")).to_contain_text("The file is correct")
    page.get_by_role("button", name="Import for real").click()
    progress = page.locator("#job-progress")
    expect(page.locator("#job-state")).to_have_text("Waiting to start")
    page.screenshot(path=str(shots / "import-running-en.png"), full_page=True)
    expect(page.locator("#job-state")).to_have_text("Done", timeout=30_000)
    size = right.stat().st_size
    expect(progress).to_have_attribute("value", str(size))
    expect(progress).to_have_attribute("max", str(size))
    expect(page.locator(".counts")).to_contain_text("399")
    page.screenshot(path=str(shots / "import-done-en.png"), full_page=True)
    assert Customer.objects.filter(company=company).count() == 399
    assert Customer.objects.get(external_id="C0007").name == "Café Dupré 7"

    # the history lists both files, with their hash; the import is undone from there
    page.get_by_role("link", name="Import history").click()
    table = page.locator("table.imports")
    expect(table.locator("tbody tr")).to_have_count(3)
    real = ImportJob.objects.filter(dry_run=False).get()
    expect(table.locator("tbody tr").first).to_contain_text("clients-corrected.csv")
    expect(table.locator("tbody tr").first).to_contain_text(real.sha256[:12])
    page.screenshot(path=str(shots / "import-history-en.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    table.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status")).to_contain_text("Import undone: 399 rows")
    expect(page.locator("#job-state")).to_have_text("Undone")
    assert not Customer.objects.exists()
    assert Event.objects.filter(kind="import.undone", actor=marc).exists()

    # the same pages in French
    page.get_by_label("Language", exact=True).select_option("fr")
    page.wait_for_load_state()
    page.screenshot(path=str(shots / "import-undone-fr.png"), full_page=True)
    failed = ImportJob.objects.filter(status=ImportJob.Status.FAILED).get()
    page.goto(f"/imports/{failed.pk}/")
    page.screenshot(path=str(shots / "import-problems-fr.png"), full_page=True)
    page.goto("/imports/history/")
    page.screenshot(path=str(shots / "import-history-fr.png"), full_page=True)
    page.goto("/imports/")
    page.screenshot(path=str(shots / "import-fr.png"), full_page=True)


def test_an_aged_balance_is_imported_through_a_built_in_mapping(
    page, live_server, tmp_path, settings
):
    """The issue's French aged balance (`;`, Windows-1252, `1 234,56`, `31/01/2026`), read
    through the built-in mapping chosen on the page: the settled part becomes a payment."""
    from relance.models import Invoice

    settings.RELANCE_IMPORT_DIR = tmp_path / "imports"
    settings.RELANCE_IMPORT_EXECUTOR = f"{__name__}.Unhurried"
    marc = get_user_model().objects.create(
        username="marc", email="marc@atelier.test", password=make_password(PASSWORD)
    )
    company = Company.objects.create(
        code="atelier", name="Atelier Lumière", country="FR", currency="EUR"
    )
    Membership.objects.create(company=company, user=marc, role=Membership.Role.CREDIT_CONTROLLER)
    Customer.objects.create(company=company, external_id="C-77", name="Quincaillerie Dupré")
    balance = tmp_path / "balance-agee.csv"
    balance.write_text(
        "Client;N° facture;Date facture;Échéance;Montant TTC;Reste dû\n"
        "C-77;FA-2026-001;02/01/2026;31/01/2026;1 234,56;234,56\n",
        "cp1252",
    )
    _log_in(page, "marc")
    page.goto("/imports/")
    page.get_by_label("What the file holds").select_option("invoices")
    page.get_by_label("File", exact=True).set_input_files(str(balance))
    page.get_by_label("Columns").select_option("balance-agee")
    page.get_by_label("Check the file only (nothing is saved)").uncheck()
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#map-open_amount, #id_open_amount").last).to_have_value("Reste dû")
    page.get_by_role("button", name="Import the file").click()
    expect(page.locator("#job-state")).to_have_text("Done", timeout=30_000)
    invoice = Invoice.objects.get(company=company, external_id="FA-2026-001")
    assert str(invoice.total.normalize()) == "1234.56"
    settled = Payment.objects.get(company=company, external_id="FA-2026-001:settled")
    assert settled.amount == Decimal("1000.00")


def test_a_controller_maps_a_french_invoice_file_and_imports_it(
    page, live_server, tmp_path, settings
):
    """The wizard end to end: a French Excel's invoices (`;`, Windows-1252, French headers) go
    to the column step, which suggests each column and previews the first rows with a wrong
    date on its row; the fixed file is mapped (one choice changed by hand, saved for next
    month), checked, imported with its progress bar, and listed in the history."""
    from relance.models import Invoice, SavedMapping

    settings.RELANCE_IMPORT_DIR = tmp_path / "imports"
    settings.RELANCE_IMPORT_EXECUTOR = f"{__name__}.Unhurried"
    shots = Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path))
    marc = get_user_model().objects.create(
        username="marc", email="marc@atelier.test", password=make_password(PASSWORD)
    )
    company = Company.objects.create(
        code="atelier", name="Atelier Lumière", country="FR", currency="EUR"
    )
    Membership.objects.create(company=company, user=marc, role=Membership.Role.CREDIT_CONTROLLER)
    Customer.objects.create(company=company, external_id="C-77", name="Quincaillerie Dupré")
    header = "N° pièce;Code client;Date;Échéance;Devise;Montant TTC;Commentaire\n"
    rows = [f"FA-{i};C-77;02/01/2026;31/01/2026;EUR;1 234,56;relancé\n" for i in range(1, 6)]
    wrong = tmp_path / "factures.csv"
    wrong.write_text(
        header + rows[0] + rows[1].replace("31/01", "32/01") + "".join(rows[2:]), "cp1252"
    )

    _log_in(page, "marc")
    page.goto("/imports/")
    page.get_by_label("What the file holds").select_option("invoices")
    page.get_by_label("File", exact=True).set_input_files(str(wrong))
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Which column holds what")).to_be_visible()
    expect(page.locator("#read-as")).to_contain_text("Windows-1252")
    expect(page.locator("#read-as")).to_contain_text("semicolon")
    expect(page.locator("#id_column_due_date")).to_have_value("Échéance")
    expect(page.locator("#id_column_total")).to_have_value("Montant TTC")
    expect(page.locator("#id_column_number")).to_have_value("N° pièce")
    problems = page.locator("#preview-problems")
    expect(problems).to_contain_text("Row 3")
    expect(problems).to_contain_text("due_date")
    expect(page.locator("#preview tr.problem")).to_have_count(1)
    page.screenshot(path=str(shots / "import-columns-en.png"), full_page=True)
    assert not Invoice.objects.exists()

    right = tmp_path / "factures-corrigees.csv"
    right.write_text(header + "".join(rows), "cp1252")
    page.get_by_role("link", name="Import", exact=True).first.click()
    page.get_by_label("What the file holds").select_option("invoices")
    page.get_by_label("File", exact=True).set_input_files(str(right))
    page.get_by_role("button", name="Send").click()
    page.locator("#id_dates").select_option("%d/%m/%Y")
    page.locator("#id_column_status").select_option("Commentaire")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("No problem in these rows")
    expect(page.locator("#preview")).to_contain_text("2026-01-31")
    page.locator("#id_column_status").select_option("")  # not a status after all
    page.get_by_label("Save these columns as").fill("factures-excel")
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#job-state")).to_have_text("Checked", timeout=30_000)
    page.get_by_role("button", name="Import for real").click()
    expect(page.locator("#job-progress")).to_be_visible()
    expect(page.locator("#job-state")).to_have_text("Done", timeout=30_000)
    expect(page.locator(".counts")).to_contain_text("5")
    assert Invoice.objects.filter(company=company).count() == 5
    assert str(Invoice.objects.get(external_id="FA-3").total.normalize()) == "1234.56"
    assert SavedMapping.objects.filter(company=company, name="factures-excel").exists()

    page.get_by_role("link", name="Import history").click()
    table = page.locator("table.imports")
    expect(table.locator("tbody tr")).to_have_count(2)  # the check and the import
    expect(table.locator("tbody tr").first).to_contain_text("factures-corrigees.csv")

    # next month: the saved mapping is recognised; the page in French
    page.get_by_label("Language", exact=True).select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.goto("/imports/")
    page.locator("#id_kind").select_option("invoices")
    page.locator("#id_file").set_input_files(str(right))
    page.locator("#import-form button[type=submit]").click()
    expect(page.locator("#columns-form .notice")).to_contain_text("factures-excel")
    page.screenshot(path=str(shots / "import-columns-fr.png"), full_page=True)
