"""A segment of customers as criteria (segment, risk, plan, people, lateness, state, what they owe,
how they pay): the customers list filters by it and a campaign is sent to it. Criteria are plain
strings, as a form or a stored campaign gives them; an empty one means "any"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from relance.models import Customer, Dispute, Promise

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
    match chosen("owes"):  # an unpaid invoice, due or not
        case "yes":
            query = query.filter(oldest_unpaid_due__isnull=False)
        case "no":
            query = query.filter(oldest_unpaid_due=None)
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
