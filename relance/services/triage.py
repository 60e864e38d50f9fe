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
most, so this margin absorbs its rounding), not void, issued, not disputed. Whichever invoice the
engine then takes as reference, it is not pending, so every due step of it has run.

Always looked at: customers without a plan (assignment rules may give one), customers with an open
promise (its end changes the open set and may send a notice), and customers on plans whose last
step repeats (rule 7 counts from the last run, which triage does not follow).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q

from relance.models import AssignmentRules, Customer, Plan, Promise, Step


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


def _pending_sql(day: date, company_id: int | None) -> tuple[str, list[Any]]:
    """SQL of the customers with a pending invoice (see the module's docstring)."""
    steps, step_params = _values(_due_steps(day), (0, 0, 0, day))
    tolerances, tolerance_params = _values(_tolerances(), (0, "", 0.0))
    # Rule 3 compares numbers and ids as Python compares strings: code point order, which is
    # SQLite's BINARY collation and PostgreSQL's "C" collation.
    text = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    company = "AND c.company_id = %s" if company_id is not None else ""
    sql = f"""
        WITH steps (plan_id, position, from_issue, cutoff) AS (VALUES {steps}),
        tolerance (plan_id, currency, amount) AS (VALUES {tolerances}),
        settled AS (
            SELECT invoice_id, SUM(amount) AS amount FROM relance_allocation
            WHERE date <= %s GROUP BY invoice_id
        ),
        owed AS (
            SELECT i.id, i.customer_id, c.plan_id, p.code AS plan_code, i.issue_date,
                   i.due_date, i.number{text} AS number, i.external_id{text} AS external_id,
                   i.currency, i.total - COALESCE(s.amount, 0) AS amount
            FROM relance_invoice AS i
            JOIN relance_customer AS c ON c.id = i.customer_id
            JOIN relance_plan AS p ON p.id = c.plan_id
            LEFT JOIN settled AS s ON s.invoice_id = i.id
            WHERE i.status <> 'void' AND i.issue_date <= %s
              AND i.total - COALESCE(s.amount, 0) > 0
              AND (c.hold_until IS NULL OR c.hold_until < %s) {company}
        ),
        pending AS (
            SELECT * FROM (
                SELECT o.*, (
                    SELECT MAX(st.position) FROM steps AS st
                    WHERE st.plan_id = o.plan_id AND (
                        (st.from_issue = 1 AND o.issue_date <= st.cutoff)
                        OR (st.from_issue = 0 AND o.due_date <= st.cutoff)
                    )
                ) AS position
                FROM owed AS o
            ) AS due WHERE position IS NOT NULL
        ),
        certain AS (
            SELECT o.customer_id, o.due_date, o.issue_date, o.number, o.external_id,
                   ROW_NUMBER() OVER (
                       PARTITION BY o.customer_id
                       ORDER BY o.due_date, o.issue_date, o.number, o.external_id
                   ) AS rank
            FROM owed AS o
            LEFT JOIN tolerance AS t ON t.plan_id = o.plan_id AND t.currency = o.currency
            WHERE o.amount > COALESCE(t.amount, 0) + 0.00005
              AND NOT EXISTS (
                  SELECT 1 FROM relance_dispute AS d
                  WHERE d.invoice_id = o.id AND d.opened_on <= %s
                    AND (d.resolved_on IS NULL OR d.resolved_on > %s)
              )
        ),
        first AS (SELECT * FROM certain WHERE rank = 1)
        SELECT DISTINCT x.customer_id
        FROM pending AS x
        LEFT JOIN first AS f ON f.customer_id = x.customer_id
        WHERE NOT EXISTS (
            SELECT 1 FROM relance_execution AS e
            JOIN relance_step AS es ON es.id = e.step_id
            WHERE e.customer_id = x.customer_id AND e.reference_invoice_id = x.id
              AND e.date <= %s AND e.plan_code = x.plan_code AND es.plan_id = x.plan_id
              AND es.active AND es.position >= x.position
        )
        AND NOT (
            f.customer_id IS NOT NULL
            AND (f.due_date, f.issue_date, f.number, f.external_id)
                < (x.due_date, x.issue_date, x.number, x.external_id)
        )
    """
    params = [*step_params, *tolerance_params, day, day, day]
    if company_id is not None:
        params.append(company_id)
    params += [day, day, day]
    return sql, params


def customers_to_look_at(day: date, company_id: int | None = None) -> list[int]:
    """Primary keys, in order, of the customers the cycle of `day` must evaluate."""
    customers = Customer.objects.all()
    if company_id is not None:
        customers = customers.filter(company_id=company_id)
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
        cursor.execute(*_pending_sql(day, company_id))
        found.update(pk for (pk,) in cursor.fetchall())
    return sorted(found)


def in_batches(ids: list[int], batch_size: int) -> list[list[int]]:
    return [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
