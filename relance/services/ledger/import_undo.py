"""Undoing an import, and what it needs recorded while the import runs.

Undo (`undo_refusal`, `undo`): the company's latest real import, while nothing depends on it
yet (no later import, no cycle, no message, nothing journaled in the company since, no other row
referring to what it created). Rows it created are recognised by their ids above the marks taken
when it began (every ledger table), counted when it ended: a count that moved since means
someone else created or deleted rows there, and undo is refused. Rows it changed are found by
comparing the kind's table with a copy taken before (a temporary table of the import's
connection, so memory stays flat): their former and new values are kept on the job, up to
RELANCE_IMPORT_UNDO_MAX_ROWS rows; undo puts the former values back if the rows still hold the
new ones, and refuses otherwise, or when the import changed more rows than that.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, models, transaction
from django.db.models import ForeignObjectRel, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from relance.domain.errors import Refusal
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
from relance.services.ledger import allocation, balances, receivables
from relance.services.ledger.import_kinds import columns_of
from relance.services.organisation import hours, journal

Status = ImportJob.Status


class UndoRefused(Refusal):
    """The import cannot be undone (any more); the message says why."""


#: The ledger's tables, in the order undo deletes from them (what refers to a row goes first).
LEDGER: tuple[type[models.Model], ...] = (Payment, CreditNote, Invoice, Contact, Customer)
MODELS: dict[str, type[models.Model]] = {
    "customers": Customer,
    "contacts": Contact,
    "invoices": Invoice,
    "credit-notes": CreditNote,
    "payments": Payment,
}


def marks() -> dict[str, int]:
    """The highest id of each ledger table (ids are shared by every company)."""
    return {
        model._meta.label_lower: model._base_manager.aggregate(m=Max("pk"))["m"] or 0
        for model in LEDGER
    }


def created_since(company: Company, marks: dict[str, int]) -> dict[str, int]:
    return {
        model._meta.label_lower: model._base_manager.filter(
            company=company, pk__gt=marks[model._meta.label_lower]
        ).count()
        for model in LEDGER
    }


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


class Before:
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
        .exclude(status__in=(Status.FAILED, Status.DRAFT))
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
    if created_since(job.company, job.undo["marks"]) != job.undo.get("created"):
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
