"""The import pages: who may use them, the upload (checked first, then imported for real), the
job page and its polled status, the problems as a safe CSV, the history and undo."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from relance.models import Customer, Event, ImportJob
from relance.services.dunning import plans as plan_service
from tests.web.forms import columns_of

Status = ImportJob.Status
CUSTOMERS = b"external_id,name\nN1,Nouvelle Boulangerie\nN2,Atelier Neuf\n"


@pytest.fixture(autouse=True)
def inline_jobs(settings, tmp_path):
    settings.RELANCE_IMPORT_DIR = tmp_path / "imports"
    settings.RELANCE_IMPORT_EXECUTOR = "relance.services.ledger.import_jobs.Inline"


def _send(client, company, data=CUSTOMERS, *, dry_run=True, name="customers.csv", capture=None):
    form = {
        "company": company.pk,
        "kind": "customers",
        "file": SimpleUploadedFile(name, data, content_type="text/csv"),
    }
    if dry_run:
        form["dry_run"] = "on"
    with capture(execute=True):
        return client.post("/imports/", form)


@pytest.mark.parametrize("user", ["admin", "controller"])
def test_admins_and_controllers_import_and_see_it_in_the_menu(
    world, user, django_capture_on_commit_callbacks
):
    client = world.client(user)
    page = client.get("/dashboard/")
    assert b'href="/imports/"' in page.content
    page = client.get("/imports/")
    assert page.status_code == 200
    assert b"Check the file only" in page.content
    assert b"checked" in page.content
    answer = _send(client, world.alpha, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/imports/{job.pk}/"
    assert job.dry_run
    assert job.status == Status.DONE
    assert job.created == 2
    assert not Customer.objects.filter(external_id="N1").exists()
    page = client.get(f"/imports/{job.pk}/")
    assert b"Import for real" in page.content
    assert b"hx-get" not in page.content

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/imports/{job.pk}/confirm/")
    real = ImportJob.objects.exclude(pk=job.pk).get()
    assert answer["Location"] == f"/imports/{real.pk}/"
    assert real.status == Status.DONE
    assert Customer.objects.filter(external_id="N1").exists()
    history = client.get(f"/imports/history/?company={world.alpha.pk}")
    assert b"customers.csv" in history.content
    assert real.sha256[:12].encode() in history.content
    assert b"Undo" in history.content

    answer = client.post(f"/imports/{real.pk}/undo/", follow=True)
    assert b"Import undone: 2 rows" in answer.content
    assert not Customer.objects.filter(external_id="N1").exists()
    assert Event.objects.get(kind="import.undone").actor == world.users[user]


@pytest.mark.parametrize("user", ["reader", "rep"])
def test_read_only_users_and_sales_reps_are_refused(
    world, user, django_capture_on_commit_callbacks
):
    admin_job = _send(
        world.client("admin"), world.alpha, capture=django_capture_on_commit_callbacks
    )
    job = ImportJob.objects.get()
    assert admin_job.status_code == 302
    client = world.client(user)
    assert b'href="/imports/"' not in client.get("/dashboard/").content
    assert client.get("/imports/").status_code == 403
    assert client.get(f"/imports/?company={world.alpha.pk}").status_code == 403
    assert client.get("/imports/history/").status_code == 403
    for url in (
        f"/imports/{job.pk}/",
        f"/imports/{job.pk}/status/",
        f"/imports/{job.pk}/problems.csv",
    ):
        assert client.get(url).status_code == 403
    assert client.post(f"/imports/{job.pk}/confirm/").status_code == 403
    assert _send(client, world.alpha, capture=django_capture_on_commit_callbacks).status_code == 403
    assert ImportJob.objects.count() == 1


def test_another_company_s_jobs_are_not_found(world, django_capture_on_commit_callbacks):
    _send(world.client("beta_admin"), world.beta, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    client = world.client("admin")
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.post(f"/imports/{job.pk}/undo/").status_code == 404
    assert client.get(f"/imports/?company={world.beta.pk}").status_code == 404


def test_the_upload_needs_the_csrf_token(world):
    client = world.client("admin")
    client.handler.enforce_csrf_checks = True
    answer = client.post(
        "/imports/",
        {"kind": "customers", "file": SimpleUploadedFile("c.csv", CUSTOMERS)},
    )
    assert answer.status_code == 403
    assert not ImportJob.objects.exists()


def test_an_empty_or_too_large_file_is_refused_on_the_form(
    world, settings, django_capture_on_commit_callbacks
):
    client = world.client("admin")
    page = _send(client, world.alpha, b"", capture=django_capture_on_commit_callbacks)
    assert page.status_code == 400
    assert b"The file is empty" in page.content
    settings.RELANCE_IMPORT_MAX_BYTES = 10
    page = _send(client, world.alpha, capture=django_capture_on_commit_callbacks)
    assert page.status_code == 400
    assert b"larger than" in page.content
    assert not ImportJob.objects.exists()


def test_a_request_above_the_import_limit_is_refused_before_it_is_read(world, settings):
    settings.RELANCE_IMPORT_MAX_BYTES = 2**20
    client = world.client("admin")
    answer = client.generic(
        "POST", "/imports/", b"x", CONTENT_LENGTH=str(3 * 2**20), content_type="text/plain"
    )
    assert answer.status_code == 413
    # the staff pages' own limit still holds elsewhere
    assert (
        client.generic("POST", "/team/add/", b"x", CONTENT_LENGTH=str(50 * 2**20)).status_code
        == 413
    )


def test_problems_are_shown_on_their_row_and_downloaded_as_safe_csv(
    world, django_capture_on_commit_callbacks
):
    client = world.client("controller")
    bad = b'external_id,name,currency\nN1,"=HYPERLINK(""http://x"",""y"")",EURO\nN2,,EUR\n'
    _send(client, world.alpha, bad, dry_run=False, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert job.status == Status.FAILED
    assert job.error_count == 2
    page = client.get(f"/imports/{job.pk}/")
    content = page.content.decode()
    assert "2 problems" in content
    assert "Send a corrected file" in content
    assert "<code>currency</code>" in content
    assert "<code>name</code>" in content
    assert "Import for real" not in content
    answer = client.get(f"/imports/{job.pk}/problems.csv")
    assert answer["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0] == ["Row", "Column", "Problem"]
    assert [r[:2] for r in rows[1:]] == [["2", "currency"], ["3", "name"]]
    # an error message quoting a formula from the file is neutralised
    job.errors.append({"row": 4, "field": "name", "message": "=cmd|' /C calc'!A0"})
    job.error_count = 1500
    job.save()
    rows = list(
        csv.reader(io.StringIO(client.get(f"/imports/{job.pk}/problems.csv").content.decode()))
    )
    assert rows[3] == ["4", "name", "'=cmd|' /C calc'!A0"]
    assert rows[-1][2] == "… and 1497 more problems"


def test_the_status_is_polled_while_the_job_runs(
    world, settings, django_capture_on_commit_callbacks
):
    settings.RELANCE_IMPORT_EXECUTOR = "tests.services.test_import_jobs.Nowhere"
    client = world.client("admin")
    _send(client, world.alpha, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.pk}/status/")
    assert b'hx-trigger="every 1s"' in page.content
    assert b"<progress" in page.content
    assert b"Waiting to start" in page.content
    # a second file for the same company is refused while the first waits
    answer = _send(client, world.alpha, capture=django_capture_on_commit_callbacks)
    assert answer.status_code == 400
    assert b"already running" in answer.content


def test_the_pages_in_french(world, django_capture_on_commit_callbacks):
    client = world.client("admin", "fr")
    assert client.get("/imports/").status_code == 200
    _send(client, world.alpha, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert client.get(f"/imports/{job.pk}/").status_code == 200
    assert client.get("/imports/history/").status_code == 200


def test_the_history_offers_undo_on_the_latest_import_only(
    world, django_capture_on_commit_callbacks
):
    client = world.client("admin")
    _send(client, world.alpha, dry_run=False, capture=django_capture_on_commit_callbacks)
    _send(
        client,
        world.alpha,
        b"external_id,name\nN3,Troisieme\n",
        dry_run=False,
        name="more.csv",
        capture=django_capture_on_commit_callbacks,
    )
    _send(
        client,
        world.alpha,
        b"external_id,name\nN4,Check\n",
        capture=django_capture_on_commit_callbacks,
    )
    page = client.get("/imports/history/").content.decode()
    assert page.count('action="/imports/') == 1  # one undo form
    latest = ImportJob.objects.get(file_name="more.csv")
    assert f'action="/imports/{latest.pk}/undo/"' in page
    assert "Checked" in page
    first = ImportJob.objects.get(file_name="customers.csv", dry_run=False)
    page = client.get(f"/imports/{first.pk}/").content.decode()
    assert "only the latest can be undone" in page
    assert "Undo this import" not in page


def test_the_running_job_shows_its_bytes_read(world, settings, django_capture_on_commit_callbacks):
    from relance.services.ledger import import_jobs

    settings.RELANCE_IMPORT_EXECUTOR = "tests.services.test_import_jobs.Nowhere"
    client = world.client("controller")
    _send(client, world.alpha, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING)
    meter = import_jobs._Progress(job.pk)
    try:
        meter.written_at -= 1
        meter.report(20)
        page = client.get(f"/imports/{job.pk}/status/").content.decode()
    finally:
        meter.stop()
    assert f'max="{job.size}" value="20"' in page
    assert "Running" in page


def test_another_products_export_is_read_through_the_chosen_mapping(
    world, new_customer, django_capture_on_commit_callbacks
):
    """The issue's French aged balance (`;`, Windows-1252, `1 234,56`, `31/01/2026`) through the
    built-in `balance-agee` mapping: the settled part becomes a payment, the rest is owed."""
    from relance.models import Invoice

    new_customer(world.alpha, "C-77", "Quincaillerie Dupré")
    data = (
        "Client;N° facture;Date facture;Échéance;Montant TTC;Reste dû\r\n"
        "C-77;FA-2026-001;02/01/2026;31/01/2026;1 234,56;234,56\r\n"
    ).encode("cp1252")
    client = world.client("controller")
    page = client.get(f"/imports/?company={world.alpha.pk}")
    assert b'value="balance-agee"' in page.content
    form = {
        "company": world.alpha.pk,
        "kind": "invoices",
        "mapping": "balance-agee",
        "file": SimpleUploadedFile("balance.csv", data, content_type="text/csv"),
    }
    answer = client.post("/imports/", form)
    job = ImportJob.objects.get()
    assert answer["Location"] == f"/imports/{job.pk}/columns/"  # to confirm the columns
    page = client.get(answer["Location"])
    assert "mapping “Balance âgée" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(answer["Location"], {**columns_of(page), "action": "start"})
    assert answer["Location"] == f"/imports/{job.pk}/"
    job.refresh_from_db()
    assert job.status == Status.DONE, job.errors
    assert job.options["mapping"] == "balance-agee"
    assert job.options["mapping_spec"]["open_amount"] == "Reste dû"
    assert job.options["language"] == "en"
    invoice = Invoice.objects.get(external_id="FA-2026-001")
    assert invoice.total == Decimal("1234.56")
    assert invoice.amount_due(date(2027, 1, 1)) == Decimal("234.56")  # settled: 1,000.00


def test_a_mapping_for_another_kind_is_refused_on_its_field(world):
    client = world.client("admin")
    form = {
        "company": world.alpha.pk,
        "kind": "customers",
        "mapping": "balance-agee",
        "file": SimpleUploadedFile("c.csv", CUSTOMERS, content_type="text/csv"),
    }
    answer = client.post("/imports/", form)
    assert answer.status_code == 400
    assert "This mapping reads invoices" in answer.content.decode()
    assert not ImportJob.objects.exists()


def test_the_check_lists_the_customers_that_would_change_plan(
    world, django_capture_on_commit_callbacks
):
    shipped = Path(__file__).resolve().parents[2] / "relance" / "plans"
    for name in ("standard", "white-glove"):
        plan_service.load_plans((shipped / f"{name}.yaml").read_text(encoding="utf-8"))
    plan_service.save_rules(
        [
            {"name": "Key accounts", "plan": "white-glove", "when": {"segment": ["enterprise"]}},
            {"name": "Everyone else", "plan": "standard"},
        ],
        company=world.alpha,
    )
    client = world.client("controller")
    data = b"external_id,name,segment\nA1,Boulangerie Dupont,enterprise\nA2,Garage Martin,\n"
    _send(client, world.alpha, data, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.pk}/status/").content.decode()
    assert "1 customer would change plan:" in page
    assert "Boulangerie Dupont" in page
    assert "<code>standard</code></td><td>→ <code>white-glove</code>" in page
    assert "Garage Martin" not in page
    assert "more customer" not in page

    # the real import says what it did; beyond the 50 shown, how many more
    job.dry_run, job.plan_change_count = False, 53
    job.plan_changes = [
        {"customer": f"X{i}", "name": f"Client {i}", "before": None, "after": "standard"}
        for i in range(53)
    ]
    job.save()
    page = client.get(f"/imports/{job.pk}/status/").content.decode()
    assert "53 customers changed plan:" in page
    assert "Client 49" in page
    assert "Client 50" not in page
    assert "… and 3 more customers." in page
    assert "no plan" in page
