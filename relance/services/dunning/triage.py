"""Which customers a day's cycle must look at, in one SQL query, so that a quiet day costs little
more than reading the ledger once.

The engine stays the only judge of what is due; triage only leaves out customers for whom it is
certain the engine decides nothing, and errs towards looking. A customer with an explicit plan,
not on hold, is looked at when one of its invoices is *pending*: something is left to pay on it
(any amount: tolerance and disputes are ignored here, which only widens the set), a step of the
plan is due for it, no execution of that plan has it as reference at that step or a later one
(rule 4), and it may be the reference invoice (rule 3), i.e. no invoice that is *certainly open*
comes before it in rule 3's order. Certainly open means: more than the plan's tolerance plus half
a ten-thousandth left to pay (SQLite computes amounts as REAL; amounts have four decimals at
most, so this margin absorbs its rounding), not void, issued, not disputed, in no payment plan,
with no early-payment discount to confirm. Whichever invoice the engine then takes as reference,
it is not pending, so every due step of it has run.

A company's first-run policy (domain.first_run) is read the same way: invoices a policy 'ignore
before' leaves out are not owed here either (another invoice may then be the reference); 'step 1'
only ever delays steps, so the steps due by the invoices' own dates are a superset of its own.

Always looked at: customers without a plan (assignment rules may give one), customers with an open
promise (its end changes the open set and may send a notice), and customers on plans whose last
step repeats (rule 7 counts from the last run, which triage does not follow).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q

from relance.models import AssignmentRules, Customer, PaymentPlan, Plan, Promise, Step
from relance.models.documents import amount_due_sql, still_owed_sql


def _due_steps(day: date) -> list[tuple[Any, ...]]:
    """(plan, position, 1 when triggered from the issue date, latest base date for the step to
    be due on `day`) of every active step: a step is due when its base date <= that cutoff, so
    the query needs no date arithmetic (which SQLite and PostgreSQL spell differently)."""
    return [
        (plan, position, int(source == "issue_date"), day - timedelta(days=days))
        for plan, position, source, days in Step.objects.filter(active=True).values_list(
            "plan_id", "position", "trigger_from", "trigger_days"
        )
    ]


def _position_sql(day: date) -> tuple[str, list[Any]]:
    """SQL giving, for open invoice `o`, the position of the most advanced step of its
    customer's plan due on `day` (NULL when none is): a CASE per plan, steps from the last, so
    the query needs no subquery per invoice. Plan ids and positions are integers from the
    database, written into the text; the dates are parameters."""
    by_plan: dict[int, list[tuple[int, int, date]]] = defaultdict(list)
    for plan, position, from_issue, cutoff in _due_steps(day):
        by_plan[plan].append((position, from_issue, cutoff))
    if not by_plan:  # typed: PostgreSQL takes a bare NULL in a CTE column for text
        return "CAST(NULL AS INTEGER)", []
    plans, params = [], []
    for plan, steps in by_plan.items():
        whens = []
        for position, from_issue, cutoff in sorted(steps, reverse=True):
            base = "o.issue_date" if from_issue else "o.due_date"
            whens.append(f"WHEN {base} <= %s THEN {int(position)}")
            params.append(cutoff)
        plans.append(f"WHEN o.plan_id = {int(plan)} THEN CASE {' '.join(whens)} END")
    return f"CASE {' '.join(plans)} END", params


def _values(rows: list[tuple[Any, ...]], nothing: tuple[Any, ...]) -> tuple[str, list[Any]]:
    """A VALUES list for a CTE; when `rows` is empty, the row `nothing` (of plan 0, which matches
    no plan) keeps the column types PostgreSQL infers from the values."""
    rows = rows or [nothing]
    marks = "(" + ", ".join(["%s"] * len(nothing)) + ")"
    return ", ".join([marks] * len(rows)), [v for row in rows for v in row]


def _tolerances() -> list[tuple[int, str, float]]:
    """(plan, currency, tolerance) of every plan; floats are exact enough given the margin."""
    return [
        (pk, currency, float(amount))
        for pk, tolerance in Plan.objects.values_list("pk", "tolerance")
        for currency, amount in (tolerance or {}).items()
    ]


def _rule_3_key(alias: str) -> str:
    """SQL text that sorts as rule 3 orders invoices (due date, issue date, number, id): the ISO
    dates are fixed-width, and CHAR(1) after the number sorts before any character a number
    holds, so a number that is a prefix of another still comes first. Compared in code point
    order, as Python compares strings: SQLite's BINARY collation, PostgreSQL's "C"."""
    if connection.vendor == "postgresql":
        return (
            f"(to_char({alias}.due_date, 'YYYY-MM-DD') || to_char({alias}.issue_date, "
            f"'YYYY-MM-DD') || {alias}.number || CHR(1) || {alias}.external_id) COLLATE \"C\""
        )
    return (
        f"({alias}.due_date || {alias}.issue_date || {alias}.number || CHAR(1) "
        f"|| {alias}.external_id)"
    )


#: Payment plan states that keep invoices out of dunning, as SQL (fixed words, not user input).
PAUSING = "(" + ", ".join(f"'{status}'" for status in PaymentPlan.PAUSING) + ")"


def _pending_sql(
    day: date, company_id: int | None, span: tuple[int, int] | None = None
) -> tuple[str, list[Any]]:
    """SQL of the customers with a pending invoice (see the module's docstring), in two passes
    over the open invoices: the first finds each customer's first certainly open invoice in
    rule 3's order, the second looks for a pending invoice up to it. The execution history is
    only searched for those few invoices, not for every open one: this query is most of the
    cost of a quiet day."""
    position, position_params = _position_sql(day)
    tolerances, tolerance_params = _values(_tolerances(), (0, "", 0.0))
    company = "AND c.company_id = %s" if company_id is not None else ""
    within = "AND i.customer_id BETWEEN %s AND %s" if span else ""
    sql = f"""
        WITH tolerance (plan_id, currency, amount) AS (VALUES {tolerances}),
        owed AS (
            SELECT i.id, i.customer_id, c.plan_id, p.code AS plan_code, i.currency,
                   i.issue_date, i.due_date, {_rule_3_key("i")} AS rank_key,
                   {amount_due_sql("i", as_of="%s")} AS amount
            FROM relance_invoice AS i
            JOIN relance_customer AS c ON c.id = i.customer_id
            JOIN relance_plan AS p ON p.id = c.plan_id
            JOIN relance_company AS co ON co.id = c.company_id
            WHERE i.status <> 'void' AND i.issue_date <= %s
              AND (co.first_run_before IS NULL OR i.due_date >= co.first_run_before)
              AND (c.hold_until IS NULL OR c.hold_until < %s) {company} {within}
        ),
        firsts AS (
            SELECT o.customer_id, MIN(o.rank_key) AS rank_key
            FROM owed AS o
            LEFT JOIN tolerance AS t ON t.plan_id = o.plan_id AND t.currency = o.currency
            WHERE {still_owed_sql("o.amount", tolerance="COALESCE(t.amount, 0)")}
              AND NOT EXISTS (
                  SELECT 1 FROM relance_dispute AS d
                  WHERE d.invoice_id = o.id AND d.opened_on <= %s
                    AND (d.resolved_on IS NULL OR d.resolved_on > %s)
              )
              AND NOT EXISTS (
                  SELECT 1 FROM relance_discountproposal AS dp
                  WHERE dp.invoice_id = o.id AND dp.status = 'proposed'
              )
              AND NOT EXISTS (
                  SELECT 1 FROM relance_paymentplan_invoices AS ppi
                  JOIN relance_paymentplan AS pp ON pp.id = ppi.paymentplan_id
                  WHERE ppi.invoice_id = o.id AND pp.status IN {PAUSING}
              )
            GROUP BY o.customer_id
        ),
        candidates AS (
            SELECT o.id, o.customer_id, o.plan_id, o.plan_code, {position} AS position
            FROM owed AS o
            LEFT JOIN firsts AS f ON f.customer_id = o.customer_id
            WHERE o.amount > 0 AND (f.rank_key IS NULL OR o.rank_key <= f.rank_key)
        )
        SELECT DISTINCT x.customer_id FROM candidates AS x
        WHERE x.position IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM relance_execution AS e
            JOIN relance_step AS es ON es.id = e.step_id
            WHERE e.customer_id = x.customer_id AND e.reference_invoice_id = x.id
              AND e.date <= %s AND e.plan_code = x.plan_code AND es.plan_id = x.plan_id
              AND es.active AND es.position >= x.position
        )
    """
    params = [*tolerance_params, day, day, day]
    if company_id is not None:
        params.append(company_id)
    params += span or ()
    params += [day, day, *position_params, day]
    return sql, params


def customers_to_look_at(
    day: date, company_id: int | None = None, span: tuple[int, int] | None = None
) -> list[int]:
    """Primary keys, in order, of the customers the cycle of `day` must evaluate (among those
    whose key is within `span`, first and last included)."""
    customers = Customer.objects.all()
    if company_id is not None:
        customers = customers.filter(company_id=company_id)
    if span:
        customers = customers.filter(pk__range=span)
    rules = AssignmentRules.objects.all()
    if company_id is not None:
        rules = rules.filter(Q(company_id=company_id) | Q(company__isnull=True))
    found: set[int] = set()
    if rules.exists():
        found.update(customers.filter(plan__isnull=True).values_list("pk", flat=True))
    found.update(
        Promise.objects.filter(
            customer__in=customers, status=Promise.Status.OPEN, promised_on__lte=day
        ).values_list("customer_id", flat=True)
    )
    repeating = Plan.objects.filter(repeat_last_every_days__isnull=False)
    found.update(customers.filter(plan__in=repeating).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(*_pending_sql(day, company_id, span))
        found.update(pk for (pk,) in cursor.fetchall())
    return sorted(found)


def in_batches(ids: list[int], batch_size: int) -> list[list[int]]:
    return [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
