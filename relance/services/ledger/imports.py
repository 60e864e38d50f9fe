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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, ClassVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction

from relance.domain import phones
from relance.domain.errors import Invalid, RelanceError
from relance.domain.ledger_files import COLUMNS, EXTENSIONS, KINDS, REQUIRED
from relance.domain.money import (
    InvalidAmount,
    InvalidCurrency,
    normalize_currency,
    parse_amount,
)
from relance.models import (
    Company,
    Contact,
    CreditNote,
    Customer,
    Invoice,
    Membership,
    Payment,
    Plan,
)
from relance.models.validators import is_time_zone
from relance.services.ledger import allocation, balances, receivables
from relance.services.organisation import hours, journal
from relance.services.sql import Inserter

CHUNK = 2000
MAX_REPORTED_ERRORS = 1000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_FRENCH_SPEAKING = {"FR", "BE", "LU", "MC"}


class ImportRejected(Invalid):
    """Raised for a problem with the request itself (unknown kind or company, unreadable file)."""


class FieldError(RelanceError, ValueError):
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


def _percent(value: str) -> Decimal:
    """A yearly rate in percent, such as 12.5 (at most four decimals, 0 to 100)."""
    try:
        rate = Decimal(value)
    except ArithmeticError:
        raise FieldError(f"'{value}' is not a rate in percent such as 12.5") from None
    exponent = rate.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -4 or not 0 <= rate <= 100:
        raise FieldError(f"'{value}' is not a rate in percent between 0 and 100 (4 decimals)")
    return rate


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
            self.plans = dict(Plan.objects.filter(company=self.company).values_list("code", "pk"))
        try:
            return self.plans[code]
        except KeyError:
            known = ", ".join(sorted(self.plans)) or "none loaded yet"
            raise FieldError(
                f"unknown plan '{code}' (plans: {known}); load it with `relance plan load`"
            ) from None


Parser = Callable[[str], Any]


def _required(parse: Parser) -> Parser:
    def parse_required(value: str) -> Any:
        if not value:
            raise FieldError("is required")
        return parse(value)

    return parse_required


def _optional(parse: Parser, empty: Any = None) -> Parser:
    return lambda value: parse(value) if value else empty


def _max(length: int) -> Parser:
    return lambda value: _text(value, length)


class _Kind:
    """How one CSV kind maps onto a model, built once per import with its context.

    `parsers` turn columns into model field values (keyed by column); `finish` combines them into
    the row's field dict (keyed by model attribute) and checks what spans several columns.
    """

    name: ClassVar[str]
    model: ClassVar[type[models.Model]]
    columns: ClassVar[tuple[str, ...]]
    required: ClassVar[frozenset[str]]
    reallocates: ClassVar[bool] = False

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.parsers: dict[str, Parser] = self.build_parsers()

    def build_parsers(self) -> dict[str, Parser]:
        raise NotImplementedError

    def prepare(self, chunk: list[_Record]) -> None:
        """Load what this chunk refers to; called before its rows are parsed."""

    def parse(self, rec: _Record) -> dict[str, Any] | None:
        """The row's model field values, or None after reporting every bad value of the row."""
        values: dict[str, Any] = {}
        ok = True
        for column, raw in rec.values.items():
            try:
                if "\x00" in raw:
                    raise FieldError("contains a NUL character, which no text may hold")
                values[column] = self.parsers[column](raw)
            except FieldError as exc:
                self.ctx.result.add_error(rec.row, column, str(exc))
                ok = False
        if not ok:
            return None
        try:
            return self.finish(values)
        except _ColumnError as exc:
            self.ctx.result.add_error(rec.row, exc.column, str(exc))
            return None

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        return values

    def defaults(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Values for columns absent from the file, used only when a row is created."""
        return {}


class _ColumnError(FieldError):
    """A problem found once the whole row is parsed (e.g. due date before issue date)."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def _rename(values: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {names.get(k, k): v for k, v in values.items()}


class _Customers(_Kind):
    name = "customers"
    model = Customer
    columns = COLUMNS["customers"] + EXTENSIONS["customers"]
    required = REQUIRED["customers"]
    RISKS = tuple(Customer.Risk.values)

    def build_parsers(self) -> dict[str, Parser]:
        company = self.ctx.company

        def country(value: str) -> str:
            code = value.upper()
            if len(code) != 2 or not code.isalpha():
                raise FieldError(f"'{value}' is not a two-letter ISO country code such as FR")
            return code

        def time_zone(value: str) -> str:
            if not is_time_zone(value):
                raise FieldError(f"'{value}' is not an IANA time zone such as Europe/Paris")
            return value

        return {
            "external_id": _required(_max(100)),
            "name": _required(_max(200)),
            "currency": _optional(_currency, company.currency),
            "language": _optional(lambda v: _choice(v, ("fr", "en")), ""),
            "time_zone": _optional(time_zone, company.time_zone),
            "country": _optional(country, company.country),
            "segment": _max(50),
            "risk": _optional(lambda v: _choice(v, self.RISKS), ""),
            "credit_limit": lambda v: v,  # needs the currency: parsed in finish()
            "pays_by_bank_transfer": _optional(_boolean, True),
            "card_expiry": _optional(_month),
            "owner_email": _optional(_email),
            "sales_rep_email": _optional(_email),
            "plan": lambda v: v,  # looked up in finish(), once the row is otherwise valid
            "address_line1": _max(200),
            "address_line2": _max(200),
            "postal_code": _max(20),
            "city": _max(100),
            "late_interest_rate": _optional(_percent),
            "late_fees_waived": _optional(_boolean, False),
        }

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        ctx = self.ctx
        if "language" in values and not values["language"]:
            values["language"] = self._language(values.get("country") or ctx.company.country)
        if "credit_limit" in values:
            currency = values.get("currency") or ctx.company.currency
            try:
                values["credit_limit"] = _optional(lambda v: _amount(v, currency, positive=False))(
                    values["credit_limit"]
                )
            except FieldError as exc:
                raise _ColumnError("credit_limit", str(exc)) from None
        if "plan" in values:
            try:
                values["plan"] = ctx.plan(values["plan"]) if values["plan"] else None
            except FieldError as exc:
                raise _ColumnError("plan", str(exc)) from None
        if email := values.get("owner_email"):
            values["owner_email"] = ctx.user(email, Membership.Role.CREDIT_CONTROLLER)
        if email := values.get("sales_rep_email"):
            values["sales_rep_email"] = ctx.user(email, Membership.Role.SALES_REP)
        return _rename(
            values,
            {"plan": "plan_id", "owner_email": "owner_id", "sales_rep_email": "sales_rep_id"},
        )

    @staticmethod
    def _language(country: str) -> str:
        return "fr" if country in _FRENCH_SPEAKING else "en"

    def defaults(self, fields: dict[str, Any]) -> dict[str, Any]:
        company = self.ctx.company
        return {
            "currency": company.currency,
            "time_zone": company.time_zone,
            "country": company.country,
            "language": self._language(fields.get("country", company.country)),
            "tags": [],
        }


class _Contacts(_Kind):
    name = "contacts"
    model = Contact
    columns = COLUMNS["contacts"]
    required = REQUIRED["contacts"]

    def build_parsers(self) -> dict[str, Parser]:
        def roles(value: str) -> list[str]:
            found = [r.strip().lower() for r in value.split("|") if r.strip()]
            for role in found:
                if role not in Contact.ROLES:
                    raise FieldError(f"unknown role '{role}'; roles: {', '.join(Contact.ROLES)}")
            return sorted(set(found), key=Contact.ROLES.index)

        return {
            "external_id": _required(_max(100)),
            "customer_id": _required(self.ctx.customer),
            "name": _max(200),
            "email": _optional(_email, ""),
            "phone": lambda v: v,  # needs the customer's country: parsed in finish()
            "roles": roles,
        }

    def prepare(self, chunk: list[_Record]) -> None:
        if not self.ctx.customers:
            self.ctx.load_customers()

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        customer_pk, country = values["customer_id"]
        values["customer_id"] = customer_pk
        if "phone" in values:
            phone = _optional(lambda v: phones.normalize(v, country), "")
            try:
                values["phone"] = phone(values["phone"])
            except ValueError as exc:  # domain.phones says what is wrong with the number
                raise _ColumnError("phone", str(exc)) from None
        return values

    def defaults(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"roles": []}


class _Invoices(_Kind):
    name = "invoices"
    model = Invoice
    columns = COLUMNS["invoices"]
    required = REQUIRED["invoices"]
    reallocates = True
    STATUSES = tuple(Invoice.Status.values)

    def build_parsers(self) -> dict[str, Parser]:
        return {
            "external_id": _required(_max(100)),
            "customer_id": _required(lambda v: self.ctx.customer(v)[0]),
            "number": _required(_max(100)),
            "issue_date": _required(_date),
            "due_date": _required(_date),
            "currency": _required(_currency),
            "total": _required(lambda v: v),  # needs the currency: parsed in finish()
            "status": _optional(lambda v: _choice(v, self.STATUSES), "open"),
            "sales_rep_email": _optional(_email),
        }

    def prepare(self, chunk: list[_Record]) -> None:
        if not self.ctx.customers:
            self.ctx.load_customers()

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        try:
            values["total"] = _amount(values["total"], values["currency"], positive=False)
        except FieldError as exc:
            message = str(exc)
            if "negative" in message:
                message += "; import a credit note instead"
            raise _ColumnError("total", message) from None
        if values["due_date"] < values["issue_date"]:
            raise _ColumnError(
                "due_date", f"{values['due_date']} is before the issue date {values['issue_date']}"
            )
        if "sales_rep_email" in values:
            email = values.pop("sales_rep_email")
            values["sales_rep_id"] = (
                self.ctx.user(email, Membership.Role.SALES_REP) if email else None
            )
        return values


class _Settlements(_Kind):
    columns = COLUMNS["payments"]  # credit notes have the same columns
    required = REQUIRED["payments"]
    reallocates = True

    def build_parsers(self) -> dict[str, Parser]:
        return {
            "external_id": _required(_max(100)),
            "customer_id": _required(lambda v: self.ctx.customer(v)[0]),
            "invoice_id": lambda v: v,  # checked against the customer and currency in finish()
            "date": _required(_date),
            "currency": _required(_currency),
            "amount": _required(lambda v: v),
        }

    def prepare(self, chunk: list[_Record]) -> None:
        ctx = self.ctx
        if not ctx.customers:
            ctx.load_customers()
        wanted = {r.values.get("invoice_id", "") for r in chunk} - {""}
        ctx.invoices = {
            ext: (pk, cust, cur)
            for ext, pk, cust, cur in Invoice.objects.filter(
                company=ctx.company, external_id__in=wanted
            ).values_list("external_id", "pk", "customer_id", "currency")
        }

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        try:
            values["amount"] = _amount(values["amount"], values["currency"], positive=True)
        except FieldError as exc:
            raise _ColumnError("amount", str(exc)) from None
        if invoice_ext := values.get("invoice_id"):
            found = self.ctx.invoices.get(invoice_ext)
            if found is None:
                problem = f"unknown invoice '{invoice_ext}' in company {self.ctx.company.code}"
            elif found[1] != values["customer_id"]:
                problem = f"invoice '{invoice_ext}' belongs to another customer"
            elif found[2] != values["currency"]:
                problem = f"invoice '{invoice_ext}' is in {found[2]}, not {values['currency']}"
            else:
                problem = ""
            if problem:
                raise _ColumnError("invoice_id", problem)
            assert found is not None
            values["invoice_id"] = found[0]
        elif "invoice_id" in values:
            values["invoice_id"] = None
        return values


class _CreditNotes(_Settlements):
    name = "credit-notes"
    model = CreditNote


class _Payments(_Settlements):
    name = "payments"
    model = Payment


_KINDS: dict[str, type[_Kind]] = {
    k.name: k for k in (_Customers, _Contacts, _Invoices, _CreditNotes, _Payments)
}


def columns_of(kind: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The columns a kind accepts and those it requires (for help texts and templates)."""
    spec = _KINDS[kind]
    return spec.columns, spec.required


# --- writing ------------------------------------------------------------------------------------


class _Writer:
    """Upserts parsed rows by external id, a chunk at a time.

    New rows go in with one multi-row INSERT per chunk rather than `bulk_create`: building a model
    instance per row cost more than everything else in a million-row import. Values were already
    validated by the parsers, and the database's constraints still check them.
    """

    def __init__(self, kind: _Kind) -> None:
        self.kind = kind
        self.ctx = kind.ctx
        self.touched_customers: set[int] = set()
        self.inserter = Inserter(kind.model)
        self.tells_payments = kind.model is Payment and journal.listened(
            kind.ctx.company.pk, "payment.received"
        )

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        model: Any = self.kind.model
        names = sorted({k for r in rows for k in r} - {"external_id"})  # JSON rows may differ
        existing = {
            ext: (pk, values)
            for ext, pk, *values in model.objects.filter(
                company=self.ctx.company, external_id__in=[r["external_id"] for r in rows]
            ).values_list("external_id", "pk", *names)
        }
        to_create: list[dict[str, Any]] = []
        to_update: list[Any] = []
        changed_fields: set[str] = set()
        company_id = self.ctx.company.pk
        for fields in rows:
            found = existing.get(fields["external_id"])
            if found is None:
                row = {**self.kind.defaults(fields), **fields, "company_id": company_id}
                to_create.append(row)
                self.touched_customers.add(row.get("customer_id", 0))
                continue
            pk, current = found
            diff = {
                n: fields[n]
                for n, old in zip(names, current, strict=True)
                if n in fields and fields[n] != old
            }
            if not diff:
                self.ctx.result.unchanged += 1
                continue
            if "customer_id" in diff:  # moved to another customer: both ledgers change
                self.touched_customers.add(current[names.index("customer_id")])
            changed_fields.update(diff)
            to_update.append(model(pk=pk, **diff))
            self.touched_customers.add(fields.get("customer_id", 0))
        self.inserter.insert(to_create)
        if to_create and self.tells_payments:
            created = Payment.objects.filter(
                company_id=company_id, external_id__in=[r["external_id"] for r in to_create]
            ).select_related("customer", "invoice")
            journal.tell("payment.received", created)
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
    result = ImportResult(kind=kind, company=company.code, dry_run=dry_run)
    spec = _KINDS[kind](_Context(company=company, result=result))
    reader = _Reader(stream, result)

    def report_progress() -> None:
        if progress:
            progress(reader.bytes_read)

    records = reader.records(spec.columns, spec.required)
    return _upsert(spec, records, dry_run, actor, source, filename, report_progress)


def import_rows(
    kind: str,
    rows: Sequence[Mapping[str, Any]],
    company: Company,
    *,
    dry_run: bool = False,
    actor: Any = None,
    source: str = "api",
) -> ImportResult:
    """Validate and upsert rows given as JSON objects (the API): the same columns and checks as
    the CSV files, rows numbered from 1. A key absent from a row leaves that field as it is."""
    if kind not in _KINDS:
        raise ImportRejected(f"unknown kind '{kind}'; kinds: {', '.join(KINDS)}")
    result = ImportResult(kind=kind, company=company.code, dry_run=dry_run)
    spec = _KINDS[kind](_Context(company=company, result=result))
    records = _json_records(rows, spec, result)
    return _upsert(spec, records, dry_run, actor, source, "", lambda: None)


def _json_value(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "|".join(_json_value(v) for v in value)
    return str(value).strip()


def _json_records(
    rows: Sequence[Mapping[str, Any]], spec: _Kind, result: ImportResult
) -> Iterator[_Record]:
    for number, row in enumerate(rows, start=1):
        unknown = sorted(set(row) - set(spec.columns))
        for name in unknown:
            result.add_error(
                number, name, f"unknown field '{name}'; the fields are: {', '.join(spec.columns)}"
            )
        if unknown:
            continue
        values = {name: _json_value(value) for name, value in row.items()}
        for name in spec.required - set(values):
            values[name] = ""  # reported as required by the parser
        yield _Record(number, values)


def _upsert(
    spec: _Kind,
    records: Iterator[_Record],
    dry_run: bool,
    actor: Any,
    source: str,
    filename: str,
    progress: Callable[[], None],
) -> ImportResult:
    ctx = spec.ctx
    result, company, kind = ctx.result, ctx.company, spec.name
    writer = _Writer(spec)
    seen: set[str] = set()
    with transaction.atomic():
        for chunk in _chunks(records, CHUNK):
            spec.prepare(chunk)
            rows = []
            for rec in chunk:
                fields = spec.parse(rec)
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
            progress()
        if result.ok and spec.reallocates:
            touched = writer.touched_customers - {0}
            settled = touched
            if spec.model is Invoice:
                settled = allocation.customers_with_settlements(touched)
                balances.refresh(touched - settled)  # reallocate refreshes the others
            allocation.reallocate(settled)
        if result.ok and not dry_run:
            receivables.forget(company, [hours.company_today(company)])
            journal.record(
                f"import.{kind}",
                company,
                actor=actor,
                source=source,
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


__all__ = ["KINDS", "ImportRejected", "ImportResult", "RowError", "import_file", "import_rows"]
