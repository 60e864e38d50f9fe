"""Import of the receivables ledger from CSV files (DESIGN §4), for the CLI, API and web upload.

A file is all or nothing: rows are validated and written in chunks inside one transaction; the
first bad row stops the writing, the rest is still validated so every problem is reported at once,
and the transaction is rolled back. Rows are upserted by external id, so importing the same file
twice changes nothing. Memory stays bounded by the chunk size plus one id per row (to catch
duplicates in the file).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, ClassVar

import phonenumbers
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction

from relance.domain.money import (
    InvalidAmount,
    InvalidCurrency,
    format_amount,
    normalize_currency,
    parse_amount,
)
from relance.models import (
    Company,
    Contact,
    CreditNote,
    Customer,
    Event,
    Invoice,
    Membership,
    Payment,
    Plan,
)
from relance.models.validators import is_time_zone
from relance.services import allocation

KINDS = ("customers", "contacts", "invoices", "credit-notes", "payments")
CHUNK = 2000
MAX_REPORTED_ERRORS = 1000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_FRENCH_SPEAKING = {"FR", "BE", "LU", "MC"}


class ImportRejected(Exception):
    """Raised for a problem with the request itself (unknown kind or company, unreadable file)."""


class FieldError(ValueError):
    """One bad value; the importer adds the row number and column name."""


@dataclass(frozen=True)
class RowError:
    row: int | None
    field: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportResult:
    kind: str
    company: str
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    invited_users: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, row: int | None, column: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, column, message))

    def as_json(self) -> dict[str, Any]:
        errors = [e.as_json() for e in self.errors]
        if self.error_count > len(self.errors):
            more = self.error_count - len(self.errors)
            errors.append({"row": None, "field": None, "message": f"… and {more} more errors"})
        return {
            "kind": self.kind,
            "company": self.company,
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": errors,
            "invited_users": self.invited_users,
        }


# --- value parsers: each returns the stored value or raises FieldError -------------------------


def _text(value: str, max_length: int) -> str:
    if len(value) > max_length:
        raise FieldError(f"is {len(value)} characters long; at most {max_length} fit")
    return value


def _date(value: str) -> date:
    if not _DATE.match(value):
        raise FieldError(f"'{value}' is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(f"'{value}' is not a valid calendar date") from None


def _month(value: str) -> date:
    m = _MONTH.match(value)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise FieldError(f"'{value}' is not a month in the form YYYY-MM")
    return date(int(m.group(1)), int(m.group(2)), 1)


def _currency(value: str) -> str:
    try:
        return normalize_currency(value)
    except InvalidCurrency as exc:
        raise FieldError(str(exc)) from None


def _amount(value: str, currency: str | None, *, positive: bool) -> Decimal:
    try:
        amount = parse_amount(value, currency or "XXX")
    except InvalidAmount as exc:
        raise FieldError(str(exc)) from None
    if positive and amount <= 0:
        raise FieldError(f"must be greater than zero, got {value}")
    if amount < 0:
        raise FieldError(f"must not be negative, got {value}")
    return amount


def _email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise FieldError(f"'{value}' is not an email address") from None
    return value.lower()


def _choice(value: str, choices: Iterable[str]) -> str:
    lowered = value.lower()
    options = tuple(choices)
    if lowered not in options:
        raise FieldError(f"'{value}' is not one of {', '.join(options)}")
    return lowered


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in {"true", "yes", "1"}:
        return True
    if lowered in {"false", "no", "0"}:
        return False
    raise FieldError(f"'{value}' is not true or false")


def _phone(value: str, country: str) -> str:
    try:
        number = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException:
        raise FieldError(f"'{value}' is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise FieldError(f"'{value}' is not a valid phone number for {country or 'its country'}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- reading ------------------------------------------------------------------------------------


@dataclass
class _Record:
    row: int
    values: dict[str, str]


class _Reader:
    """Streams CSV records with their starting line number, decoding UTF-8 line by line so an
    encoding problem is reported on the right row."""

    def __init__(self, stream: IO[bytes], result: ImportResult) -> None:
        self.stream = stream
        self.result = result
        self.bytes_read = 0
        self._line = 0

    def _lines(self) -> Iterator[str]:
        for raw in self.stream:
            self._line += 1
            self.bytes_read += len(raw)
            if self._line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 1].hex()
                raise FieldError(
                    f"line {self._line} is not valid UTF-8 (byte 0x{bad} at position "
                    f"{exc.start + 1}); save the file as UTF-8"
                ) from None

    def records(self, columns: tuple[str, ...], required: frozenset[str]) -> Iterator[_Record]:
        reader = csv.reader(self._lines(), strict=True)
        try:
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                self.result.add_error(1, None, "the file is empty: a header row is required")
                return
            names = [h.strip().lower() for h in header]
            if not self._header_ok(names, columns, required):
                return
            last = reader.line_num
            for values in reader:
                start, last = last + 1, reader.line_num
                if not values or (len(values) == 1 and not values[0].strip()):
                    continue
                if len(values) != len(names):
                    self.result.add_error(
                        start,
                        None,
                        f"has {len(values)} values but the header has {len(names)} columns",
                    )
                    continue
                yield _Record(start, {n: v.strip() for n, v in zip(names, values, strict=True)})
        except FieldError as exc:
            self.result.add_error(self._line, None, str(exc))
        except csv.Error as exc:
            self.result.add_error(self._line, None, f"is not valid CSV: {exc}")

    def _header_ok(
        self, names: list[str], columns: tuple[str, ...], required: frozenset[str]
    ) -> bool:
        ok = True
        seen: set[str] = set()
        for name in names:
            if name not in columns:
                self.result.add_error(
                    1, name, f"unknown column '{name}'; the columns are: {', '.join(columns)}"
                )
                ok = False
            elif name in seen:
                self.result.add_error(1, name, f"column '{name}' appears twice")
                ok = False
            seen.add(name)
        for name in columns:
            if name in required and name not in seen:
                self.result.add_error(1, name, f"required column '{name}' is missing")
                ok = False
        return ok


# --- the kinds ----------------------------------------------------------------------------------


@dataclass
class _Context:
    """Lookups shared by every row of one import, loaded once or per chunk."""

    company: Company
    result: ImportResult
    customers: dict[str, tuple[int, str]] = field(default_factory=dict)  # ext -> (pk, country)
    invoices: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # ext -> pk, cust, cur
    users: dict[str, int] = field(default_factory=dict)
    plans: dict[str, int] = field(default_factory=dict)

    def load_customers(self) -> None:
        rows = Customer.objects.filter(company=self.company).values_list(
            "external_id", "pk", "country"
        )
        self.customers = {ext: (pk, country) for ext, pk, country in rows}

    def customer(self, external_id: str) -> tuple[int, str]:
        try:
            return self.customers[external_id]
        except KeyError:
            raise FieldError(
                f"unknown customer '{external_id}' in company {self.company.code}; "
                "import the customers first"
            ) from None

    def user(self, email: str, role: str) -> int:
        """The staff user with this address; an unknown one is created inactive, to be invited."""
        if email in self.users:
            return self.users[email]
        user_model = get_user_model()
        found: AbstractBaseUser | None = user_model.objects.filter(email__iexact=email).first()
        if found is None:
            found = user_model.objects.create_user(username=email, email=email, is_active=False)
            self.result.invited_users.append(email)
        assert found is not None
        Membership.objects.get_or_create(
            company=self.company, user_id=found.pk, defaults={"role": role}
        )
        self.users[email] = found.pk
        return found.pk

    def plan(self, code: str) -> int:
        if not self.plans:
            self.plans = {
                c: pk
                for c, pk, company_id in Plan.objects.values_list("code", "pk", "company_id")
                if company_id in (None, self.company.pk)
            }
        try:
            return self.plans[code]
        except KeyError:
            known = ", ".join(sorted(self.plans)) or "none loaded yet"
            raise FieldError(
                f"unknown plan '{code}' (plans: {known}); load it with `relance plan load`"
            ) from None


class _Kind:
    """How one CSV kind maps onto a model. `parse` turns one record into model field values."""

    name: ClassVar[str]
    model: ClassVar[type[models.Model]]
    columns: ClassVar[tuple[str, ...]]
    required: ClassVar[frozenset[str]]
    reallocates: ClassVar[bool] = False

    def prepare(self, ctx: _Context, chunk: list[_Record]) -> None:
        """Load what this chunk refers to; called before its rows are parsed."""

    def parse(self, ctx: _Context, rec: _Record) -> dict[str, Any]:
        raise NotImplementedError

    def defaults(self, ctx: _Context, fields: dict[str, Any]) -> dict[str, Any]:
        """Values for columns absent from the file, used only when a row is created."""
        return {}


def _parse_fields(
    rec: _Record, parsers: dict[str, Callable[[str], Any]], result: ImportResult
) -> dict[str, Any] | None:
    """Apply each column's parser; report every bad value of the row, not only the first."""
    out: dict[str, Any] = {}
    ok = True
    for column, parse in parsers.items():
        if column not in rec.values:
            continue
        try:
            out[column] = parse(rec.values[column])
        except FieldError as exc:
            result.add_error(rec.row, column, str(exc))
            ok = False
    return out if ok else None


def _required(value: str) -> str:
    if not value:
        raise FieldError("is required")
    return value


def _optional(parse: Callable[[str], Any], empty: Any = None) -> Callable[[str], Any]:
    return lambda value: parse(value) if value else empty


class _Customers(_Kind):
    name = "customers"
    model = Customer
    columns = (
        "external_id",
        "name",
        "currency",
        "language",
        "time_zone",
        "country",
        "segment",
        "risk",
        "credit_limit",
        "pays_by_bank_transfer",
        "card_expiry",
        "owner_email",
        "sales_rep_email",
        "plan",
    )
    required = frozenset({"external_id", "name"})

    def parse(self, ctx: _Context, rec: _Record) -> dict[str, Any] | None:  # type: ignore[override]
        def country(value: str) -> str:
            code = value.upper()
            if len(code) != 2 or not code.isalpha():
                raise FieldError(f"'{value}' is not a two-letter ISO country code such as FR")
            return code

        def time_zone(value: str) -> str:
            if not is_time_zone(value):
                raise FieldError(f"'{value}' is not an IANA time zone such as Europe/Paris")
            return value

        values = _parse_fields(
            rec,
            {
                "external_id": lambda v: _text(_required(v), 100),
                "name": lambda v: _text(_required(v), 200),
                "currency": _optional(_currency, ctx.company.currency),
                "language": _optional(lambda v: _choice(v, ("fr", "en")), ""),
                "time_zone": _optional(time_zone, ctx.company.time_zone),
                "country": _optional(country, ctx.company.country),
                "segment": lambda v: _text(v, 50),
                "risk": _optional(lambda v: _choice(v, Customer.Risk.values), ""),
                "card_expiry": _optional(_month),
                "pays_by_bank_transfer": _optional(_boolean, True),
                "owner_email": _optional(_email),
                "sales_rep_email": _optional(_email),
                "plan": lambda v: v,
            },
            ctx.result,
        )
        if values is None:
            return None
        fields: dict[str, Any] = {
            k: values[k]
            for k in (
                "external_id",
                "name",
                "currency",
                "time_zone",
                "country",
                "segment",
                "risk",
                "card_expiry",
                "pays_by_bank_transfer",
            )
            if k in values
        }
        if "language" in values:
            fields["language"] = values["language"] or self._language(
                values.get("country") or ctx.company.country
            )
        try:
            if "credit_limit" in rec.values:
                currency = values.get("currency") or ctx.company.currency
                fields["credit_limit"] = _optional(lambda v: _amount(v, currency, positive=False))(
                    rec.values["credit_limit"]
                )
        except FieldError as exc:
            ctx.result.add_error(rec.row, "credit_limit", str(exc))
            return None
        try:
            if "plan" in values:
                fields["plan_id"] = ctx.plan(values["plan"]) if values["plan"] else None
        except FieldError as exc:
            ctx.result.add_error(rec.row, "plan", str(exc))
            return None
        if "owner_email" in values:
            email = values["owner_email"]
            fields["owner_id"] = (
                ctx.user(email, Membership.Role.CREDIT_CONTROLLER) if email else None
            )
        if "sales_rep_email" in values:
            email = values["sales_rep_email"]
            fields["sales_rep_id"] = ctx.user(email, Membership.Role.SALES_REP) if email else None
        return fields

    @staticmethod
    def _language(country: str) -> str:
        return "fr" if country in _FRENCH_SPEAKING else "en"

    def defaults(self, ctx: _Context, fields: dict[str, Any]) -> dict[str, Any]:
        country = fields.get("country", ctx.company.country)
        return {
            "currency": ctx.company.currency,
            "time_zone": ctx.company.time_zone,
            "country": ctx.company.country,
            "language": self._language(country),
        }


class _Contacts(_Kind):
    name = "contacts"
    model = Contact
    columns = ("external_id", "customer_id", "name", "email", "phone", "roles")
    required = frozenset({"external_id", "customer_id"})

    def prepare(self, ctx: _Context, chunk: list[_Record]) -> None:
        if not ctx.customers:
            ctx.load_customers()

    def parse(self, ctx: _Context, rec: _Record) -> dict[str, Any] | None:  # type: ignore[override]
        def roles(value: str) -> list[str]:
            found = [r.strip().lower() for r in value.split("|") if r.strip()]
            for role in found:
                if role not in Contact.ROLES:
                    raise FieldError(f"unknown role '{role}'; roles: {', '.join(Contact.ROLES)}")
            return sorted(set(found), key=Contact.ROLES.index)

        values = _parse_fields(
            rec,
            {
                "external_id": lambda v: _text(_required(v), 100),
                "customer_id": lambda v: ctx.customer(_required(v)),
                "name": lambda v: _text(v, 200),
                "email": _optional(_email, ""),
                "roles": roles,
            },
            ctx.result,
        )
        if values is None:
            return None
        fields = {k: values[k] for k in ("external_id", "name", "email", "roles") if k in values}
        customer_pk, country = values["customer_id"]
        fields["customer_id"] = customer_pk
        if "phone" in rec.values:
            try:
                fields["phone"] = _optional(lambda v: _phone(v, country), "")(rec.values["phone"])
            except FieldError as exc:
                ctx.result.add_error(rec.row, "phone", str(exc))
                return None
        return fields


class _Invoices(_Kind):
    name = "invoices"
    model = Invoice
    columns = (
        "external_id",
        "customer_id",
        "number",
        "issue_date",
        "due_date",
        "currency",
        "total",
        "sales_rep_email",
        "status",
    )
    required = frozenset(
        {"external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"}
    )
    reallocates = True

    def prepare(self, ctx: _Context, chunk: list[_Record]) -> None:
        if not ctx.customers:
            ctx.load_customers()

    def parse(self, ctx: _Context, rec: _Record) -> dict[str, Any] | None:  # type: ignore[override]
        values = _parse_fields(
            rec,
            {
                "external_id": lambda v: _text(_required(v), 100),
                "customer_id": lambda v: ctx.customer(_required(v))[0],
                "number": lambda v: _text(_required(v), 100),
                "issue_date": lambda v: _date(_required(v)),
                "due_date": lambda v: _date(_required(v)),
                "currency": lambda v: _currency(_required(v)),
                "status": _optional(lambda v: _choice(v, Invoice.Status.values), "open"),
                "sales_rep_email": _optional(_email),
            },
            ctx.result,
        )
        if values is None:
            return None
        try:
            total = _amount(_required(rec.values["total"]), values["currency"], positive=False)
        except FieldError as exc:
            message = str(exc)
            if "negative" in message:
                message += "; import a credit note instead"
            ctx.result.add_error(rec.row, "total", message)
            return None
        if values["due_date"] < values["issue_date"]:
            ctx.result.add_error(
                rec.row,
                "due_date",
                f"{values['due_date']} is before the issue date {values['issue_date']}",
            )
            return None
        fields = {
            k: values[k]
            for k in ("external_id", "number", "issue_date", "due_date", "currency", "status")
            if k in values
        }
        fields["customer_id"] = values["customer_id"]
        fields["total"] = total
        if "sales_rep_email" in values:
            email = values["sales_rep_email"]
            fields["sales_rep_id"] = ctx.user(email, Membership.Role.SALES_REP) if email else None
        return fields


class _Settlements(_Kind):
    columns = ("external_id", "customer_id", "invoice_id", "date", "currency", "amount")
    required = frozenset({"external_id", "customer_id", "date", "currency", "amount"})
    reallocates = True

    def prepare(self, ctx: _Context, chunk: list[_Record]) -> None:
        if not ctx.customers:
            ctx.load_customers()
        wanted = {r.values.get("invoice_id", "") for r in chunk} - {""}
        ctx.invoices = {
            ext: (pk, cust, cur)
            for ext, pk, cust, cur in Invoice.objects.filter(
                company=ctx.company, external_id__in=wanted
            ).values_list("external_id", "pk", "customer_id", "currency")
        }

    def parse(self, ctx: _Context, rec: _Record) -> dict[str, Any] | None:  # type: ignore[override]
        values = _parse_fields(
            rec,
            {
                "external_id": lambda v: _text(_required(v), 100),
                "customer_id": lambda v: ctx.customer(_required(v))[0],
                "date": lambda v: _date(_required(v)),
                "currency": lambda v: _currency(_required(v)),
            },
            ctx.result,
        )
        if values is None:
            return None
        try:
            amount = _amount(_required(rec.values["amount"]), values["currency"], positive=True)
        except FieldError as exc:
            ctx.result.add_error(rec.row, "amount", str(exc))
            return None
        invoice_pk = None
        if invoice_ext := rec.values.get("invoice_id", ""):
            found = ctx.invoices.get(invoice_ext)
            problem = None
            if found is None:
                problem = f"unknown invoice '{invoice_ext}' in company {ctx.company.code}"
            elif found[1] != values["customer_id"]:
                problem = (
                    f"invoice '{invoice_ext}' belongs to another customer than "
                    f"'{rec.values['customer_id']}'"
                )
            elif found[2] != values["currency"]:
                problem = f"invoice '{invoice_ext}' is in {found[2]}, not {values['currency']}"
            if problem:
                ctx.result.add_error(rec.row, "invoice_id", problem)
                return None
            assert found is not None
            invoice_pk = found[0]
        fields = {
            "external_id": values["external_id"],
            "customer_id": values["customer_id"],
            "date": values["date"],
            "currency": values["currency"],
            "amount": amount,
        }
        if "invoice_id" in rec.values:
            fields["invoice_id"] = invoice_pk
        return fields


class _CreditNotes(_Settlements):
    name = "credit-notes"
    model = CreditNote


class _Payments(_Settlements):
    name = "payments"
    model = Payment


_KINDS: dict[str, _Kind] = {
    k.name: k for k in (_Customers(), _Contacts(), _Invoices(), _CreditNotes(), _Payments())
}


def columns_of(kind: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The columns a kind accepts and those it requires (for help texts and templates)."""
    spec = _KINDS[kind]
    return spec.columns, spec.required


# --- writing ------------------------------------------------------------------------------------


class _Writer:
    """Upserts parsed rows by external id, a chunk at a time."""

    def __init__(self, kind: _Kind, ctx: _Context) -> None:
        self.kind = kind
        self.ctx = ctx
        self.touched_customers: set[int] = set()

    def write(self, rows: list[dict[str, Any]]) -> None:
        model: Any = self.kind.model
        existing = {
            obj.external_id: obj
            for obj in model.objects.filter(
                company=self.ctx.company, external_id__in=[r["external_id"] for r in rows]
            )
        }
        to_create: list[Any] = []
        to_update: list[Any] = []
        changed_fields: set[str] = set()
        for fields in rows:
            obj = existing.get(fields["external_id"])
            if obj is None:
                values = {**self.kind.defaults(self.ctx, fields), **fields}
                to_create.append(model(company_id=self.ctx.company.pk, **values))
                self.touched_customers.add(values.get("customer_id", 0))
                continue
            diff = {k: v for k, v in fields.items() if getattr(obj, k) != v}
            if not diff:
                self.ctx.result.unchanged += 1
                continue
            if "customer_id" in diff:
                self.touched_customers.add(obj.customer_id)
            for k, v in diff.items():
                setattr(obj, k, v)
            changed_fields.update(diff)
            to_update.append(obj)
            self.touched_customers.add(getattr(obj, "customer_id", 0))
        model.objects.bulk_create(to_create, batch_size=CHUNK)
        if to_update:
            model.objects.bulk_update(to_update, sorted(changed_fields), batch_size=500)
        self.ctx.result.created += len(to_create)
        self.ctx.result.updated += len(to_update)


def _chunks(records: Iterator[_Record], size: int) -> Iterator[list[_Record]]:
    chunk: list[_Record] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_stream(
    kind: str,
    stream: IO[bytes],
    company: Company,
    *,
    dry_run: bool = False,
    actor: Any = None,
    source: str = "cli",
    filename: str = "",
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Validate and upsert one CSV file of `kind`; nothing is written unless every row is valid."""
    if kind not in _KINDS:
        raise ImportRejected(f"unknown kind '{kind}'; kinds: {', '.join(KINDS)}")
    spec = _KINDS[kind]
    result = ImportResult(kind=kind, company=company.code, dry_run=dry_run)
    ctx = _Context(company=company, result=result)
    reader = _Reader(stream, result)
    writer = _Writer(spec, ctx)
    seen: set[str] = set()
    with transaction.atomic():
        for chunk in _chunks(reader.records(spec.columns, spec.required), CHUNK):
            spec.prepare(ctx, chunk)
            rows = []
            for rec in chunk:
                fields = spec.parse(ctx, rec)
                if fields is None:
                    continue
                if fields["external_id"] in seen:
                    result.add_error(
                        rec.row,
                        "external_id",
                        f"'{fields['external_id']}' appears more than once in the file",
                    )
                    continue
                seen.add(fields["external_id"])
                rows.append(fields)
            if result.ok:
                writer.write(rows)
            if progress:
                progress(reader.bytes_read)
        if result.ok and spec.reallocates:
            touched = writer.touched_customers - {0}
            if spec.model is Invoice:
                touched = allocation.customers_with_settlements(touched)
            allocation.reallocate(touched)
        if result.ok and not dry_run:
            Event.objects.create(
                company=company,
                actor=actor,
                source=source,
                kind=f"import.{kind}",
                data={
                    "file": filename,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "invited_users": result.invited_users,
                },
            )
        if dry_run or not result.ok:
            transaction.set_rollback(True)
    if not result.ok:
        result.created = result.updated = result.unchanged = 0
        result.invited_users = []
    return result


def import_file(kind: str, path: Path | str, company: Company, **options: Any) -> ImportResult:
    path = Path(path)
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ImportRejected(f"cannot read {path}: {exc.strerror}") from None
    with stream:
        return import_stream(kind, stream, company, filename=path.name, **options)


__all__ = ["KINDS", "ImportRejected", "ImportResult", "RowError", "format_amount", "import_file"]
