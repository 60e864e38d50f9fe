"""The CSV files a ledger is imported from (DESIGN §4): one contract, for the importer, the demo
generator and the documentation alike."""

from __future__ import annotations

#: Header of each kind, in the column order of DESIGN §4; the kinds in import order (customers
#: before what refers to them).
COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
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
    ),
    "contacts": ("external_id", "customer_id", "name", "email", "phone", "roles"),
    "invoices": (
        "external_id",
        "customer_id",
        "number",
        "issue_date",
        "due_date",
        "currency",
        "total",
        "sales_rep_email",
        "status",
    ),
    "credit-notes": ("external_id", "customer_id", "invoice_id", "date", "currency", "amount"),
    "payments": ("external_id", "customer_id", "invoice_id", "date", "currency", "amount"),
}

#: Optional columns relance accepts beyond DESIGN §4, after its own: the postal address letters
#: are sent to, and the customer's late-payment terms (a contract rate in % a year, or waived).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "customers": (
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "late_interest_rate",
        "late_fees_waived",
    ),
}

#: Columns a file must have (and a row must fill).
REQUIRED: dict[str, frozenset[str]] = {
    "customers": frozenset({"external_id", "name"}),
    "contacts": frozenset({"external_id", "customer_id"}),
    "invoices": frozenset(
        {"external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"}
    ),
    "credit-notes": frozenset({"external_id", "customer_id", "date", "currency", "amount"}),
    "payments": frozenset({"external_id", "customer_id", "date", "currency", "amount"}),
}

KINDS: tuple[str, ...] = tuple(COLUMNS)
