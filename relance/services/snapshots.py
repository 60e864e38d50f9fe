"""Set-based loading of what the engine needs for a batch of customers, as of one date.

A handful of queries per batch, whatever its size: open invoices with their amounts due computed by
the database from stored allocations, active disputes, open promises, recent history, contacts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db.models import DecimalField, F, Max, Q, Sum, Value
from django.db.models.functions import Coalesce

from relance.domain import engine
from relance.domain.plans import Plan as DomainPlan
from relance.domain.plans import parse_plan
from relance.models import (
    AssignmentRules,
    Contact,
    Customer,
    Dispute,
    Execution,
    Invoice,
    Plan,
    Promise,
    Step,
)


class Reachable(NamedTuple):
    """A contact as the cycle needs it: who, how to reach them, in which roles."""

    name: str
    email: str
    phone: str
    roles: list[str]
    bounced: bool


@dataclass
class CustomerSnapshot:
    """One customer's account for the engine plus what the cycle needs to act on a decision."""

    customer: Customer
    account: engine.Account
    history: list[engine.Past]
    invoice_pks: dict[str, int]  # external id -> pk
    contacts: list[Reachable] = field(default_factory=list)
    promises: dict[str, Promise] = field(default_factory=dict)  # promise id (str pk) -> row


class PlanCache:
    """Every plan parsed once per batch (plans are few), by primary key and by code."""

    def __init__(self) -> None:
        self._plans: dict[int, tuple[Plan, DomainPlan, dict[str, int]]] = {}
        steps: dict[int, dict[str, int]] = defaultdict(dict)
        for plan_id, name, pk in Step.objects.filter(active=True).values_list(
            "plan_id", "name", "pk"
        ):
            steps[plan_id][name] = pk
        for row in Plan.objects.all():
            self._plans[row.pk] = (row, parse_plan(row.definition, row.code), steps[row.pk])
        self.codes = {row.code: pk for pk, (row, _, _) in self._plans.items()}

    def get(self, pk: int) -> tuple[Plan, DomainPlan, dict[str, int]]:
        return self._plans[pk]

    def max_delay(self) -> int:
        return max((p[1].min_contact_delay_days for p in self._plans.values()), default=0)


def of_customers(customer_ids: list[int], field: str = "customer_id") -> Q:
    """Rows of these customers. A batch is a run of consecutive primary keys, and a range is far
    cheaper to build and to run than IN (10,000 ids); callers drop rows of customers not asked."""
    if customer_ids and max(customer_ids) - min(customer_ids) < 2 * len(customer_ids):
        return Q(**{f"{field}__gte": min(customer_ids), f"{field}__lte": max(customer_ids)})
    return Q(**{f"{field}__in": customer_ids})


def amounts_due(customer_ids: list[int], day: date) -> list[tuple]:
    """(pk, customer, external id, number, issued, due, currency, amount due) of every invoice
    issued by `day`, not void, with something left to pay on `day`."""
    settled = Coalesce(
        Sum("allocations__amount", filter=Q(allocations__date__lte=day)),
        Value(Decimal(0)),
        output_field=DecimalField(max_digits=18, decimal_places=4),
    )
    return list(
        Invoice.objects.filter(of_customers(customer_ids), issue_date__lte=day)
        .exclude(status=Invoice.Status.VOID)
        .annotate(due=F("total") - settled)
        .filter(due__gt=0)
        .order_by()
        .values_list(
            "pk",
            "customer_id",
            "external_id",
            "number",
            "issue_date",
            "due_date",
            "currency",
            "due",
        )
    )


def load(customers: list[Customer], day: date, history_days: int) -> list[CustomerSnapshot]:
    """Snapshots of these customers on `day`; history older than `history_days` is only loaded
    for invoices still open (the contact rule never looks further back)."""
    ids = [c.pk for c in customers]
    rows = amounts_due(ids, day)
    disputed = set(
        Dispute.objects.filter(of_customers(ids), opened_on__lte=day)
        .filter(Q(resolved_on__isnull=True) | Q(resolved_on__gt=day))
        .values_list("invoice_id", flat=True)
    )
    items: dict[int, list[engine.Item]] = defaultdict(list)
    pks: dict[int, dict[str, int]] = defaultdict(dict)
    for pk, cust, ext, number, issued, due, currency, amount in rows:
        items[cust].append(
            engine.Item(ext, number, issued, due, currency, amount, disputed=pk in disputed)
        )
        pks[cust][ext] = pk

    promises: dict[int, dict[str, Promise]] = defaultdict(dict)
    promised: dict[int, list[str]] = defaultdict(list)
    open_promises = Promise.objects.filter(
        of_customers(ids), status=Promise.Status.OPEN, promised_on__lte=day
    )
    for promise in open_promises:
        promises[promise.customer_id][str(promise.pk)] = promise
    for promise_id, ext in Promise.invoices.through.objects.filter(
        promise__in=open_promises
    ).values_list("promise_id", "invoice__external_id"):
        promised[promise_id].append(ext)

    history: dict[int, list[engine.Past]] = defaultdict(list)
    recent = day - timedelta(days=history_days)
    for cust, plan, step, ref, rep, when, status, facing in Execution.objects.filter(
        of_customers(ids), date__lte=day
    ).values_list(
        "customer_id",
        "plan_code",
        "step_name",
        "reference_external_id",
        "repetition",
        "date",
        "status",
        "customer_facing",
    ):
        # Only what the engine can use: steps about invoices still open, and recent contacts.
        if ref in pks.get(cust, ()) or (facing and when >= recent):
            skipped = status == Execution.Status.SKIPPED
            history[cust].append(engine.Past(plan, step, ref, rep, when, skipped, facing))

    contacts: dict[int, list[Reachable]] = defaultdict(list)
    for cust, *fields in (
        Contact.objects.filter(of_customers(ids))
        .order_by("pk")
        .values_list("customer_id", "name", "email", "phone", "roles", "bounced")
    ):
        contacts[cust].append(Reachable(*fields))

    snapshots = []
    for customer in customers:
        cust_promises = promises.get(customer.pk, {})
        account = engine.Account(
            customer.external_id,
            tuple(items.get(customer.pk, ())),
            hold_until=customer.hold_until,
            company=customer.company.code,
            promises=tuple(
                engine.Promise(pid, tuple(promised.get(int(pid), ())), p.pay_by)
                for pid, p in cust_promises.items()
            ),
        )
        snapshots.append(
            CustomerSnapshot(
                customer,
                account,
                history.get(customer.pk, []),
                pks.get(customer.pk, {}),
                contacts.get(customer.pk, []),
                cust_promises,
            )
        )
    return snapshots


def customers_in_batches(
    day: date, batch_size: int, company_id: int | None = None
) -> list[list[int]]:
    """Primary keys of the customers a cycle looks at, in batches: those with a plan, and every
    customer when assignment rules may give one."""
    query = Customer.objects.all()
    if company_id is not None:
        query = query.filter(company_id=company_id)
    rules = AssignmentRules.objects.all()
    if company_id is not None:
        rules = rules.filter(Q(company_id=company_id) | Q(company__isnull=True))
    if not rules.exists():
        query = query.filter(plan__isnull=False)
    ids = list(query.order_by("pk").values_list("pk", flat=True))
    return [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]


def paid_invoices(
    customer_ids: list[int], day: date
) -> dict[int, list[tuple[date, date, Decimal]]]:
    """(due date, date fully paid, total) of invoices settled in the year before `day`, for the
    payment-behaviour rules (average days late)."""
    settled = Coalesce(
        Sum("allocations__amount", filter=Q(allocations__date__lte=day)),
        Value(Decimal(0)),
        output_field=DecimalField(max_digits=18, decimal_places=4),
    )
    paid_on = Max("allocations__date", filter=Q(allocations__date__lte=day))
    rows = (
        Invoice.objects.filter(customer_id__in=customer_ids, issue_date__lte=day, total__gt=0)
        .exclude(status=Invoice.Status.VOID)
        .annotate(settled=settled, paid_on=paid_on)
        .filter(settled__gte=F("total"), paid_on__gt=day - timedelta(days=365))
        .order_by()
        .values_list("customer_id", "due_date", "paid_on", "total")
    )
    found: dict[int, list[tuple[date, date, Decimal]]] = defaultdict(list)
    for customer, due, paid, total in rows:
        found[customer].append((due, paid, total))
    return found
