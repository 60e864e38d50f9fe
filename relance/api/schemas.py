"""What the API reads and writes. Ledger fields are the CSV columns of DESIGN §4, typed; a field
left out of a PUT keeps its value, null clears it. Amounts are decimal strings."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Amount = Decimal | None
#: A day the ledger can hold: far enough either way for any real invoice, near enough that
#: adding the longest delays and periods to it stays a valid date.
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2199, 12, 31))]
_ID = Field(min_length=1, max_length=100)


class Strict(BaseModel):
    """What clients send: unknown fields refused. A plain pydantic model, not ninja's Schema,
    whose per-object hook for reading Django models cost 60 % of a 1,000-row batch."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """What the API answers, built from dicts or read from objects by pydantic itself."""

    model_config = ConfigDict(from_attributes=True)


class CustomerFields(Strict):
    name: str | None = None
    currency: str | None = None
    language: str | None = None
    time_zone: str | None = None
    country: str | None = None
    segment: str | None = None
    risk: str | None = None
    credit_limit: Amount = None
    pays_by_bank_transfer: bool | None = None
    card_expiry: str | None = Field(None, description="YYYY-MM")
    owner_email: str | None = None
    sales_rep_email: str | None = None
    plan: str | None = Field(None, description="Plan code; null: the assignment rules choose")
    address_line1: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    late_interest_rate: Amount = Field(None, description="Contract rate, % a year")
    late_fees_waived: bool | None = None


class CustomerNew(CustomerFields):
    external_id: str = _ID
    name: str = Field(min_length=1, max_length=200)


class CustomerOut(Out):
    external_id: str
    name: str
    currency: str
    language: str
    time_zone: str
    country: str
    segment: str
    risk: str
    credit_limit: str | None
    pays_by_bank_transfer: bool
    card_expiry: str | None
    owner_email: str | None
    sales_rep_email: str | None
    plan: str | None
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    late_interest_rate: str | None
    late_fees_waived: bool
    hold_until: dt.date | None
    oldest_unpaid_due: dt.date | None


class ContactFields(Strict):
    customer_id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = Field(None, description="E.164, or national in the customer's country")
    roles: list[str] | None = Field(None, description="billing, primary, sales, legal…")


class ContactNew(ContactFields):
    external_id: str = _ID
    customer_id: str = _ID


class ContactOut(Out):
    external_id: str
    customer_id: str
    name: str
    email: str
    phone: str
    roles: list[str]
    bounced: bool


class InvoiceFields(Strict):
    customer_id: str | None = None
    number: str | None = None
    issue_date: Day | None = None
    due_date: Day | None = None
    currency: str | None = None
    total: Amount = None
    sales_rep_email: str | None = None
    status: str | None = Field(None, description="open or void")


class InvoiceNew(InvoiceFields):
    external_id: str = _ID
    customer_id: str = _ID
    number: str = _ID
    issue_date: Day
    due_date: Day
    currency: str
    total: Decimal


class InvoiceOut(Out):
    external_id: str
    customer_id: str
    number: str
    issue_date: dt.date
    due_date: dt.date
    currency: str
    total: str
    amount_due: str
    sales_rep_email: str | None
    status: str


class SettlementFields(Strict):
    customer_id: str | None = None
    invoice_id: str | None = Field(None, description="The invoice it settles first, if any")
    date: Day | None = None
    currency: str | None = None
    amount: Amount = None


class SettlementNew(SettlementFields):
    external_id: str = _ID
    customer_id: str = _ID
    date: Day
    currency: str
    amount: Decimal


class SettlementOut(Out):
    external_id: str
    customer_id: str
    invoice_id: str | None
    date: dt.date
    currency: str
    amount: str


class ImportOut(Out):
    kind: str
    created: int
    updated: int
    unchanged: int
    invited_users: list[str]


@functools.cache
def page_of(item: Any) -> Any:
    """The schema of one page of `item`s."""
    return type(
        f"{item.__name__.removesuffix('Out')}Page",
        (Out,),
        {
            "__annotations__": {"data": list[item], "next_cursor": str | None},
            "__module__": __name__,
        },
    )
