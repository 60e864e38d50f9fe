"""What pauses dunning of a customer: `relance hold`, `dispute` and `promise`. The external ids
typed are resolved here (services.ledger.lookup); the services take the rows."""

from __future__ import annotations

from datetime import date

import click

from relance.cli.options import CONTEXT, DAY, company_option, json_option
from relance.cli.output import emit, rejections


@click.command()
@click.argument("customer_id")
@click.option("--until", type=DAY, required=True, help="Last day of the hold (inclusive).")
@company_option
@json_option
def hold(customer_id: str, until: date, company_code: str | None, as_json: bool) -> None:
    """Hold all dunning of CUSTOMER_ID until a date (inclusive)."""
    from relance.services.dialogue import pauses
    from relance.services.ledger import lookup
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        customer = pauses.hold(lookup.customer(customer_id, target), until)
    emit(
        as_json,
        {"customer": customer.external_id, "hold_until": until.isoformat()},
        f"Customer {customer.external_id} on hold until {until}.",
    )


@click.group(context_settings=CONTEXT)
def dispute() -> None:
    """Disputes: a disputed invoice leaves dunning until resolved."""


@dispute.command("open")
@click.argument("invoice_id")
@click.option("--on", "day", type=DAY, required=True)
@click.option("--reason", default="")
@company_option
@json_option
def dispute_open(
    invoice_id: str, day: date, reason: str, company_code: str | None, as_json: bool
) -> None:
    """Open a dispute on INVOICE_ID."""
    from relance.services.dialogue import pauses
    from relance.services.ledger import lookup
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        opened = pauses.open_dispute(lookup.invoice(invoice_id, target), day, reason=reason)
    emit(
        as_json,
        {"invoice": invoice_id, "opened_on": day.isoformat(), "dispute": opened.pk},
        f"Dispute opened on invoice {invoice_id} on {day}.",
    )


@dispute.command("resolve")
@click.argument("invoice_id")
@click.option("--on", "day", type=DAY, required=True)
@click.option("--resolution", default="")
@company_option
@json_option
def dispute_resolve(
    invoice_id: str, day: date, resolution: str, company_code: str | None, as_json: bool
) -> None:
    """Resolve the open dispute on INVOICE_ID; dunning resumes if it is still unpaid."""
    from relance.services.dialogue import pauses
    from relance.services.ledger import lookup
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        pauses.resolve_dispute(lookup.invoice(invoice_id, target), day, resolution=resolution)
    emit(
        as_json,
        {"invoice": invoice_id, "resolved_on": day.isoformat()},
        f"Dispute on invoice {invoice_id} resolved on {day}.",
    )


@click.group(context_settings=CONTEXT)
def promise() -> None:
    """Promises to pay: promised invoices leave dunning until the promised date."""


@promise.command("add")
@click.argument("customer_id")
@click.option("--invoices", required=True, metavar="ID[,ID…]")
@click.option("--pay-by", type=DAY, required=True)
@click.option("--on", "day", type=DAY, required=True, help="The day the promise was made.")
@company_option
@json_option
def promise_add(
    customer_id: str,
    invoices: str,
    pay_by: date,
    day: date,
    company_code: str | None,
    as_json: bool,
) -> None:
    """Record CUSTOMER_ID's promise to pay some invoices by a date."""
    from relance.services.dialogue import pauses
    from relance.services.ledger import lookup
    from relance.services.organisation.companies import get_company

    ids = [i.strip() for i in invoices.split(",") if i.strip()]
    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        customer = lookup.customer(customer_id, target)
        made = pauses.add_promise(customer, lookup.invoices_of(customer, ids), pay_by, day)
    emit(
        as_json,
        {
            "customer": customer_id,
            "invoices": ids,
            "pay_by": pay_by.isoformat(),
            "on": day.isoformat(),
            "promise": made.pk,
        },
        f"Promise recorded: {customer_id} pays {', '.join(ids)} by {pay_by}.",
    )
