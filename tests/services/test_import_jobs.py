"""Import jobs: a stored upload imported in the background, its progress, its failures, one job
per company at a time, jobs killed mid-way, and undo of the latest import while nothing depends
on it."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from relance.models import (
    Allocation,
    Customer,
    Event,
    ImportJob,
    Invoice,
    Payment,
    PaymentRequest,
    Run,
)
from relance.services.dialogue import pauses
from relance.services.ledger import import_jobs, import_undo
from relance.services.ledger.import_jobs import ImportRefused
from relance.services.ledger.import_undo import UndoRefused
from tests import clock

Status = ImportJob.Status

CUSTOMERS = (
    b"external_id,name,currency,country\nC1,Boulangerie Dupont,EUR,FR\nC2,Garage Martin,EUR,FR\n"
)
INVOICES = (
    b"external_id,customer_id,number,issue_date,due_date,currency,total\n"
    b"I1,C1,F-001,2026-01-10,2026-02-09,EUR,1000.00\n"
    b"I2,C2,F-002,2026-02-10,2026-03-12,EUR,500.00\n"
)


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.RELANCE_IMPORT_DIR = tmp_path / "imports"
    settings.RELANCE_IMPORT_EXECUTOR = "relance.services.ledger.import_jobs.Inline"
    return tmp_path / "imports"


@pytest.fixture
def claire(db):
    return get_user_model().objects.create(username="claire", email="claire@ar.test")


def submit(company, kind, data, user, *, dry_run=False, name="ledger.csv", capture=None):
    upload = io.BytesIO(data)
    upload.name = name
    with capture(execute=True):
        return import_jobs.submit(company, kind, upload, user, dry_run=dry_run)


@pytest.fixture
def send(company, claire, django_capture_on_commit_callbacks):
    def send(kind, data, *, dry_run=False, name="ledger.csv"):
        job = submit(
            company,
            kind,
            data,
            claire,
            dry_run=dry_run,
            name=name,
            capture=django_capture_on_commit_callbacks,
        )
        job.refresh_from_db()
        return job

    return send


def test_a_job_stores_the_file_imports_it_and_records_its_counts(send, storage, company):
    job = send("customers", CUSTOMERS, name="../../etc/passwd\x07.csv")
    assert job.status == Status.DONE
    assert (job.created, job.updated, job.unchanged, job.error_count) == (2, 0, 0, 0)
    assert job.bytes_read == job.size == len(CUSTOMERS)
    assert job.file_name == "passwd.csv"  # displayed only, never a path
    stored = storage / job.stored_file
    assert stored.read_bytes() == CUSTOMERS
    assert stored.parent.parent == storage
    assert job.sha256 == __import__("hashlib").sha256(CUSTOMERS).hexdigest()
    assert job.started_at
    assert job.finished_at
    assert job.uploaded_by.username == "claire"
    assert Customer.objects.filter(company=company).count() == 2
    assert Event.objects.filter(kind="import.customers").get().data["file"] == "passwd.csv"


def test_a_dry_run_counts_and_writes_nothing_then_confirm_imports_the_same_file(
    send, company, claire, django_capture_on_commit_callbacks
):
    check = send("customers", CUSTOMERS, dry_run=True)
    assert check.status == Status.DONE
    assert check.created == 2
    assert check.dry_run
    assert not Customer.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        real = import_jobs.confirm(check, claire)
    real.refresh_from_db()
    assert real.status == Status.DONE
    assert not real.dry_run
    assert real.created == 2
    assert real.stored_file == check.stored_file
    assert real.checked_by == check
    assert Customer.objects.count() == 2


def test_errors_are_kept_with_their_row_and_field_and_nothing_is_written(send, company):
    job = send("customers", CUSTOMERS + b"C3,,EUR,FR\nC4,Bad Currency,EURO,FR\n")
    assert job.status == Status.FAILED
    assert job.error_count == 2
    assert job.created == 0
    assert {(e["row"], e["field"]) for e in job.errors} == {(4, "name"), (5, "currency")}
    assert "Nothing was imported" in job.message
    assert not Customer.objects.exists()


def test_progress_is_written_at_most_every_half_second(send, settings, monkeypatch, company):
    writes = []
    real_write = import_jobs._Progress._write

    def write(self):
        writes.append(self.value)
        real_write(self)

    monkeypatch.setattr(import_jobs._Progress, "_write", write)
    rows = b"".join(b"C%d,Customer %d,EUR,FR\n" % (i, i) for i in range(30000))
    job = send("customers", b"external_id,name,currency,country\n" + rows)
    assert job.status == Status.DONE
    assert job.created == 30000
    # the first write (0) when the job starts, then at most one per half second
    assert writes[0] == 0
    assert len(writes) <= 2 + int((job.finished_at - job.started_at).total_seconds() / 0.5)


def test_the_running_job_reports_its_bytes_read(company, claire, settings, storage):
    job = ImportJob.objects.create(
        company=company,
        kind="customers",
        file_name="a.csv",
        sha256="x",
        size=1000,
        status=Status.RUNNING,
        started_at=timezone.now(),
    )
    meter = import_jobs._Progress(job.pk)
    meter.report(400)  # within half a second of the first write: not written yet
    assert import_jobs.progress(job) == 0
    meter.written_at -= 1
    meter.report(600)
    assert import_jobs.progress(job) == 600
    meter.stop()


def test_too_large_and_empty_files_are_refused_and_not_kept(send, settings, storage):
    settings.RELANCE_IMPORT_MAX_BYTES = 50
    with pytest.raises(ImportRefused, match="larger than"):
        send("customers", CUSTOMERS)
    with pytest.raises(ImportRefused, match="empty"):
        send("customers", b"")
    assert not ImportJob.objects.exists()
    assert not [p for p in storage.rglob("*") if p.is_file()]


def test_an_unknown_kind_is_refused(send):
    with pytest.raises(ImportRefused):
        send("secrets", CUSTOMERS)


def test_a_second_import_of_the_company_is_refused_while_one_runs(
    company, claire, django_capture_on_commit_callbacks, settings
):
    settings.RELANCE_IMPORT_EXECUTOR = "tests.services.test_import_jobs.Nowhere"
    first = submit(
        company, "customers", CUSTOMERS, claire, capture=django_capture_on_commit_callbacks
    )
    assert first.status == Status.QUEUED
    with pytest.raises(ImportRefused, match="already running"):
        submit(company, "customers", CUSTOMERS, claire, capture=django_capture_on_commit_callbacks)
    assert ImportJob.objects.count() == 1


class Nowhere:
    def start(self, job_id: int) -> None:
        pass


def test_a_job_killed_mid_way_is_marked_failed_after_its_lease(company, settings):
    settings.RELANCE_IMPORT_LEASE_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=5)
    dead = ImportJob.objects.create(
        company=company,
        kind="customers",
        file_name="a.csv",
        sha256="x",
        size=10,
        status=Status.RUNNING,
        started_at=long_ago,
    )
    assert import_jobs.expire_stale(company) == 1
    dead.refresh_from_db()
    assert dead.status == Status.FAILED
    assert "stopped before its end" in dead.message
    # a running job whose heartbeat is fresh is left alone
    alive = ImportJob.objects.create(
        company=company,
        kind="customers",
        file_name="b.csv",
        sha256="x",
        size=10,
        status=Status.RUNNING,
        started_at=long_ago,
    )
    meter = import_jobs._Progress(alive.pk)
    try:
        assert import_jobs.expire_stale(company) == 0
    finally:
        meter.stop()
    alive.delete()
    # one queued too long never started
    ImportJob.objects.create(
        company=company,
        kind="customers",
        file_name="c.csv",
        sha256="x",
        size=10,
        queued_at=timezone.now() - timedelta(hours=1),
    )
    assert import_jobs.expire_stale(company) == 1


def test_the_heartbeat_keeps_a_long_job_alive(company, settings):
    settings.RELANCE_IMPORT_LEASE_SECONDS = 3  # touched every half second
    job = ImportJob.objects.create(
        company=company,
        kind="customers",
        file_name="a.csv",
        sha256="x",
        size=10,
        status=Status.RUNNING,
        started_at=timezone.now() - timedelta(minutes=5),
    )
    meter = import_jobs._Progress(job.pk)
    path = import_jobs._progress_path(job.pk)
    os.utime(path, (time.time() - 100, time.time() - 100))
    time.sleep(1.2)
    try:
        assert time.time() - path.stat().st_mtime < 2
        assert import_jobs.expire_stale(company) == 0
    finally:
        meter.stop()


def test_a_job_declared_dead_meanwhile_leaves_nothing(send, company, monkeypatch):
    real = import_jobs._read

    def read_then_expire(job, stream, report):
        result = real(job, stream, report)
        ImportJob.objects.filter(pk=job.pk).update(status=Status.FAILED, message="stale")
        return result

    monkeypatch.setattr(import_jobs, "_read", read_then_expire)
    send("customers", CUSTOMERS)
    # (here the marking is undone with the rest: in real life another process committed it)
    assert not Customer.objects.exists()


def test_an_unexpected_error_fails_the_job_without_details(send, monkeypatch):
    def broken(job, stream, report):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(import_jobs, "_read", broken)
    job = send("customers", CUSTOMERS)
    assert job.status == Status.FAILED
    assert "unexpected error" in job.message
    assert "secret" not in job.message


def test_a_mapping_deleted_before_the_job_ran_is_named_in_its_failure(
    company, claire, django_capture_on_commit_callbacks
):
    """Said to the person, not "an unexpected error": they can act on it."""
    upload = io.BytesIO(b"Code;Nom\nC1;Dupont\n")
    upload.name = "clients.csv"
    job = import_jobs.submit(
        company, "customers", upload, claire, options={"mapping": "gone"}, draft=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_jobs.start(job, job.options)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "no mapping 'gone'" in job.message


def test_a_stored_file_changed_on_disk_is_not_imported(
    send, company, claire, storage, django_capture_on_commit_callbacks
):
    check = send("customers", CUSTOMERS, dry_run=True)
    (storage / check.stored_file).write_bytes(CUSTOMERS.replace(b"Dupont", b"Durand"))
    with django_capture_on_commit_callbacks(execute=True):
        real = import_jobs.confirm(check, claire)
    real.refresh_from_db()
    assert real.status == Status.FAILED
    assert "changed" in real.message
    assert not Customer.objects.exists()


def test_the_background_thread_runs_the_job(transactional_db, settings, tmp_path):
    from relance.models import Company

    settings.RELANCE_IMPORT_EXECUTOR = "relance.services.ledger.import_jobs.InThread"
    company = Company.objects.create(code="t", name="T", country="FR", currency="EUR")
    upload = io.BytesIO(CUSTOMERS)
    job = import_jobs.submit(company, "customers", upload, None, dry_run=False, name="c.csv")
    for _ in range(600):  # a shared machine may be slow to schedule the thread: up to a minute
        job.refresh_from_db()
        if job.finished:
            break
        time.sleep(0.1)
    assert job.status == Status.DONE
    assert job.created == 2


# --- undo -----------------------------------------------------------------------------------


def test_undo_deletes_what_the_latest_import_created_and_journals_it(send, company, claire):
    send("customers", CUSTOMERS)
    Payment.objects.create(
        company=company,
        customer=Customer.objects.get(external_id="C1"),
        external_id="P1",
        date="2026-03-01",
        currency="EUR",
        amount=100,
    )
    from relance.services.ledger import allocation

    allocation.reallocate(Customer.objects.values_list("pk", flat=True))
    job = send("invoices", INVOICES)
    assert Allocation.objects.count() == 1  # the earlier payment now pays I1
    # the payment above was made outside any job, before this import: the import is undoable
    assert import_undo.undo_refusal(job) == ""
    assert import_undo.undo(job, claire) == 2
    job.refresh_from_db()
    assert job.status == Status.UNDONE
    assert job.undone_by == claire
    assert job.undone_at
    assert not Invoice.objects.exists()
    assert not Allocation.objects.exists()
    assert Customer.objects.count() == 2
    assert Payment.objects.count() == 1
    event = Event.objects.get(kind="import.undone")
    assert event.actor == claire
    assert event.data["file"] == "ledger.csv"
    assert event.data["deleted"] == 2
    assert "already undone" in import_undo.undo_refusal(job)
    with pytest.raises(UndoRefused):
        import_undo.undo(job, claire)


def test_undo_of_customers_removes_the_people_it_invited(send, company, claire):
    job = send("customers", b"external_id,name,owner_email\nC1,Dupont,new.person@ar.test\n")
    assert job.invited_users == ["new.person@ar.test"]
    import_undo.undo(job, claire)
    assert not get_user_model().objects.filter(email="new.person@ar.test").exists()
    assert not Customer.objects.exists()


def test_undo_is_refused_for_a_dry_run_and_a_failed_import(send):
    check = send("customers", CUSTOMERS, dry_run=True)
    assert "nothing to undo" in import_undo.undo_refusal(check)
    failed = send("customers", b"external_id,name\nC1,\n")
    assert "finished" in import_undo.undo_refusal(failed)


def test_undo_puts_back_the_former_values_of_the_rows_it_changed(send, company, claire):
    send("customers", CUSTOMERS)
    send("invoices", INVOICES)
    changed = send(
        "invoices",
        INVOICES.replace(b"1000.00", b"1200.50").replace(b"2026-02-09", b"2026-02-28")
        + b"I3,C1,F-003,2026-03-01,2026-03-31,EUR,75.00\n",
    )
    assert (changed.created, changed.updated, changed.unchanged) == (1, 1, 1)
    [[_pk, before, after]] = changed.undo["updated"]
    assert before["total"] == "1000.0000"
    assert after["total"] == "1200.5000"
    assert before["due_date"] == "2026-02-09"
    assert after["due_date"] == "2026-02-28"
    assert import_undo.undo_refusal(changed) == ""
    assert import_undo.undo(changed, claire) == 1
    invoice = Invoice.objects.get(external_id="I1")
    assert str(invoice.total) == "1000.0000"
    assert str(invoice.due_date) == "2026-02-09"
    assert not Invoice.objects.filter(external_id="I3").exists()
    assert Event.objects.get(kind="import.undone").data["restored"] == 1


def test_undo_of_changes_is_refused_when_the_rows_changed_again(send, company):
    send("customers", CUSTOMERS)
    changed = send("customers", CUSTOMERS.replace(b"Dupont", b"Durand"))
    assert changed.updated == 1
    Customer.objects.filter(external_id="C1").update(name="Durand & Fils")
    assert "changed again" in import_undo.undo_refusal(changed)


def test_undo_is_refused_when_the_import_changed_too_many_rows(send, settings):
    settings.RELANCE_IMPORT_UNDO_MAX_ROWS = 1
    send("customers", CUSTOMERS)
    changed = send("customers", CUSTOMERS.replace(b"EUR", b"GBP"))
    assert changed.updated == 2
    assert changed.undo["updated"] is None
    assert "changed 2 existing rows, more than" in import_undo.undo_refusal(changed)


def test_the_copy_taken_before_the_import_is_dropped(send, company):
    from django.db import DatabaseError, connection, transaction

    send("customers", CUSTOMERS)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE relance_import_before (id integer)")  # no clash
    send("customers", CUSTOMERS.replace(b"Dupont", b"Durand"))
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM relance_import_before")


def test_only_the_latest_import_can_be_undone(send):
    first = send("customers", CUSTOMERS)
    send("invoices", INVOICES)
    assert "only the latest" in import_undo.undo_refusal(first)


def test_undo_is_refused_once_a_cycle_ran(send, company):
    job = send("customers", CUSTOMERS)
    Run.objects.create(date=clock.today(), company=None, source="scheduler")
    assert "dunning cycle ran" in import_undo.undo_refusal(job)


def test_undo_is_refused_once_something_was_recorded_on_its_rows(send, company, claire):
    send("customers", CUSTOMERS)
    job = send("invoices", INVOICES)
    customer = Customer.objects.get(external_id="C1")
    pauses.hold(customer, clock.today() + timedelta(days=10), actor=claire, source="web")
    assert "recorded in this company" in import_undo.undo_refusal(job)


def test_undo_is_refused_when_rows_were_added_by_another_source(send, company):
    send("customers", CUSTOMERS)
    job = send("invoices", INVOICES)
    Invoice.objects.create(
        company=company,
        customer=Customer.objects.get(external_id="C1"),
        external_id="I9",
        number="F-9",
        issue_date="2026-01-01",
        due_date="2026-01-31",
        currency="EUR",
        total=1,
    )
    assert "added to or removed" in import_undo.undo_refusal(job)


def test_undo_is_refused_when_other_rows_refer_to_what_it_created(send, company):
    job = send("customers", CUSTOMERS)
    # a row made outside the journal (a payment request of the portal) about an imported customer
    PaymentRequest.objects.create(
        company=company,
        customer=Customer.objects.get(external_id="C1"),
        reference="R1",
        provider="link",
        currency="EUR",
        amount=1,
    )
    assert "refer to the rows" in import_undo.undo_refusal(job)


def test_over_celery_a_task_runs_the_job(send, settings, company):
    """Without a broker Celery runs the task at once (CELERY_TASK_ALWAYS_EAGER): the executor the
    settings name when a broker is set queues `relance.tasks.imports.run_import`."""
    settings.RELANCE_IMPORT_EXECUTOR = "relance.tasks.dispatch.ImportOverCelery"
    job = send("customers", CUSTOMERS)
    assert job.status == Status.DONE
    assert job.created == 2


def test_undo_is_refused_once_outside_systems_were_told(send, company):
    from relance.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        company=company, url="https://erp.test/hook", events=["payment.received"], secret="s"
    )
    send("customers", CUSTOMERS)
    job = send(
        "payments", b"external_id,customer_id,date,currency,amount\nP1,C1,2026-03-01,EUR,10\n"
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="payment.received:1", event_type="payment.received", payload={}
    )
    assert "webhooks" in import_undo.undo_refusal(job)


def test_the_stored_file_is_readable_by_relance_only(send, storage):
    job = send("customers", CUSTOMERS, dry_run=True)
    assert (storage / job.stored_file).stat().st_mode & 0o777 == 0o600


def test_old_files_are_deleted_and_their_check_cannot_be_confirmed(send, storage, claire, settings):
    check = send("customers", CUSTOMERS, dry_run=True)
    ImportJob.objects.filter(pk=check.pk).update(finished_at=timezone.now() - timedelta(days=31))
    assert import_jobs.purge_files() == 1
    check.refresh_from_db()
    assert check.stored_file == ""
    assert not [p for p in storage.rglob("*") if p.is_file()]
    with pytest.raises(ImportRefused, match="no longer kept"):
        import_jobs.confirm(check, claire)
