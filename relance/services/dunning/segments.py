"""A segment of customers as criteria (segment, risk, plan, people, lateness, state, what they owe,
how they pay, how overdue and how much): the customers list filters by it and a campaign is sent
to it. Criteria are plain
strings, as a form or a stored campaign gives them; an empty one means "any"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum

from relance.models import Customer, Dispute, Invoice, Promise
from relance.models.documents import amount_due_expression

NO_PLAN = "-"  # customers whose plan the assignment rules choose
LATENESS = ("current", "1-30", "31-60", "61-90", "91-", "paid")
FLAGS = ("hold", "dispute", "promise")
YES, NO = "yes", "no"


def matching(
    query: QuerySet[Customer], criteria: Mapping[str, str], today: date
) -> QuerySet[Customer]:
    """The customers of `query` that meet every criterion given."""

    def chosen(name: str) -> str:
        return str(criteria.get(name) or "")

    if search := chosen("q").strip():
        query = query.filter(Q(name__icontains=search) | Q(external_id__icontains=search))
    if company := chosen("company"):
        query = query.filter(company__code=company)
    if segment := chosen("segment"):
        query = query.filter(segment=segment)
    if risk := chosen("risk"):
        query = query.filter(risk=risk)
    if plan := chosen("plan"):
        query = query.filter(plan=None) if plan == NO_PLAN else query.filter(plan__code=plan)
    if (rep := chosen("rep")).isdigit():
        query = query.filter(sales_rep_id=int(rep))
    if (owner := chosen("owner")).isdigit():
        query = query.filter(owner_id=int(owner))
    if (late := chosen("late")) in LATENESS:
        query = _late(query, late, today)
    match chosen("flag"):
        case "hold":
            query = query.filter(hold_until__gte=today)
        case "dispute":
            disputes = Dispute.objects.filter(customer=OuterRef("pk"), resolved_on=None)
            query = query.filter(Exists(disputes))
        case "promise":
            promises = Promise.objects.filter(customer=OuterRef("pk"), status=Promise.Status.OPEN)
            query = query.filter(Exists(promises))
    match chosen("owes"):
        case "yes":  # an unpaid invoice, due or not
            query = query.filter(oldest_unpaid_due__isnull=False)
        case "overdue":  # an unpaid invoice past its due date
            query = query.filter(oldest_unpaid_due__lt=today)
        case "no":
            query = query.filter(oldest_unpaid_due=None)
    if (days := chosen("late_over")).isdigit():  # overdue by more than N days
        query = query.filter(oldest_unpaid_due__lt=today - timedelta(days=int(days)))
    if (amount := _amount(chosen("owed_over"))) is not None:
        query = query.filter(pk__in=_owing_more_than(amount, today))
    match chosen("bank_transfer"):
        case "yes":
            query = query.filter(pays_by_bank_transfer=True)
        case "no":
            query = query.filter(pays_by_bank_transfer=False)
    return query


def _late(query: QuerySet[Customer], bucket: str, today: date) -> QuerySet[Customer]:
    """Customers by how late their oldest unpaid invoice is (Customer.oldest_unpaid_due)."""
    if bucket == "paid":
        return query.filter(oldest_unpaid_due=None)
    if bucket == "current":
        return query.filter(oldest_unpaid_due__gte=today)
    low, _sep, high = bucket.partition("-")
    query = query.filter(oldest_unpaid_due__lte=today - timedelta(days=int(low)))
    if high:
        query = query.filter(oldest_unpaid_due__gte=today - timedelta(days=int(high)))
    return query


def _amount(text: str) -> Decimal | None:
    """A criterion's amount as a form gives it ("1500", "1 500,50"); None when it is not one."""
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace("\u202f", "").replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    return amount if cleaned and amount.is_finite() and amount >= 0 else None


def _owing_more_than(amount: Decimal, today: date) -> QuerySet[Any, Any]:
    """Customers owing more than `amount` in their company's currency (amounts in another
    currency are not added to it: never sum two currencies)."""
    open_invoices = Invoice.objects.filter(
        status=Invoice.Status.OPEN, currency=F("company__currency")
    ).annotate(due=amount_due_expression(as_of=today))
    return (
        open_invoices.values("customer_id")
        .annotate(owed=Sum("due"))
        .filter(owed__gt=amount)
        .values("customer_id")
    )
