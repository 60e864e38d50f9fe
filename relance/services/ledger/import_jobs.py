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

Undo, and the copy of the rows an import changes that it needs, are in import_undo.py.

The reader's steps (the detected format, the mapping, the preview) plug in through `options`:
what they choose is stored on the job and handed to `_read`, the one place that reads the file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from relance.domain.errors import Refusal, RelanceError
from relance.domain.ledger_files import KINDS
from relance.domain.mappings import Mapping, from_dict
from relance.models import (
    Company,
    Event,
    ImportJob,
)
from relance.services import background
from relance.services.ledger import import_undo, imports, mapping_store
from relance.services.ledger.import_reading import ImportResult
from relance.services.ledger.import_watch import ImportWatch

logger = logging.getLogger(__name__)

Status = ImportJob.Status

#: How often the progress file is rewritten, and touched while the import computes.
PROGRESS_EVERY = 0.5
#: A queued job no executor started within this long never will (its worker is down).
START_SECONDS = 600


class ImportRefused(Refusal):
    """The upload or the job cannot be accepted as it is; the message says what to do."""


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
        background.on_thread(f"relance-import-{job_id}", run, job_id)


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
    draft: bool = False,
) -> ImportJob:
    """Store the file and start its job: a check (dry run) unless told otherwise. A `draft`
    waits for `start`, while the person chooses which of its columns feed which field."""
    if kind not in KINDS:
        raise ImportRefused(_("Choose what the file holds."), field="kind")
    if active(company) is not None:
        raise _busy()
    purge_files()
    upload = store(company, uploaded, name)
    return enqueue(
        company,
        kind,
        upload,
        actor,
        dry_run=dry_run,
        options=options,
        executor=executor,
        draft=draft,
    )


def start(
    draft: ImportJob, options: dict[str, Any], *, executor: Executor | None = None
) -> ImportJob:
    """Queue a draft with the reading options chosen for it (compare-and-set: a draft sent
    twice, from two tabs, starts once)."""
    if draft.status != Status.DRAFT:
        raise ImportRefused(_("This file was already sent; upload it again to start over."))
    if not draft.stored_file or not path_of(draft).is_file():
        raise ImportRefused(_("The file is no longer kept: upload it again."))
    if active(draft.company) is not None:
        raise _busy()
    try:
        with transaction.atomic():
            started = ImportJob.objects.filter(pk=draft.pk, status=Status.DRAFT).update(
                status=Status.QUEUED, options=options, queued_at=timezone.now()
            )
    except IntegrityError:  # another job of the company started meanwhile
        raise _busy() from None
    if not started:
        raise ImportRefused(_("This file was already sent; upload it again to start over."))
    chosen = executor or configured()
    transaction.on_commit(lambda: chosen.start(draft.pk))
    draft.refresh_from_db()
    return draft


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
    draft: bool = False,
) -> ImportJob:
    """Record the job of a stored file and hand it to the executor once recorded (a draft
    waits for `start`)."""
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
                status=Status.DRAFT if draft else Status.QUEUED,
            )
    except IntegrityError:  # another job of the company started meanwhile
        if checked_by is None:
            (storage() / upload.stored).unlink(missing_ok=True)
        raise _busy() from None
    if not draft:
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


def _read(
    job: ImportJob, stream: IO[bytes], report: Any, watch: ImportWatch | None = None
) -> ImportResult:
    """The one place a job's file is read. The reader's steps (format, mapping, sheet: the
    job's `options`) are handed to the import here, and the watch of the plans it changes."""
    name, spec = job.options.get("mapping"), job.options.get("mapping_spec")
    if spec:
        mapping: Mapping | None = from_dict(spec)
    else:
        mapping = mapping_store.named(job.company, name) if name else None
    return imports.import_stream(
        job.kind,
        stream,
        job.company,
        dry_run=job.dry_run,
        actor=job.uploaded_by,
        source="web",
        filename=job.file_name,
        progress=report,
        mapping=mapping,
        sheet=job.options.get("sheet") or None,
        watch=watch,
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(2**20):
            digest.update(block)
    return digest.hexdigest()


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
        except RelanceError as exc:  # said for the user: a mapping since deleted, a bad file
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
        marks = import_undo.marks()
        event_mark = Event.objects.aggregate(m=Max("pk"))["m"] or 0
        before = None if job.dry_run else import_undo.Before(job)
        # The customers whose dunning plan the import changes: dunning's business, named by a
        # setting (the ledger may not import dunning; services/ledger/import_watch.py).
        plans = import_string(settings.RELANCE_IMPORT_PLAN_CHANGES)(job.company, job.kind)
        try:
            with path.open("rb") as stream:
                result = _read(job, stream, meter.report, plans)
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
            "plan_changes": plans.changes if result.ok else [],
            "plan_change_count": plans.count if result.ok else 0,
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
                "created": import_undo.created_since(job.company, marks),
                "event_mark": event_mark,
                "event": own,
                "updated": changed,
            }
        if not ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(**fields):
            transaction.set_rollback(True)  # declared dead meanwhile: its rows go with it


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
        status=Status.FAILED, message=message, finished_at=timezone.now()
    )


def purge_files() -> int:
    """Delete the stored files of jobs finished more than RELANCE_IMPORT_KEEP_DAYS ago (the
    history keeps their name, hash and counts)."""
    before = timezone.now() - timedelta(days=int(settings.RELANCE_IMPORT_KEEP_DAYS))
    for draft in ImportJob.objects.filter(status=Status.DRAFT, queued_at__lt=before):
        if draft.stored_file:  # a draft's file is its own (only a check's is shared)
            path_of(draft).unlink(missing_ok=True)
        draft.delete()
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
