"""Set-based loading of what the engine needs for a batch of customers, as of one date.

A handful of queries per batch, whatever its size: open invoices with their amounts due computed by
the database from stored allocations, active disputes, open promises, recent history, contacts.
Rows are read as plain tuples into small immutable records, not model instances: a cycle reads
millions of values and the engine needs none of a model's behaviour.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from django.db import connection
from django.db.models import DecimalField, F, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce

from relance.domain import engine, first_run
from relance.domain.first_run import FirstRun
from relance.domain.plans.model import Plan as DomainPlan
from relance.domain.plans.reading import parse_plan
from relance.messaging.formatting import postal_lines
from relance.models import (
    AssignmentRules,
    Contact,
    Customer,
    DiscountProposal,
    Dispute,
    Execution,
    Invoice,
    PaymentPlan,
    Plan,
    Promise,
    Step,
)
from relance.models.documents import amount_due_sql, still_owed_sql
from relance.services.sql import fetch, sqlite_amount, sqlite_dates


def as_decimal(value: Any) -> Decimal:
    """An amount of amounts_due's rows as a Decimal, whatever the database."""
    return Decimal(value) if value.__class__ is int else sqlite_amount(value)


class Person(NamedTuple):
    """A staff member named in a message: the customer's owner or sales rep."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Debtor:
    """A customer as the cycle and the messages need it."""

    pk: int
    external_id: str
    name: str
    company_id: int
    company_code: str
    plan_id: int | None
    hold_until: date | None
    owner_id: int | None
    owner: Person | None
    sales_rep_id: int | None
    sales_rep: Person | None
    segment: str
    risk: str
    country: str
    currency: str
    credit_limit: Decimal | None
    language: str = "en"
    address: tuple[str, ...] = ()  # postal address lines, empty ones left out
    pays_by_bank_transfer: bool = True
    late_interest_rate: Decimal | None = None
    late_fees_waived: bool = False
    time_zone: str = "UTC"
    portal_version: int = 0  # what the customer's portal link must carry
    first_run: FirstRun | None = None  # the company's first-run policy; None: by age


_DEBTOR_COLUMNS = (
    "pk",
    "external_id",
    "name",
    "company_id",
    "company__code",
    "plan_id",
    "hold_until",
    "owner_id",
    "owner__first_name",
    "owner__last_name",
    "owner__email",
    "sales_rep_id",
    "sales_rep__first_name",
    "sales_rep__last_name",
    "sales_rep__email",
    "segment",
    "risk",
    "country",
    "currency",
    "credit_limit",
    "language",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "pays_by_bank_transfer",
    "late_interest_rate",
    "late_fees_waived",
    "time_zone",
    "portal_version",
    "company__first_run",
    "company__first_run_before",
)


def _person(pk: int | None, first: str | None, last: str | None, email: str | None) -> Any:
    if pk is None:
        return None
    return Person(f"{first or ''} {last or ''}".strip(), email or "")  # no name: templates say so


def debtors(
    customer_ids: Sequence[int],
    *,
    lock: bool = False,
    policy: tuple[str, date | None] | None = None,
) -> list[Debtor]:
    """These customers in primary-key order. `lock` (PostgreSQL): `FOR NO KEY UPDATE` of the
    customer rows, blocking, in that order, so two cycles on the same customers take turns.
    `policy` (first-run policy, date): used instead of the company's stored one, so the go-live
    projection composes under the policy being chosen without writing it."""
    query = Customer.objects.filter(pk__in=customer_ids).order_by("pk")
    if lock and connection.vendor == "postgresql":
        query = query.select_for_update(of=("self",), no_key=True)
    rows = fetch(query.values_list(*_DEBTOR_COLUMNS), dates=(6, 31), amounts=(19, 26))
    return [
        Debtor(
            pk=r[0],
            external_id=r[1],
            name=r[2],
            company_id=r[3],
            company_code=r[4],
            plan_id=r[5],
            hold_until=r[6],
            owner_id=r[7],
            owner=_person(*r[7:11]),
            sales_rep_id=r[11],
            sales_rep=_person(*r[11:15]),
            segment=r[15],
            risk=r[16],
            country=r[17],
            currency=r[18],
            credit_limit=r[19],
            language=r[20],
            address=postal_lines(*r[21:25]),
            pays_by_bank_transfer=bool(r[25]),
            late_interest_rate=r[26],
            late_fees_waived=bool(r[27]),
            time_zone=r[28] or "UTC",
            portal_version=r[29],
            first_run=first_run.of(*(policy or (r[30], r[31]))),
        )
        for r in rows
    ]


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

    customer: Debtor
    account: engine.Account
    history: list[engine.Past]
    invoice_pks: dict[str, int]  # external id -> pk
    contacts: list[Reachable] = field(default_factory=list)
    promises: dict[str, Promise] = field(default_factory=dict)  # promise id (str pk) -> row


@lru_cache(maxsize=64)
def _parsed(code: str, definition: bytes) -> DomainPlan:
    """Plans are parsed (and their templates checked) once per process and version: a page
    showing one customer's next steps would otherwise parse every plan on every view."""
    return parse_plan(orjson.loads(definition), code)


class PlanCache:
    """Every plan parsed once per batch (plans are few), by primary key and by company and code
    (codes are unique per company)."""

    def __init__(self) -> None:
        self._plans: dict[int, tuple[Plan, DomainPlan, dict[str, int]]] = {}
        steps: dict[int, dict[str, int]] = defaultdict(dict)
        for plan_id, name, pk in Step.objects.filter(active=True).values_list(
            "plan_id", "name", "pk"
        ):
            steps[plan_id][name] = pk
        for row in Plan.objects.all():
            self._plans[row.pk] = (
                row,
                _parsed(row.code, orjson.dumps(row.definition)),
                steps[row.pk],
            )
        self.codes = {(row.company_id, row.code): pk for pk, (row, _, _) in self._plans.items()}

    def of_company(self, company_id: int, code: str) -> int | None:
        """The primary key of the company's plan of that code."""
        return self.codes.get((company_id, code))

    def get(self, pk: int) -> tuple[Plan, DomainPlan, dict[str, int]]:
        return self._plans[pk]

    def max_delay(self) -> int:
        return max((p[1].min_contact_delay_days for p in self._plans.values()), default=0)


def _id_range(customer_ids: Sequence[int]) -> tuple[int, int] | None:
    """(lowest, highest) when the ids are (nearly) consecutive. A batch is a run of consecutive
    primary keys, and a range is far cheaper to build and to run than IN (10,000 ids); callers
    drop rows of customers not asked."""
    if customer_ids and max(customer_ids) - min(customer_ids) < 2 * len(customer_ids):
        return min(customer_ids), max(customer_ids)
    return None


def of_customers(customer_ids: list[int], field: str = "customer_id") -> Q:
    """Rows of these customers (see `_id_range`)."""
    if span := _id_range(customer_ids):
        return Q(**{f"{field}__gte": span[0], f"{field}__lte": span[1]})
    return Q(**{f"{field}__in": customer_ids})


def _customer_filter(column: str, customer_ids: Sequence[int]) -> tuple[str, list[Any]]:
    """`of_customers` as SQL text and parameters."""
    if span := _id_range(customer_ids):
        return f"{column} BETWEEN %s AND %s", list(span)
    return f"{column} IN ({', '.join(['%s'] * len(customer_ids))})", list(customer_ids)


def amounts_due(customer_ids: Sequence[int], day: date) -> list[tuple]:
    """(pk, customer, external id, number, issued, due, currency, amount due, total) of every
    invoice issued by `day`, not void, with something left to pay on `day`.

    Hand-written SQL read without Django's converters: this is the cycle's largest read (about
    ten invoices per customer) and converting its values dominated the whole cycle. Rows of
    customers outside `customer_ids` may come back when the ids are a range with gaps.
    Something left: still owed as relance.models.documents.PAID_BELOW says."""
    if not customer_ids:
        return []
    customers, params = _customer_filter("i.customer_id", customer_ids)
    sqlite = connection.vendor == "sqlite"
    # An expression has no declared type, so SQLite's connection leaves its text alone.
    issued, due = (
        ("i.issue_date || ''", "i.due_date || ''") if sqlite else ("i.issue_date", "i.due_date")
    )
    invoice = Invoice._meta.db_table
    sql = f"""
        SELECT * FROM (
            SELECT i.id, i.customer_id, i.external_id, i.number, {issued} AS issued,
                   {due} AS due, i.currency,
                   {amount_due_sql("i", as_of="%s")} AS amount,
                   i.total
            FROM {invoice} AS i
            WHERE {customers} AND i.issue_date <= %s AND i.status <> %s
        ) AS owed WHERE {still_owed_sql("amount")}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, *params, day, Invoice.Status.VOID.value])
        rows = cursor.fetchall()
    if not sqlite:
        return rows
    to_date, to_amount = sqlite_dates(), sqlite_amount
    converted = []
    for pk, cust, ext, number, issued_on, due_on, currency, amount, total in rows:
        owed = to_amount(amount)
        converted.append(
            (
                pk,
                cust,
                ext,
                number,
                to_date(issued_on),
                to_date(due_on),
                currency,
                owed,
                owed if total == amount else to_amount(total),  # nothing paid: the same value
            )
        )
    return converted


def load(customers: list[Debtor], day: date, history_days: int) -> list[CustomerSnapshot]:
    """Snapshots of these customers on `day`; history older than `history_days` is only loaded
    for invoices still open (the contact rule never looks further back). One query per kind of
    row for the whole batch, never one per customer."""
    ids = [c.pk for c in customers]
    items, pks = _open_items(ids, day)
    promises, promised = _open_promises(ids, day)
    history = _history(ids, day, history_days, pks)
    started = _started([c.pk for c in customers if c.first_run and c.first_run.starts_at_step1])
    contacts = _contacts(ids)
    snapshots = []
    for customer in customers:
        cust_promises = promises.get(customer.pk, {})
        account = engine.Account(
            customer.external_id,
            tuple(items.get(customer.pk, ())),
            hold_until=customer.hold_until,
            company=customer.company_code,
            first_run=customer.first_run,
            started=started.get(customer.pk, ()),
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


def _out_of_dunning(ids: list[int], day: date) -> tuple[set[int], set[int]]:
    """Invoices disputed on `day`, and those the customer is settling otherwise (DESIGN §3)."""
    disputed = set(
        Dispute.objects.filter(of_customers(ids), opened_on__lte=day)
        .filter(Q(resolved_on__isnull=True) | Q(resolved_on__gt=day))
        .values_list("invoice_id", flat=True)
    )
    planned = set(  # in a payment plan asked for or kept: out of dunning (DESIGN §3)
        PaymentPlan.invoices.through.objects.filter(
            of_customers(ids, "paymentplan__customer_id"),
            paymentplan__status__in=PaymentPlan.PAUSING,
        ).values_list("invoice_id", flat=True)
    ) | set(  # an early-payment discount taken, waiting for staff: its rest is not chased
        DiscountProposal.objects.filter(
            of_customers(ids), status=DiscountProposal.Status.PROPOSED
        ).values_list("invoice_id", flat=True)
    )
    return disputed, planned


def _open_items(
    ids: list[int], day: date
) -> tuple[dict[int, list[engine.Item]], dict[int, dict[str, int]]]:
    """Per customer: the engine's items owed on `day`, and their primary keys by external id."""
    rows = amounts_due(ids, day)
    disputed, planned = _out_of_dunning(ids, day)
    items: dict[int, list[engine.Item]] = defaultdict(list)
    pks: dict[int, dict[str, int]] = defaultdict(dict)
    item = engine.Item
    for pk, cust, ext, number, issued, due, currency, amount, total in rows:
        items[cust].append(
            item(
                ext,
                number,
                issued,
                due,
                currency,
                amount,
                False,
                pk in disputed,
                pk in planned,
                total,
            )
        )
        pks[cust][ext] = pk
    return items, pks


def _open_promises(
    ids: list[int], day: date
) -> tuple[dict[int, dict[str, Promise]], dict[int, list[str]]]:
    """Per customer their open promises by id; per promise the external ids of its invoices."""
    promises: dict[int, dict[str, Promise]] = defaultdict(dict)
    promised: dict[int, list[str]] = defaultdict(list)
    open_promises = Promise.objects.filter(
        of_customers(ids), status=Promise.Status.OPEN, promised_on__lte=day
    )
    for promise in open_promises:
        promises[promise.customer_id][str(promise.pk)] = promise
    for promise_id, ext in (
        Promise.invoices.through.objects.filter(promise__in=open_promises)
        .order_by(  # rule 3's order: the missed-payment notice lists them the same way everywhere
            "invoice__due_date", "invoice__issue_date", "invoice__number", "invoice__external_id"
        )
        .values_list("promise_id", "invoice__external_id")
    ):
        promised[promise_id].append(ext)
    return promises, promised


def _history(
    ids: list[int], day: date, history_days: int, pks: dict[int, dict[str, int]]
) -> dict[int, list[engine.Past]]:
    history: dict[int, list[engine.Past]] = defaultdict(list)
    recent = day - timedelta(days=history_days)
    for cust, plan, step, ref, rep, when, facing in fetch(
        Execution.objects.filter(of_customers(ids), date__lte=day)
        .order_by()
        .values_list(
            "customer_id",
            "plan_code",
            "step_name",
            "reference_external_id",
            "repetition",
            "date",
            "customer_facing",
        ),
        dates=(5,),
    ):
        # Only what the engine can use: steps about invoices still open, and recent contacts.
        if ref in pks.get(cust, ()) or (facing and when >= recent):
            history[cust].append(engine.Past(plan, step, ref, rep, when, False, bool(facing)))
    return history


def _started(ids: list[int]) -> dict[int, tuple[tuple[str, date], ...]]:
    """Per customer of a company whose policy is 'step 1': (plan code, day of its first execution
    in that plan), which the history loaded for the engine may no longer show (domain.first_run).
    No query for the others."""
    if not ids:
        return {}
    started: dict[int, list[tuple[str, date]]] = defaultdict(list)
    for cust, plan, first in fetch(
        Execution.objects.filter(of_customers(ids))
        .exclude(plan_code="")
        .values_list("customer_id", "plan_code")
        .order_by()
        .annotate(first=Min("date"))
        .values_list("customer_id", "plan_code", "first"),
        dates=(2,),
    ):
        started[cust].append((plan, first))
    return {cust: tuple(days) for cust, days in started.items()}


def _contacts(ids: list[int]) -> dict[int, list[Reachable]]:
    contacts: dict[int, list[Reachable]] = defaultdict(list)
    for cust, name, email, phone, roles, bounced in fetch(
        Contact.objects.filter(of_customers(ids))
        .order_by("pk")
        .values_list("customer_id", "name", "email", "phone", "roles", "bounced"),
        jsons=(4,),
    ):
        contacts[cust].append(Reachable(name, email, phone, roles, bool(bounced)))
    return contacts


def unpaid(items: Iterable[engine.Item], ids: Collection[str] | None = None) -> list[engine.Item]:
    """The items with something left to pay (those of `ids` when given), in rule 3's order:
    what a message outside the plans lists."""
    return sorted(
        (i for i in items if i.amount_due > 0 and (ids is None or i.id in ids)),
        key=engine.Item.sort_key,
    )


def unpaid_of(customer_pk: int, day: date, ids: Collection[str] | None = None) -> list[engine.Item]:
    """One customer's unpaid invoices on `day` (see `unpaid`)."""
    [debtor] = debtors([customer_pk])
    [snap] = load([debtor], day, history_days=0)
    return unpaid(snap.account.items, ids)


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
