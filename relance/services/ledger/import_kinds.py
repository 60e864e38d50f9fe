"""How each kind of ledger file maps onto a model: its columns, the parser of each, what spans
several columns, and the lookups (customers, invoices, users, plans) its rows refer to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext as _

from relance.domain import ledger_fields as cell
from relance.domain import phones
from relance.domain.ledger_fields import ColumnError, FieldError, Parser
from relance.domain.ledger_files import COLUMNS, EXTENSIONS, REQUIRED
from relance.domain.texts import N_
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
from relance.services.ledger.import_reading import ImportResult, Record

_FRENCH_SPEAKING = {"FR", "BE", "LU", "MC"}


def _email(value: str) -> str:
    """Django's rule for an address, as the staff forms apply it."""
    try:
        validate_email(value)
    except ValidationError:
        raise FieldError(N_("'%(value)s' is not an email address"), value=value) from None
    return value.lower()


@dataclass
class Context:
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
                N_(
                    "unknown customer '%(customer)s' in company %(company)s; import the "
                    "customers first"
                ),
                customer=external_id,
                company=self.company.code,
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
            known = ", ".join(sorted(self.plans)) or _("none loaded yet")
            raise FieldError(
                N_("unknown plan '%(plan)s' (plans: %(plans)s); load it with `relance plan load`"),
                plan=code,
                plans=known,
            ) from None


class Kind:
    """How one CSV kind maps onto a model, built once per import with its context.

    `parsers` turn columns into model field values (keyed by column); `finish` combines them into
    the row's field dict (keyed by model attribute) and checks what spans several columns.
    """

    name: ClassVar[str]
    model: ClassVar[type[models.Model]]
    columns: ClassVar[tuple[str, ...]]
    required: ClassVar[frozenset[str]]
    reallocates: ClassVar[bool] = False

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.parsers: dict[str, Parser] = self.build_parsers()

    def build_parsers(self) -> dict[str, Parser]:
        raise NotImplementedError

    def prepare(self, chunk: list[Record]) -> None:
        """Load what this chunk refers to; called before its rows are parsed."""

    def parse(self, rec: Record) -> dict[str, Any] | None:
        """The row's model field values, or None after reporting every bad value of the row."""
        values: dict[str, Any] = {}
        ok = True
        for column, raw in rec.values.items():
            try:
                if "\x00" in raw:
                    raise FieldError(N_("contains a NUL character, which no text may hold"))
                values[column] = self.parsers[column](raw)
            except FieldError as exc:
                self.ctx.result.add_error(rec.row, column, str(exc))
                ok = False
        if not ok:
            return None
        try:
            return self.finish(values)
        except ColumnError as exc:
            self.ctx.result.add_error(rec.row, exc.column, str(exc))
            return None

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        return values

    def defaults(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Values for columns absent from the file, used only when a row is created."""
        return {}


def _rename(values: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {names.get(k, k): v for k, v in values.items()}


class _Customers(Kind):
    name = "customers"
    model = Customer
    columns = COLUMNS["customers"] + EXTENSIONS["customers"]
    required = REQUIRED["customers"]
    RISKS = tuple(Customer.Risk.values)

    def build_parsers(self) -> dict[str, Parser]:
        company = self.ctx.company

        def time_zone(value: str) -> str:
            if not is_time_zone(value):
                raise FieldError(
                    N_("'%(value)s' is not an IANA time zone such as Europe/Paris"), value=value
                )
            return value

        return {
            "external_id": cell.required(cell.at_most(100)),
            "name": cell.required(cell.at_most(200)),
            "currency": cell.optional(cell.currency, company.currency),
            "language": cell.optional(lambda v: cell.choice(v, ("fr", "en")), ""),
            "time_zone": cell.optional(time_zone, company.time_zone),
            "country": cell.optional(cell.country, company.country),
            "segment": cell.at_most(50),
            "risk": cell.optional(lambda v: cell.choice(v, self.RISKS), ""),
            "credit_limit": lambda v: v,  # needs the currency: parsed in finish()
            "pays_by_bank_transfer": cell.optional(cell.boolean, True),
            "card_expiry": cell.optional(cell.month),
            "owner_email": cell.optional(_email),
            "sales_rep_email": cell.optional(_email),
            "plan": lambda v: v,  # looked up in finish(), once the row is otherwise valid
            "address_line1": cell.at_most(200),
            "address_line2": cell.at_most(200),
            "postal_code": cell.at_most(20),
            "city": cell.at_most(100),
            "late_interest_rate": cell.optional(cell.percent),
            "late_fees_waived": cell.optional(cell.boolean, False),
        }

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        ctx = self.ctx
        if "language" in values and not values["language"]:
            values["language"] = self._language(values.get("country") or ctx.company.country)
        if "credit_limit" in values:
            currency = values.get("currency") or ctx.company.currency
            try:
                values["credit_limit"] = cell.optional(
                    lambda v: cell.amount(v, currency, positive=False)
                )(values["credit_limit"])
            except FieldError as exc:
                raise ColumnError("credit_limit", exc.template, **exc.params) from None
        if "plan" in values:
            try:
                values["plan"] = ctx.plan(values["plan"]) if values["plan"] else None
            except FieldError as exc:
                raise ColumnError("plan", exc.template, **exc.params) from None
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


class _Contacts(Kind):
    name = "contacts"
    model = Contact
    columns = COLUMNS["contacts"]
    required = REQUIRED["contacts"]

    def build_parsers(self) -> dict[str, Parser]:
        def roles(value: str) -> list[str]:
            found = [r.strip().lower() for r in value.split("|") if r.strip()]
            for role in found:
                if role not in Contact.ROLES:
                    raise FieldError(
                        N_("unknown role '%(role)s'; roles: %(roles)s"),
                        role=role,
                        roles=", ".join(Contact.ROLES),
                    )
            return sorted(set(found), key=Contact.ROLES.index)

        return {
            "external_id": cell.required(cell.at_most(100)),
            "customer_id": cell.required(self.ctx.customer),
            "name": cell.at_most(200),
            "email": cell.optional(_email, ""),
            "phone": lambda v: v,  # needs the customer's country: parsed in finish()
            "roles": roles,
        }

    def prepare(self, chunk: list[Record]) -> None:
        if not self.ctx.customers:
            self.ctx.load_customers()

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        customer_pk, country = values["customer_id"]
        values["customer_id"] = customer_pk
        if "phone" in values:
            phone = cell.optional(lambda v: phones.normalize(v, country), "")
            try:
                values["phone"] = phone(values["phone"])
            except ValueError as exc:  # domain.phones says what is wrong with the number
                raise ColumnError("phone", str(exc)) from None
        return values

    def defaults(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"roles": []}


class _Invoices(Kind):
    name = "invoices"
    model = Invoice
    columns = COLUMNS["invoices"]
    required = REQUIRED["invoices"]
    reallocates = True
    STATUSES = tuple(Invoice.Status.values)

    def build_parsers(self) -> dict[str, Parser]:
        return {
            "external_id": cell.required(cell.at_most(100)),
            "customer_id": cell.required(lambda v: self.ctx.customer(v)[0]),
            "number": cell.required(cell.at_most(100)),
            "issue_date": cell.required(cell.iso_date),
            "due_date": cell.required(cell.iso_date),
            "currency": cell.required(cell.currency),
            "total": cell.required(lambda v: v),  # needs the currency: parsed in finish()
            "status": cell.optional(lambda v: cell.choice(v, self.STATUSES), "open"),
            "sales_rep_email": cell.optional(_email),
        }

    def prepare(self, chunk: list[Record]) -> None:
        if not self.ctx.customers:
            self.ctx.load_customers()

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        try:
            values["total"] = cell.amount(values["total"], values["currency"], positive=False)
        except FieldError as exc:
            if "negative" in exc.template:
                raise ColumnError(
                    "total",
                    N_("must not be negative, got %(value)s; import a credit note instead"),
                    **exc.params,
                ) from None
            raise ColumnError("total", exc.template, **exc.params) from None
        if values["due_date"] < values["issue_date"]:
            raise ColumnError(
                "due_date",
                N_("%(due_date)s is before the issue date %(issue_date)s"),
                due_date=values["due_date"],
                issue_date=values["issue_date"],
            )
        if "sales_rep_email" in values:
            email = values.pop("sales_rep_email")
            values["sales_rep_id"] = (
                self.ctx.user(email, Membership.Role.SALES_REP) if email else None
            )
        return values


class _Settlements(Kind):
    columns = COLUMNS["payments"]  # credit notes have the same columns
    required = REQUIRED["payments"]
    reallocates = True

    def build_parsers(self) -> dict[str, Parser]:
        return {
            "external_id": cell.required(cell.at_most(100)),
            "customer_id": cell.required(lambda v: self.ctx.customer(v)[0]),
            "invoice_id": lambda v: v,  # checked against the customer and currency in finish()
            "date": cell.required(cell.iso_date),
            "currency": cell.required(cell.currency),
            "amount": cell.required(lambda v: v),
        }

    def prepare(self, chunk: list[Record]) -> None:
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
            values["amount"] = cell.amount(values["amount"], values["currency"], positive=True)
        except FieldError as exc:
            raise ColumnError("amount", exc.template, **exc.params) from None
        if invoice_ext := values.get("invoice_id"):
            found = self.ctx.invoices.get(invoice_ext)
            if found is None:
                raise ColumnError(
                    "invoice_id",
                    N_("unknown invoice '%(invoice)s' in company %(company)s"),
                    invoice=invoice_ext,
                    company=self.ctx.company.code,
                )
            if found[1] != values["customer_id"]:
                raise ColumnError(
                    "invoice_id",
                    N_("invoice '%(invoice)s' belongs to another customer"),
                    invoice=invoice_ext,
                )
            if found[2] != values["currency"]:
                raise ColumnError(
                    "invoice_id",
                    N_("invoice '%(invoice)s' is in %(currency)s, not %(row_currency)s"),
                    invoice=invoice_ext,
                    currency=found[2],
                    row_currency=values["currency"],
                )
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


BY_NAME: dict[str, type[Kind]] = {
    k.name: k for k in (_Customers, _Contacts, _Invoices, _CreditNotes, _Payments)
}


def columns_of(kind: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The columns a kind accepts and those it requires (for help texts and templates)."""
    spec = BY_NAME[kind]
    return spec.columns, spec.required
