"""Ledger files imported in the background: the staff app's uploads, one job per file.

`submit` stores the uploaded file (outside the media served to anyone, under a name relance
chooses: the sender's name is only displayed), records an `ImportJob` and hands it to an
executor, so the request that sent a 200 MB file returns at once. The executor calls `run`,
which reads the stored file through services/ledger/imports.py (all or nothing, as the CLI and
the API import) and writes the job's outcome in the same transaction as the ledger rows: a job
is `done` exactly when its rows are there.

Where the job runs is the executor's business, named by the setting RELANCE_IMPORT_EXECUTOR
(services/dunning/run.py says why a setting and not an import of the tasks): a thread of this
process in embedded mode (`InThread`), or a Celery task when a broker is set
(`relance.tasks.dispatch.ImportOverCelery`).

Progress. While the import's transaction is open no other connection may write on SQLite, so
the job's progress (bytes read) goes to a small file beside the upload, rewritten at most every
half second, and its modification time is the job's heartbeat: a thread touches it every few
seconds while the job runs. A job whose heartbeat is older than RELANCE_IMPORT_LEASE_SECONDS was
killed mid-way (its process crashed or was restarted): `expire_stale` marks it failed, which is
the truth, since its transaction never committed. One job per company at a time: a partial
unique index on the active jobs refuses a second.

Undo (`undo_refusal`, `undo`): the company's latest real import, while nothing depends on it
yet (no later import, no cycle, no message, nothing journaled in the company since, no other row
referring to what it created). Rows it created are recognised by their ids above the marks taken
when it began (every ledger table), counted when it ended: a count that moved since means
someone else created or deleted rows there, and undo is refused. Rows it changed are found by
comparing the kind's table with a copy taken before (a temporary table of the import's
connection, so memory stays flat): their former and new values are kept on the job, up to
RELANCE_IMPORT_UNDO_MAX_ROWS rows; undo puts the former values back if the rows still hold the
new ones, and refuses otherwise, or when the import changed more rows than that.

The reader's steps (the detected format, the mapping, the preview) plug in through `options`:
what they choose is stored on the job and handed to `_read`, the one place that reads the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, connections, models, transaction
from django.db.models import ForeignObjectRel, Max, Q
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from relance.domain.errors import Refusal
from relance.domain.ledger_files import KINDS
from relance.models import (
    Allocation,
    Company,
    Contact,
    CreditNote,
    Customer,
    Event,
    Execution,
    ImportJob,
    Invoice,
    Membership,
    OutboxMessage,
    Payment,
    Run,
    WebhookDelivery,
)
from relance.services import sql
from relance.services.ledger import allocation, balances, imports, mapping_store, receivables
from relance.services.ledger.import_kinds import columns_of
from relance.services.ledger.import_reading import ImportResult
from relance.services.organisation import hours, journal

logger = logging.getLogger(__name__)

Status = ImportJob.Status

#: The ledger's tables, in the order undo deletes from them (what refers to a row goes first).
LEDGER: tuple[type[models.Model], ...] = (Payment, CreditNote, Invoice, Contact, Customer)
MODELS: dict[str, type[models.Model]] = {
    "customers": Customer,
    "contacts": Contact,
    "invoices": Invoice,
    "credit-notes": CreditNote,
    "payments": Payment,
}
#: How often the progress file is rewritten, and touched while the import computes.
PROGRESS_EVERY = 0.5
#: A queued job no executor started within this long never will (its worker is down).
START_SECONDS = 600


class ImportRefused(Refusal):
    """The upload or the job cannot be accepted as it is; the message says what to do."""


class UndoRefused(Refusal):
    """The import cannot be undone (any more); the message says why."""


# --- storing the upload ---------------------------------------------------------------------


def storage() -> Path:
    return Path(settings.RELANCE_IMPORT_DIR)


def path_of(job: ImportJob) -> Path:
    return storage() / job.stored_file


def _progress_path(job_id: int) -> Path:
    return storage() / "progress" / str(job_id)


def max_bytes() -> int:
    return int(settings.RELANCE_IMPORT_MAX_BYTES)


def _megabytes(size: int) -> str:
    mb = size / 2**20
    return f"{mb:.0f}" if mb >= 10 else f"{mb:.1f}"


@dataclass(frozen=True)
class Upload:
    name: str  # as sent, cleaned for display
    stored: str  # relative to storage(): "<company pk>/<random hex>"
    sha256: str
    size: int


def display_name(name: str) -> str:
    """The sender's file name, for display only: its last part, no control characters, 255 at
    most. It never becomes a path."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:255] or _("(no name)")


def _chunks(uploaded: Any) -> Iterator[bytes]:
    if hasattr(uploaded, "chunks"):  # Django's UploadedFile
        yield from uploaded.chunks()
        return
    while block := uploaded.read(2**20):
        yield block


def store(company: Company, uploaded: Any, name: str = "") -> Upload:
    """Copy the upload under a fresh name, hashing and measuring it; refuse it empty or larger
    than RELANCE_IMPORT_MAX_BYTES (nothing is kept then)."""
    limit = max_bytes()
    relative = f"{company.pk}/{uuid.uuid4().hex}"
    target = storage() / relative
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(target.name + ".part")
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            for block in _chunks(uploaded):
                size += len(block)
                if size > limit:
                    raise ImportRefused(
                        _(
                            "The file is larger than %(mb)s MB, the most relance imports at once: "
                            "split it into several files."
                        )
                        % {"mb": _megabytes(limit)},
                        field="file",
                    )
                digest.update(block)
                out.write(block)
        if size == 0:
            raise ImportRefused(
                _("The file is empty: choose the file your software exported."), field="file"
            )
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Upload(
        display_name(name or getattr(uploaded, "name", "") or ""),
        relative,
        digest.hexdigest(),
        size,
    )


# --- the jobs -------------------------------------------------------------------------------


class Executor(Protocol):
    """Where import jobs run."""

    def start(self, job_id: int) -> None: ...


class Inline:
    """In the caller, before it goes on (tests; a command that waits anyway)."""

    def start(self, job_id: int) -> None:
        run(job_id)


class InThread:
    """A thread of this process: the embedded mode's web server answers while it runs."""

    def start(self, job_id: int) -> None:
        threading.Thread(
            target=_in_thread, args=(job_id,), name=f"relance-import-{job_id}", daemon=True
        ).start()


def _in_thread(job_id: int) -> None:
    try:
        run(job_id)
    finally:
        connections.close_all()  # this thread's own connections


def configured() -> Executor:
    found: Executor = import_string(settings.RELANCE_IMPORT_EXECUTOR)()
    return found


def active(company: Company) -> ImportJob | None:
    expire_stale(company)
    return ImportJob.objects.filter(company=company, status__in=ImportJob.ACTIVE).first()


def _busy() -> ImportRefused:
    return ImportRefused(
        _("An import of this company is already running: wait for it to finish, then try again."),
        field="file",
    )


def submit(
    company: Company,
    kind: str,
    uploaded: Any,
    actor: Any,
    *,
    dry_run: bool = True,
    options: dict[str, Any] | None = None,
    name: str = "",
    executor: Executor | None = None,
) -> ImportJob:
    """Store the file and start its job: a check (dry run) unless told otherwise."""
    if kind not in KINDS:
        raise ImportRefused(_("Choose what the file holds."), field="kind")
    if active(company) is not None:
        raise _busy()
    purge_files()
    upload = store(company, uploaded, name)
    return enqueue(
        company, kind, upload, actor, dry_run=dry_run, options=options, executor=executor
    )


def enqueue(
    company: Company,
    kind: str,
    upload: Upload,
    actor: Any,
    *,
    dry_run: bool,
    options: dict[str, Any] | None = None,
    checked_by: ImportJob | None = None,
    executor: Executor | None = None,
) -> ImportJob:
    """Record the job of a stored file and hand it to the executor once recorded."""
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                company=company,
                kind=kind,
                uploaded_by=actor if getattr(actor, "pk", None) else None,
                file_name=upload.name,
                sha256=upload.sha256,
                size=upload.size,
                stored_file=upload.stored,
                options=options or {},
                dry_run=dry_run,
                checked_by=checked_by,
            )
    except IntegrityError:  # another job of the company started meanwhile
        if checked_by is None:
            (storage() / upload.stored).unlink(missing_ok=True)
        raise _busy() from None
    chosen = executor or configured()
    transaction.on_commit(lambda: chosen.start(job.pk))
    return job


def confirm(checked: ImportJob, actor: Any, *, executor: Executor | None = None) -> ImportJob:
    """The real import of a file whose check found nothing wrong: the same stored file."""
    if not checked.dry_run or checked.status != Status.DONE or checked.error_count:
        raise ImportRefused(_("Only a file checked without problems can be imported for real."))
    if not checked.stored_file or not path_of(checked).is_file():
        raise ImportRefused(_("The checked file is no longer kept: upload it again."))
    if active(checked.company) is not None:
        raise _busy()
    upload = Upload(checked.file_name, checked.stored_file, checked.sha256, checked.size)
    return enqueue(
        checked.company,
        checked.kind,
        upload,
        actor,
        dry_run=False,
        options=checked.options,
        checked_by=checked,
        executor=executor,
    )


class _Progress:
    """The running job's bytes read, in a file beside the uploads (see the module's docstring),
    written at most every PROGRESS_EVERY seconds; a thread keeps its time fresh meanwhile."""

    def __init__(self, job_id: int) -> None:
        self.path = _progress_path(job_id)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.value = 0
        self.written_at = 0.0
        self._write()
        self._stop = threading.Event()
        beat = max(0.5, float(settings.RELANCE_IMPORT_LEASE_SECONDS) / 6)
        self._beating = threading.Thread(
            target=self._beat, args=(beat,), name=f"{self.path.name}-heartbeat", daemon=True
        )
        self._beating.start()

    def _write(self) -> None:
        partial = self.path.with_name(self.path.name + ".part")
        partial.write_text(str(self.value))
        os.replace(partial, self.path)
        self.written_at = time.monotonic()

    def report(self, bytes_read: int) -> None:
        self.value = bytes_read
        if time.monotonic() - self.written_at >= PROGRESS_EVERY:
            self._write()

    def _beat(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                os.utime(self.path)
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()
        self._beating.join(timeout=5)
        self.path.unlink(missing_ok=True)


def progress(job: ImportJob) -> int:
    """Bytes of the file read so far."""
    if job.status == Status.RUNNING:
        try:
            return min(job.size, int(_progress_path(job.pk).read_text() or 0))
        except (OSError, ValueError):
            return 0
    return job.bytes_read


def _heartbeat(job: ImportJob) -> float:
    try:
        return _progress_path(job.pk).stat().st_mtime
    except OSError:
        started = job.started_at or job.queued_at
        return started.timestamp()


def expire_stale(company: Company | None = None) -> int:
    """Mark failed the jobs whose process died: running without a heartbeat for longer than the
    lease, or queued and never started. Their imports were never committed."""
    now = timezone.now()
    lease = float(settings.RELANCE_IMPORT_LEASE_SECONDS)
    jobs = ImportJob.objects.filter(status__in=ImportJob.ACTIVE)
    if company is not None:
        jobs = jobs.filter(company=company)
    expired = 0
    for job in jobs:
        if job.status == Status.RUNNING:
            if now.timestamp() - _heartbeat(job) <= lease:
                continue
            message = _(
                "The import stopped before its end (the server was restarted or the process "
                "was stopped). Nothing of this file was imported: import it again."
            )
        elif now - job.queued_at > timedelta(seconds=START_SECONDS):
            message = _(
                "The import did not start: the background worker may be stopped. Nothing of "
                "this file was imported: try again, or ask your administrator to check it."
            )
        else:
            continue
        expired += ImportJob.objects.filter(pk=job.pk, status=job.status).update(
            status=Status.FAILED, message=message, finished_at=now
        )
        _progress_path(job.pk).unlink(missing_ok=True)
    return expired


def _read(job: ImportJob, stream: IO[bytes], report: Any) -> ImportResult:
    """The one place a job's file is read. The reader's steps (format, mapping, sheet: the
    job's `options`) are handed to the import here."""
    name = job.options.get("mapping")
    return imports.import_stream(
        job.kind,
        stream,
        job.company,
        dry_run=job.dry_run,
        actor=job.uploaded_by,
        source="web",
        filename=job.file_name,
        progress=report,
        mapping=mapping_store.named(job.company, name) if name else None,
        sheet=job.options.get("sheet") or None,
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(2**20):
            digest.update(block)
    return digest.hexdigest()


def _marks() -> dict[str, int]:
    """The highest id of each ledger table (ids are shared by every company)."""
    return {
        model._meta.label_lower: model._base_manager.aggregate(m=Max("pk"))["m"] or 0
        for model in LEDGER
    }


def _created_since(company: Company, marks: dict[str, int]) -> dict[str, int]:
    return {
        model._meta.label_lower: model._base_manager.filter(
            company=company, pk__gt=marks[model._meta.label_lower]
        ).count()
        for model in LEDGER
    }


def run(job_id: int) -> ImportJob | None:
    """Run a queued job to its end (what an executor calls); None when it was not queued any
    more (another worker took it, or it expired)."""
    now = timezone.now()
    if not ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now
    ):
        return None
    job = ImportJob.objects.select_related("company", "uploaded_by").get(pk=job_id)
    meter = _Progress(job.pk)
    # no request here: the file's problems are written in the uploader's language (at submit)
    language = job.options.get("language") or settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            _run(job, meter)
        except imports.ImportRejected as exc:
            _fail(job, str(exc))
        except Exception:
            logger.exception("import job %s failed", job.pk)
            _fail(
                job,
                _(
                    "The import stopped on an unexpected error; nothing of this file was "
                    "imported. Your administrator will find the details in relance's log."
                ),
            )
        finally:
            meter.stop()
    job.refresh_from_db()
    return job


def _run(job: ImportJob, meter: _Progress) -> None:
    path = path_of(job)
    if not job.stored_file or not path.is_file():
        _fail(job, _("The file is no longer kept: upload it again."))
        return
    if _sha256(path) != job.sha256:
        _fail(job, _("The stored file changed since it was sent: upload it again."))
        return
    with transaction.atomic():
        marks = _marks()
        event_mark = Event.objects.aggregate(m=Max("pk"))["m"] or 0
        before = None if job.dry_run else _Before(job)
        try:
            with path.open("rb") as stream:
                result = _read(job, stream, meter.report)
            changed = before.changed(result.updated) if before and result.updated else []
        finally:
            if before:
                before.drop()
        fields: dict[str, Any] = {
            "status": Status.DONE if result.ok else Status.FAILED,
            "finished_at": timezone.now(),
            "bytes_read": job.size,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "error_count": result.error_count,
            "errors": [e.as_json() for e in result.errors],
            "invited_users": result.invited_users,
        }
        if not result.ok:
            fields["message"] = _("Nothing was imported: correct the file and send it again.")
        elif not job.dry_run:
            own = (
                Event.objects.filter(
                    company=job.company, kind=f"import.{job.kind}", pk__gt=event_mark
                )
                .order_by("-pk")
                .values_list("pk", flat=True)
                .first()
            )
            fields["undo"] = {
                "marks": marks,
                "created": _created_since(job.company, marks),
                "event_mark": event_mark,
                "event": own,
                "updated": changed,
            }
        if not ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(**fields):
            transaction.set_rollback(True)  # declared dead meanwhile: its rows go with it


#: Columns of the files whose model attribute has another name.
_ATTRIBUTES = {"plan": "plan_id", "owner_email": "owner_id", "sales_rep_email": "sales_rep_id"}
_BEFORE = "relance_import_before"


def written_fields(kind: str) -> list[models.Field[Any, Any]]:
    """The fields of the kind's model that its files write (the external id is the key)."""
    model = MODELS[kind]
    columns, _required = columns_of(kind)
    names = {_ATTRIBUTES.get(c, c) for c in columns} - {"external_id"}
    return [f for f in model._meta.concrete_fields if f.attname in names]


def plain(field: models.Field[Any, Any], value: Any) -> Any:
    """A value as JSON keeps it, the same whether raw SQL or the ORM read it."""
    if value is None:
        return None
    if isinstance(field, models.DecimalField):
        amount = sql.sqlite_amount(value) if isinstance(value, float) else Decimal(value)
        return str(amount.quantize(Decimal(1).scaleb(-(field.decimal_places or 0))))
    if isinstance(field, models.DateField):
        return sql.day_of(value).isoformat()
    if isinstance(field, models.BooleanField):
        return bool(value)
    if isinstance(field, models.JSONField) and isinstance(value, str):
        return json.loads(value)
    return value


class _Before:
    """The kind's rows of the company as they were before the import, in a temporary table of
    the import's connection, to find the rows it changed and keep their former values."""

    def __init__(self, job: ImportJob) -> None:
        self.model = MODELS[job.kind]
        self.fields = written_fields(job.kind)
        quote = connection.ops.quote_name
        self.columns = [quote(f.column) for f in self.fields]
        self.table = quote(self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_BEFORE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_BEFORE} AS SELECT id, {', '.join(self.columns)} "
                f"FROM {self.table} WHERE company_id = %s",
                [job.company_id],
            )

    def changed(self, expected: int) -> list[Any] | None:
        """[pk, former values, new values] of each row the import changed; None when more than
        RELANCE_IMPORT_UNDO_MAX_ROWS, or when other rows changed meanwhile."""
        if expected > int(settings.RELANCE_IMPORT_UNDO_MAX_ROWS):
            return None
        same = " AND ".join(f"b.{c} IS NOT DISTINCT FROM t.{c}" for c in self.columns)
        olds = ", ".join(f"b.{c}" for c in self.columns)
        news = ", ".join(f"t.{c}" for c in self.columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT b.id, {olds}, {news} FROM {_BEFORE} b JOIN {self.table} t "
                f"ON t.id = b.id WHERE NOT ({same}) ORDER BY b.id LIMIT %s",
                [expected + 1],
            )
            rows = cursor.fetchall()
        if len(rows) != expected:
            return None
        width = len(self.fields)
        return [
            [
                row[0],
                {
                    f.attname: plain(f, v)
                    for f, v in zip(self.fields, row[1 : 1 + width], strict=True)
                },
                {
                    f.attname: plain(f, v)
                    for f, v in zip(self.fields, row[1 + width :], strict=True)
                },
            ]
            for row in rows
        ]

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_BEFORE}")


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
        status=Status.FAILED, message=message, finished_at=timezone.now()
    )


def purge_files() -> int:
    """Delete the stored files of jobs finished more than RELANCE_IMPORT_KEEP_DAYS ago (the
    history keeps their name, hash and counts)."""
    before = timezone.now() - timedelta(days=int(settings.RELANCE_IMPORT_KEEP_DAYS))
    old = ImportJob.objects.filter(finished_at__lt=before).exclude(stored_file="")
    purged = 0
    for job in old:
        still_used = (
            ImportJob.objects.filter(stored_file=job.stored_file)
            .filter(Q(status__in=ImportJob.ACTIVE) | Q(finished_at__gte=before))
            .exists()
        )
        if not still_used:
            path_of(job).unlink(missing_ok=True)
        purged += ImportJob.objects.filter(pk=job.pk).update(stored_file="")
    return purged


# --- undo -----------------------------------------------------------------------------------


def _created(job: ImportJob, model: type[models.Model]) -> Any:
    mark = job.undo["marks"][model._meta.label_lower]
    return model._base_manager.filter(company=job.company, pk__gt=mark)


def undo_refusal(job: ImportJob) -> str:
    """Why this job cannot be undone now, for the user; "" when it can."""
    if job.dry_run:
        return _("A check changes nothing: there is nothing to undo.")
    if job.status == Status.UNDONE:
        return _("This import was already undone.")
    if job.status != Status.DONE:
        return _("Only an import that finished can be undone.")
    if job.updated and not job.undo.get("updated"):
        return _(
            "This import changed %(count)s existing rows, more than relance keeps the former "
            "values of (%(most)s), or while others changed them: it cannot be undone."
        ) % {"count": job.updated, "most": settings.RELANCE_IMPORT_UNDO_MAX_ROWS}
    later = (
        ImportJob.objects.filter(company=job.company, dry_run=False, pk__gt=job.pk)
        .exclude(status=Status.FAILED)
        .first()
    )
    if later is not None:
        return _(
            "A later import (%(file)s) came after this one: only the latest can be undone."
        ) % {"file": later.file_name}
    if not job.undo.get("marks"):
        return _("relance did not record what this import created.")
    if (
        Run.objects.filter(
            Q(company=job.company) | Q(company__isnull=True),
            started_at__gte=job.started_at,
            dry_run=False,
        ).exists()
        or Execution.objects.filter(company=job.company, created_at__gte=job.started_at).exists()
    ):
        return _("A dunning cycle ran since this import: reminders may already rely on its rows.")
    if OutboxMessage.objects.filter(company=job.company, created_at__gte=job.started_at).exists():
        return _("Messages were prepared since this import: they may rely on its rows.")
    if WebhookDelivery.objects.filter(
        endpoint__company=job.company, created_at__gte=job.started_at
    ).exists():
        return _(
            "Your other systems were told of changes since this import began (webhooks): "
            "undoing it here would not undo it there."
        )
    since = (
        Event.objects.filter(company=job.company, pk__gt=job.undo.get("event_mark", 0))
        .exclude(pk=job.undo.get("event"))
        .order_by("pk")
        .first()
    )
    if since is not None:
        return _(
            "Something was recorded in this company since the import (%(what)s): undoing it "
            "now could lose it."
        ) % {"what": since.kind}
    if _created_since(job.company, job.undo["marks"]) != job.undo.get("created"):
        return _(
            "Rows were added to or removed from the ledger since this import (by another "
            "import, the API or a payment): undoing it could delete them."
        )
    if not _still_as_imported(job):
        return _("Rows this import changed were changed again since: undoing it would lose that.")
    for model in LEDGER:
        if (blocker := _depends_on(job, model)) is not None:
            return _("Other records now refer to the rows this import created (%(what)s).") % {
                "what": blocker
            }
    return ""


def _depends_on(job: ImportJob, model: type[models.Model]) -> str | None:
    """The first kind of row, other than the import's own and the allocations relance derives
    from the ledger, that refers to a row this import created."""
    created = _created(job, model)
    if not created.exists():
        return None
    relations = [
        f
        for f in model._meta.get_fields(include_hidden=True)  # related_name="+" included
        if isinstance(f, ForeignObjectRel) and (f.one_to_many or f.one_to_one)
    ]
    for relation in relations:
        related: Any = relation.related_model
        if related is Allocation or related is ImportJob:
            continue
        referring = related._base_manager.filter(**{f"{relation.field.name}__in": created})
        if related in LEDGER:
            referring = referring.exclude(
                company=job.company, pk__gt=job.undo["marks"][related._meta.label_lower]
            )
        if referring.exists():
            return str(related._meta.verbose_name_plural)
    return None


def _still_as_imported(job: ImportJob) -> bool:
    rows = job.undo.get("updated") or []
    if not rows:
        return True
    model, fields = MODELS[job.kind], written_fields(job.kind)
    now = {
        pk: {f.attname: plain(f, v) for f, v in zip(fields, values, strict=True)}
        for pk, *values in model._base_manager.filter(pk__in=[r[0] for r in rows]).values_list(
            "pk", *[f.attname for f in fields]
        )
    }
    return all(now.get(pk) == after for pk, _before, after in rows)


def _restore(job: ImportJob) -> set[int]:
    """Put back the former values of the rows the import changed; the customers whose ledger
    that changes."""
    rows = job.undo.get("updated") or []
    if not rows:
        return set()
    model, fields = MODELS[job.kind], written_fields(job.kind)
    by_name = {f.attname: f for f in fields}
    touched: set[int] = set()
    restored = []
    for pk, before, after in rows:
        values = {name: by_name[name].to_python(value) for name, value in before.items()}
        restored.append(model(pk=pk, **values))
        if model is not Customer and model is not Contact:
            touched.update({before.get("customer_id"), after.get("customer_id")} - {None})
    model._base_manager.bulk_update(restored, [f.attname for f in fields], batch_size=500)
    return touched


def _delete_created(job: ImportJob) -> int:
    """Delete the rows the import created, with the allocations relance derived from them: one
    statement per table, whatever their number. `undo_refusal` made sure nothing else refers to
    them; the database's foreign keys still check it."""
    deleted = 0
    quote = connection.ops.quote_name
    allocations = quote(Allocation._meta.db_table)
    with connection.cursor() as cursor:
        for model in LEDGER:
            table = quote(model._meta.db_table)
            mark = job.undo["marks"][model._meta.label_lower]
            created = f"SELECT id FROM {table} WHERE company_id = %s AND id > %s"
            column = {Payment: "payment_id", CreditNote: "credit_note_id", Invoice: "invoice_id"}
            if model in column:
                cursor.execute(
                    f"DELETE FROM {allocations} WHERE {quote(column[model])} IN ({created})",
                    [job.company_id, mark],
                )
            cursor.execute(
                f"DELETE FROM {table} WHERE company_id = %s AND id > %s", [job.company_id, mark]
            )
            deleted += cursor.rowcount
    return deleted


def undo(job: ImportJob, actor: Any, *, source: str = "web") -> int:
    """Delete what the import created and put the ledger back as it was; the number of rows
    deleted. Journaled as `import.undone`."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("company").get(pk=job.pk)
        if reason := undo_refusal(job):
            raise UndoRefused(reason)
        company = job.company
        deleted_customers = set(_created(job, Customer).values_list("pk", flat=True))
        touched: set[int] = set()
        for model in (Payment, CreditNote, Invoice):
            touched.update(_created(job, model).values_list("customer_id", flat=True).distinct())
        try:
            deleted = _delete_created(job)
        except IntegrityError:  # a row referring to them arrived since the checks
            raise UndoRefused(
                _("Something changed in the ledger meanwhile: look at the import again.")
            ) from None
        touched |= _restore(job)
        touched -= deleted_customers
        settled = allocation.customers_with_settlements(touched)
        balances.refresh(touched - settled)  # reallocate refreshes the others
        allocation.reallocate(settled)
        _forget_invited(company, job.invited_users)
        receivables.forget(company, [hours.company_today(company)])
        journal.record(
            "import.undone",
            company,
            actor=actor,
            source=source,
            data={
                "file": job.file_name,
                "kind": job.kind,
                "job": job.pk,
                "deleted": deleted,
                "restored": len(job.undo.get("updated") or []),
            },
        )
        job.status = Status.UNDONE
        job.undone_at = timezone.now()
        job.undone_by = actor if getattr(actor, "pk", None) else None
        job.save(update_fields=["status", "undone_at", "undone_by"])
    return deleted


def _forget_invited(company: Company, emails: list[str]) -> None:
    """The people the import added to be invited, while they have not joined: out of the
    company, and out of relance when they belong nowhere else."""
    for email in emails:
        user = (
            get_user_model()
            .objects.filter(email__iexact=email, is_active=False, last_login__isnull=True)
            .first()
        )
        if user is None:
            continue
        Membership.objects.filter(company=company, user=user).delete()
        if not Membership.objects.filter(user=user).exists():
            user.delete()
