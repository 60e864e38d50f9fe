"""The ledger over HTTP: customers, contacts, invoices, credit notes and payments. Writes go
through the CSV importer's checks (services.ledger.imports.import_rows): the same errors, the
same upsert by external id, the same reallocation of payments."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field, create_model

from relance.api import schemas
from relance.api.auth import company_of, source_of, writing
from relance.api.errors import ERRORS
from relance.api.pagination import MAX_LIMIT, page
from relance.domain.errors import Conflict, Invalid, NotFound
from relance.domain.money import format_amount
from relance.models import Company, Contact, CreditNote, Customer, Invoice, Payment
from relance.models.documents import allocated
from relance.services.integrations import resources
from relance.services.ledger import imports
from relance.services.organisation import hours

MAX_BATCH = 1000


def _email(user: Any) -> str | None:
    return user.email if user is not None else None


def customer_out(c: Customer) -> dict[str, Any]:
    return {
        "external_id": c.external_id,
        "name": c.name,
        "currency": c.currency,
        "language": c.language,
        "time_zone": c.time_zone,
        "country": c.country,
        "segment": c.segment,
        "risk": c.risk,
        "credit_limit": format_amount(c.credit_limit, c.currency)
        if c.credit_limit is not None
        else None,
        "pays_by_bank_transfer": c.pays_by_bank_transfer,
        "card_expiry": c.card_expiry.strftime("%Y-%m") if c.card_expiry else None,
        "owner_email": _email(c.owner),
        "sales_rep_email": _email(c.sales_rep),
        "plan": c.plan.code if c.plan else None,
        "address_line1": c.address_line1,
        "address_line2": c.address_line2,
        "postal_code": c.postal_code,
        "city": c.city,
        "late_interest_rate": (
            str(c.late_interest_rate) if c.late_interest_rate is not None else None
        ),
        "late_fees_waived": c.late_fees_waived,
        "hold_until": c.hold_until,
        "oldest_unpaid_due": c.oldest_unpaid_due,
    }


def contact_out(c: Contact) -> dict[str, Any]:
    return {
        "external_id": c.external_id,
        "customer_id": c.customer.external_id,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "roles": c.roles,
        "bounced": c.bounced,
    }


def invoice_out(i: Invoice) -> dict[str, Any]:
    settled = getattr(i, "settled", None)
    due = i.amount_due(dt.date.max) if settled is None else i.total - settled
    if i.status == Invoice.Status.VOID:
        due = 0
    return {
        "external_id": i.external_id,
        "customer_id": i.customer.external_id,
        "number": i.number,
        "issue_date": i.issue_date,
        "due_date": i.due_date,
        "currency": i.currency,
        "total": format_amount(i.total, i.currency),
        "amount_due": format_amount(due, i.currency),
        "sales_rep_email": _email(i.sales_rep),
        "status": i.status,
    }


def _with_settled(rows: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """What was allocated to each invoice, as a correlated subquery: computed for the rows of
    the page only (a join and GROUP BY summed every invoice past the cursor: 69 ms a page of
    500 with 20,000 invoices, growing with the ledger)."""
    return rows.annotate(settled=allocated())


@dataclass(frozen=True)
class Kind:
    """One kind of ledger row as the API shows it."""

    name: str  # the importer's kind
    label: str
    model: type[Model]
    fields: type[BaseModel]
    new: type[BaseModel]
    out: type[BaseModel]
    shape: Callable[[Any], dict[str, Any]]
    related: tuple[str, ...]

    def rows(self, company: Company) -> QuerySet[Any]:
        rows = self.model._default_manager.filter(company=company).select_related(*self.related)
        return _with_settled(rows) if self.model is Invoice else rows  # type: ignore[arg-type]

    def one(self, company: Company, external_id: str) -> Any:
        found = self.rows(company).filter(external_id=external_id).first()
        if found is None:
            raise NotFound(f"no {self.label} '{external_id}' in company {company.code}")
        return found

    def write(self, request: HttpRequest, rows: list[dict[str, Any]]) -> imports.ImportResult:
        """Upsert `rows`; a row naming an existing external id changes only the fields it
        gives, so it is laid over the row as it stands before the importer checks it whole."""
        company = writing(request)
        columns, required = imports.columns_of(self.name)
        ids = [r["external_id"] for r in rows if _partial(r, required)]
        current = {  # only for rows that leave out a field the checks need
            row.external_id: {k: v for k, v in self.shape(row).items() if k in columns}
            for row in self.rows(company).filter(external_id__in=ids)
        }
        merged = [{**current.get(r.get("external_id"), {}), **r} for r in rows]
        result = imports.import_rows(self.name, merged, company, source=source_of(request))
        if not result.ok:
            details = [e.as_json() for e in result.errors]
            if len(rows) == 1:
                for d in details:
                    d["row"] = None
            raise Invalid(f"the {self.label} was not saved: nothing was written", details)
        return result


def _partial(row: dict[str, Any], required: frozenset[str]) -> bool:
    """Whether a row leaves out a value its checks read: a required column, or the currency an
    amount (a customer's credit limit) is checked against."""
    if not isinstance(row.get("external_id"), str):
        return False
    return bool(required - row.keys()) or ("credit_limit" in row and "currency" not in row)


def _values(payload: BaseModel) -> dict[str, Any]:
    return payload.model_dump(mode="json", exclude_unset=True)  # dates and amounts as text


def _register(router: Router, kind: Kind, path: str, filters: type[Schema]) -> None:
    """The five routes of one kind of ledger row, named and documented alike for every kind."""
    Page = schemas.page_of(kind.out)
    slug = kind.name.replace("-", "_")
    Batch = create_model(
        f"{slug.title().replace('_', '')}Batch",
        __base__=schemas.Strict,
        rows=(list[kind.new], Field(min_length=1, max_length=MAX_BATCH)),  # type: ignore[name-defined]
    )
    tag = [kind.label.capitalize() + "s"]
    list_rows, get_row = _reading(kind, filters)
    create_row, put_row, batch_rows = _writing(kind, path, Batch)
    router.get(
        path,
        response={200: Page, **ERRORS},
        operation_id=f"list_{slug}",
        tags=tag,
        summary=f"List {kind.label}s, filtered, a page at a time",
    )(list_rows)
    router.post(
        path,
        response={201: kind.out, **ERRORS},
        operation_id=f"create_{slug}",
        tags=tag,
        summary=f"Create a {kind.label} (409 if its external id exists)",
    )(create_row)
    router.post(
        f"{path}/batch",
        response={200: schemas.ImportOut, **ERRORS},
        operation_id=f"upsert_{slug}_batch",
        tags=tag,
        summary=f"Upsert up to {MAX_BATCH} {kind.label}s by external id, all or nothing",
    )(batch_rows)
    router.get(
        f"{path}/{{external_id}}",
        response={200: kind.out, **ERRORS},
        operation_id=f"get_{slug}",
        tags=tag,
        summary=f"One {kind.label} by external id",
    )(get_row)
    router.put(
        f"{path}/{{external_id}}",
        response={200: kind.out, 201: kind.out, **ERRORS},
        operation_id=f"upsert_{slug}",
        tags=tag,
        summary=f"Create or update one {kind.label} by external id",
    )(put_row)


def _reading(kind: Kind, filters: type[Schema]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The list and get views of one kind (django-ninja reads their signatures)."""

    def list_rows(
        request: HttpRequest,
        filters: Query[filters],  # type: ignore[valid-type]
        cursor: str | None = None,
        limit: int = Query(100, ge=1, le=MAX_LIMIT),
    ) -> dict[str, Any]:
        company = company_of(request)
        rows = filters.apply(kind.rows(company), company)  # type: ignore[attr-defined]
        return page(rows, cursor, limit, kind.shape)

    def get_row(request: HttpRequest, external_id: str) -> dict[str, Any]:
        return kind.shape(kind.one(company_of(request), external_id))

    return list_rows, get_row


def _writing(
    kind: Kind, path: str, Batch: type[BaseModel]
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """The create, put and batch views of one kind: all go through the importer's checks."""

    def create_row(request: HttpRequest, payload: kind.new) -> Status[dict[str, Any]]:  # type: ignore[name-defined]
        values = _values(payload)
        company = writing(request)
        if kind.model._default_manager.filter(
            company=company, external_id=values["external_id"]
        ).exists():
            raise Conflict(
                f"{kind.label} '{values['external_id']}' exists; PUT {path}/{{external_id}} "
                "updates it"
            )
        kind.write(request, [values])
        return Status(201, kind.shape(kind.one(company, values["external_id"])))

    def put_row(
        request: HttpRequest,
        external_id: str,
        payload: kind.fields,  # type: ignore[name-defined]
    ) -> Status[dict[str, Any]]:
        if not 1 <= len(external_id) <= 100:
            raise Invalid(
                "an external id has 1 to 100 characters",
                [{"field": "external_id", "message": "1 to 100 characters"}],
            )
        result = kind.write(request, [{**_values(payload), "external_id": external_id}])
        return Status(
            201 if result.created else 200, kind.shape(kind.one(company_of(request), external_id))
        )

    def batch_rows(request: HttpRequest, payload: Batch) -> dict[str, Any]:  # type: ignore[valid-type]
        result = kind.write(request, [_values(r) for r in payload.rows])  # type: ignore[attr-defined]
        return {
            "kind": result.kind,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "invited_users": result.invited_users,
        }

    return create_row, put_row, batch_rows


# --- filters ------------------------------------------------------------------------------------


class CustomerFilters(Schema):
    segment: str | None = None
    risk: str | None = None
    plan: str | None = None
    owner_email: str | None = None
    sales_rep_email: str | None = None
    overdue: bool | None = Field(None, description="Owes something past due today")

    def apply(self, rows: QuerySet[Customer], company: Company) -> QuerySet[Customer]:
        if self.segment is not None:
            rows = rows.filter(segment=self.segment)
        if self.risk is not None:
            rows = rows.filter(risk=self.risk)
        if self.plan is not None:
            rows = rows.filter(plan__code=self.plan)
        if self.owner_email is not None:
            rows = rows.filter(owner__email__iexact=self.owner_email)
        if self.sales_rep_email is not None:
            rows = rows.filter(sales_rep__email__iexact=self.sales_rep_email)
        if self.overdue is not None:
            late = Q(oldest_unpaid_due__lt=hours.company_today(company))
            rows = rows.filter(late) if self.overdue else rows.exclude(late)
        return rows


class ContactFilters(Schema):
    customer_id: str | None = None

    def apply(self, rows: QuerySet[Contact], company: Company) -> QuerySet[Contact]:
        if self.customer_id is not None:
            rows = rows.filter(customer__external_id=self.customer_id)
        return rows


class InvoiceFilters(Schema):
    customer_id: str | None = None
    status: str | None = None
    currency: str | None = None
    due_before: schemas.Day | None = None
    due_after: schemas.Day | None = None
    unpaid: bool | None = Field(None, description="Open with something left to pay")

    def apply(self, rows: QuerySet[Invoice], company: Company) -> QuerySet[Invoice]:
        if self.customer_id is not None:
            rows = rows.filter(customer__external_id=self.customer_id)
        if self.status is not None:
            rows = rows.filter(status=self.status)
        if self.currency is not None:
            rows = rows.filter(currency=self.currency.upper())
        if self.due_before is not None:
            rows = rows.filter(due_date__lt=self.due_before)
        if self.due_after is not None:
            rows = rows.filter(due_date__gt=self.due_after)
        if self.unpaid is not None:
            from django.db.models import F

            owing = Q(status=Invoice.Status.OPEN, settled__lt=F("total"))
            rows = rows.filter(owing) if self.unpaid else rows.exclude(owing)
        return rows


class SettlementFilters(Schema):
    customer_id: str | None = None
    invoice_id: str | None = None
    currency: str | None = None
    date_from: schemas.Day | None = None
    date_to: schemas.Day | None = None

    def apply(self, rows: QuerySet[Any], company: Company) -> QuerySet[Any]:
        if self.customer_id is not None:
            rows = rows.filter(customer__external_id=self.customer_id)
        if self.invoice_id is not None:
            rows = rows.filter(invoice__external_id=self.invoice_id)
        if self.currency is not None:
            rows = rows.filter(currency=self.currency.upper())
        if self.date_from is not None:
            rows = rows.filter(date__gte=self.date_from)
        if self.date_to is not None:
            rows = rows.filter(date__lte=self.date_to)
        return rows


router = Router()
_register(
    router,
    Kind(
        "customers",
        "customer",
        Customer,
        schemas.CustomerFields,
        schemas.CustomerNew,
        schemas.CustomerOut,
        customer_out,
        ("owner", "sales_rep", "plan"),
    ),
    "/customers",
    CustomerFilters,
)
_register(
    router,
    Kind(
        "contacts",
        "contact",
        Contact,
        schemas.ContactFields,
        schemas.ContactNew,
        schemas.ContactOut,
        contact_out,
        ("customer",),
    ),
    "/contacts",
    ContactFilters,
)
_register(
    router,
    Kind(
        "invoices",
        "invoice",
        Invoice,
        schemas.InvoiceFields,
        schemas.InvoiceNew,
        schemas.InvoiceOut,
        invoice_out,
        ("customer", "sales_rep"),
    ),
    "/invoices",
    InvoiceFilters,
)
for _kind, _model, _label in (
    ("credit-notes", CreditNote, "credit note"),
    ("payments", Payment, "payment"),
):
    _register(
        router,
        Kind(
            _kind,
            _label,
            _model,
            schemas.SettlementFields,
            schemas.SettlementNew,
            schemas.SettlementOut,
            resources.settlement,
            ("customer", "invoice"),
        ),
        f"/{_kind}",
        SettlementFilters,
    )
