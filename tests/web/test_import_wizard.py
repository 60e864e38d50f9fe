"""The import wizard's column step: a file whose columns are not relance's own goes through it;
the page says how the file was read, suggests each field's column, previews the first rows as
read with their problems, saves the choices as the company's mapping, and starts the check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from relance.models import ImportJob, Invoice, SavedMapping
from relance.services.ledger import import_jobs
from tests.web.forms import columns_of

Status = ImportJob.Status
FRENCH = (
    "N° facture;Code client;Date;Échéance;Devise;Montant TTC\r\n"
    "FA-1;C-77;02/01/2026;31/01/2026;EUR;1 234,56\r\n"
    "FA-2;C-77;03/01/2026;32/01/2026;EUR;99,00\r\n"
)


@pytest.fixture(autouse=True)
def inline_jobs(settings, tmp_path):
    settings.RELANCE_IMPORT_DIR = tmp_path / "imports"
    settings.RELANCE_IMPORT_EXECUTOR = "relance.services.ledger.import_jobs.Inline"


def _upload(client, company, data, *, kind="invoices", name="factures.csv", **extra):
    form = {
        "company": company.pk,
        "kind": kind,
        "dry_run": "on",
        "file": SimpleUploadedFile(name, data, content_type="text/csv"),
        **extra,
    }
    return client.post("/imports/", form)


def test_a_french_file_is_mapped_previewed_fixed_and_checked(
    world, new_customer, django_capture_on_commit_callbacks
):
    new_customer(world.alpha, "C-77", "Quincaillerie Dupré")
    client = world.client("controller")
    answer = _upload(client, world.alpha, FRENCH.encode("cp1252"))
    job = ImportJob.objects.get()
    assert job.status == Status.DRAFT
    assert answer["Location"] == f"/imports/{job.pk}/columns/"

    page = client.get(answer["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Windows-1252" in html
    assert "semicolon" in html
    values = columns_of(page)
    assert values["column_external_id"] == "N° facture"
    assert values["column_due_date"] == "Échéance"
    assert values["column_total"] == "Montant TTC"
    assert values["column_status"] == ""
    # The preview, shown at once: row 3's due date does not exist, said on its row and field.
    assert "Row 3" in html
    assert "due_date" in html
    assert "1234.56" in html

    fixed = FRENCH.replace("32/01/2026", "28/02/2026").encode("cp1252")
    job.delete()
    answer = _upload(client, world.alpha, fixed)
    job = ImportJob.objects.get()
    page = client.get(answer["Location"])
    assert 'id="preview-problems"' not in page.content.decode()
    values = {**columns_of(page), "save_as": "mes-factures", "action": "start"}
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/imports/{job.pk}/columns/", values)
    assert answer["Location"] == f"/imports/{job.pk}/"
    job.refresh_from_db()
    assert job.status == Status.DONE, job.errors
    assert job.dry_run
    assert job.created == 2
    assert not Invoice.objects.filter(external_id="FA-1").exists()
    saved = SavedMapping.objects.get(company=world.alpha, name="mes-factures")
    assert "Montant TTC" in saved.yaml
    assert job.options["mapping"] == "mes-factures"

    # Next month's file: the saved mapping is recognised, and the check is imported for real.
    ImportJob.objects.all().delete()
    answer = _upload(client, world.alpha, fixed)
    page = client.get(answer["Location"])
    assert "mes-factures" in page.content.decode()
    assert columns_of(page)["base"] == "mes-factures"


def test_a_column_changed_by_hand_is_what_the_check_reads(
    world, new_customer, django_capture_on_commit_callbacks
):
    new_customer(world.alpha, "C-77", "Quincaillerie Dupré")
    data = b"Ref;Client;Emise le;A payer le;Montant\r\nX-1;C-77;2026-01-02;2026-01-31;10.00\r\n"
    client = world.client("admin")
    answer = _upload(client, world.alpha, data)
    page = client.get(answer["Location"])
    values = columns_of(page)
    assert "Still to choose" in page.content.decode()  # the dates are not guessed
    values.update(column_issue_date="Emise le", column_due_date="A payer le", action="preview")
    page = client.post(answer["Location"], values)
    assert page.status_code == 200
    assert "Still to choose" not in page.content.decode()
    values["action"] = "start"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(answer["Location"], values)
    job = ImportJob.objects.get()
    assert job.status == Status.DONE, job.errors
    assert job.options["mapping_spec"]["columns"]["due_date"] == "A payer le"
    assert "defaults" not in job.options["mapping_spec"]


def test_a_required_field_left_out_is_refused_on_the_page(world):
    client = world.client("admin")
    answer = _upload(client, world.alpha, b"Ref,Amount\nX,1\n", kind="payments")
    values = {**columns_of(client.get(answer["Location"])), "action": "start"}
    page = client.post(answer["Location"], values)
    assert page.status_code == 400
    assert "customer_id" in page.content.decode()
    assert ImportJob.objects.get().status == Status.DRAFT


def test_a_value_for_every_row_stands_for_a_missing_column(
    world, new_customer, django_capture_on_commit_callbacks
):
    new_customer(world.alpha, "C-1", "Seule")
    client = world.client("admin")
    data = b"Payment,Date,Amount\nP-1,2026-02-01,10.00\n"
    answer = _upload(client, world.alpha, data, kind="payments")
    values = {**columns_of(client.get(answer["Location"])), "default_customer_id": "C-1"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(answer["Location"], {**values, "action": "start"})
    job = ImportJob.objects.get()
    assert job.status == Status.DONE, job.errors
    assert job.created == 1


def test_a_badly_named_mapping_is_refused_on_its_field_and_nothing_starts(world):
    client = world.client("admin")
    answer = _upload(client, world.alpha, FRENCH.encode())
    values = {**columns_of(client.get(answer["Location"])), "save_as": "Mes Factures!"}
    page = client.post(answer["Location"], {**values, "action": "start"})
    assert page.status_code == 400
    assert "is not a mapping name" in page.content.decode()
    assert ImportJob.objects.get().status == Status.DRAFT
    assert not SavedMapping.objects.exists()


def test_an_unreadable_file_is_said_so_on_the_column_step(world):
    client = world.client("admin")
    answer = _upload(client, world.alpha, b"PK\x03\x04garbage", name="book.xlsx")
    page = client.get(answer["Location"])
    assert page.status_code == 400
    assert "cannot read this file" in page.content.decode()


def test_the_column_step_belongs_to_the_company_s_importers(world):
    job_client = world.client("admin")
    answer = _upload(job_client, world.alpha, FRENCH.encode())
    url = answer["Location"]
    assert world.client("reader").get(url).status_code == 403
    assert world.client("rep").get(url).status_code == 403
    assert world.client("beta_admin").get(url).status_code == 404


def test_a_draft_starts_once_and_stays_out_of_the_history(
    world, django_capture_on_commit_callbacks
):
    client = world.client("admin")
    answer = _upload(client, world.alpha, FRENCH.encode())
    job = ImportJob.objects.get()
    history = client.get(f"/imports/history/?company={world.alpha.pk}")
    assert b"factures.csv" not in history.content
    assert client.get(f"/imports/{job.pk}/")["Location"] == answer["Location"]
    values = {**columns_of(client.get(answer["Location"])), "action": "start"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(answer["Location"], values)
        again = client.post(answer["Location"], values)
    assert again["Location"] == f"/imports/{job.pk}/"  # not a draft any more: its job page
    assert ImportJob.objects.count() == 1
    with pytest.raises(import_jobs.ImportRefused):
        import_jobs.start(ImportJob.objects.get(), {})


def test_abandoned_drafts_are_purged_with_their_file(world, settings):
    client = world.client("admin")
    _upload(client, world.alpha, FRENCH.encode())
    job = ImportJob.objects.get()
    path = import_jobs.path_of(job)
    assert path.is_file()
    ImportJob.objects.filter(pk=job.pk).update(
        queued_at=timezone.now() - timedelta(days=int(settings.RELANCE_IMPORT_KEEP_DAYS) + 1)
    )
    import_jobs.purge_files()
    assert not ImportJob.objects.exists()
    assert not path.exists()


def test_relance_s_own_columns_skip_the_step(world, django_capture_on_commit_callbacks):
    client = world.client("admin")
    with django_capture_on_commit_callbacks(execute=True):
        answer = _upload(client, world.alpha, b"external_id,name\nN1,Nouvelle\n", kind="customers")
    job = ImportJob.objects.get()
    assert answer["Location"] == f"/imports/{job.pk}/"
    assert job.status == Status.DONE
