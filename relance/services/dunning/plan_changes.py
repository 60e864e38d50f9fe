"""The customers an import moves to another dunning plan, for the import job's page.

A plan comes from the customer (an explicit plan) or from the first assignment rule that matches
(services/dunning/plan_choice.py): an import of customers changes the plan itself or the facts
the rules read (segment, risk, country, currency, credit limit); an import of invoices, credit
notes or payments changes the balance and the lateness, which rules on credit limit use and
average days late read. `PlanChanges` watches one import (services/ledger/import_watch.py) and
compares each concerned customer's plan, as the cycle would choose it on the company's today,
before and after, inside the import's transaction: a check reports what its import would do
before it is rolled back.

Its cost follows the file, not the company: only the customers the file's rows concern are
looked at, and only when their plan can move at all. Customers: those whose plan-deciding fields
the file changes (their former values are kept, the ledger being untouched by such a file, so
both plans are computed at the end from one load). Invoices, credit notes, payments: nothing
when no rule applicable to the company reads the ledger; otherwise the customers without an
explicit plan, their "before" plan computed chunk by chunk before the chunk is written. New
customers had no plan to change from: they are counted as created, not here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from relance.domain import assignment, engine
from relance.models import Company, CreditNote, Customer, Invoice, Payment
from relance.services.dunning import plans as plan_service
from relance.services.dunning.plan_choice import plans_of
from relance.services.ledger import snapshots
from relance.services.organisation import hours

#: How many changes a job keeps (its `plan_changes`); the count goes on beyond.
KEPT = 1000
#: Customers loaded at a time at the end (a cycle's batch size).
BATCH = 1000
#: A customer's fields the plan depends on, as `Customer` and `snapshots.Debtor` name them.
DECIDING = ("plan_id", "segment", "risk", "country", "currency", "credit_limit")
#: The kinds whose rows change the balance and lateness, by their model.
LEDGER_KINDS: dict[str, Any] = {
    "invoices": Invoice,
    "credit-notes": CreditNote,
    "payments": Payment,
}


def reads_ledger(rule: assignment.Rule) -> bool:
    """Whether the rule looks at the balance or the payment history."""
    return any(getattr(rule, name) is not None for name in assignment.NUMERIC_CONDITIONS)


def reads_balance(rule: assignment.Rule) -> bool:
    """Whether the rule looks at the balance (the credit limit used)."""
    return rule.min_credit_limit_use is not None or rule.max_credit_limit_use is not None


class PlanChanges:
    """One import's watch (services/ledger/import_watch.ImportWatch). After the import,
    `changes` holds the first KEPT changed customers by external id,
    {"customer", "name", "before", "after"} (plan codes, None for no plan), and `count` all."""

    def __init__(self, company: Company, kind: str) -> None:
        self.company = company
        self.kind = kind
        self.day: date = hours.company_today(company)
        rule_sets = plan_service.rules_by_company()
        self.rules = rule_sets.get(company.pk, rule_sets.get(None, []))
        self.on_ledger = any(reads_ledger(rule) for rule in self.rules)
        self.on_balance = any(reads_balance(rule) for rule in self.rules)
        self.watching = kind == "customers" or (kind in LEDGER_KINDS and self.on_ledger)
        # customers: pk -> former deciding fields; ledger kinds: pk -> former plan pk or None
        self.before: dict[int, Any] = {}
        self.seen: set[int] = set()
        self.changes: list[dict[str, Any]] = []
        self.count = 0
        self._plans: snapshots.PlanCache | None = None

    @property
    def plans(self) -> snapshots.PlanCache:
        if self._plans is None:
            self._plans = snapshots.PlanCache()
        return self._plans

    # --- the watch --------------------------------------------------------------------------

    def before_writing(self, rows: list[dict[str, Any]]) -> None:
        if not self.watching or not rows:
            return
        if self.kind == "customers":
            self._keep_fields(rows)
        else:
            self._keep_plans(rows)

    def written(self) -> None:
        if not self.before:
            return
        found: list[dict[str, Any]] = []
        pks = sorted(self.before)
        for start in range(0, len(pks), BATCH):
            found.extend(self._compare(pks[start : start + BATCH]))
        found.sort(key=lambda change: change["customer"])
        self.count = len(found)
        self.changes = found[:KEPT]

    # --- customers: the fields that decide, before ------------------------------------------

    def _keep_fields(self, rows: list[dict[str, Any]]) -> None:
        """The former deciding fields of the existing customers whose rows change one of them
        (the others keep their plan: the ledger does not move in a customers import)."""
        names = DECIDING if self.rules else ("plan_id",)  # no rules: only the explicit plan
        by_id = {row["external_id"]: row for row in rows}
        existing = Customer.objects.filter(
            company=self.company, external_id__in=list(by_id)
        ).values_list("external_id", "pk", *names)
        for external_id, pk, *values in existing:
            row = by_id[external_id]
            former = dict(zip(names, values, strict=True))
            if pk not in self.before and any(
                n in row and row[n] != old for n, old in former.items()
            ):
                self.before[pk] = former

    # --- invoices, credit notes, payments: the plans before ---------------------------------

    def _keep_plans(self, rows: list[dict[str, Any]]) -> None:
        """The plans, before this chunk is written, of the customers it concerns seen for the
        first time (a row moved to another customer concerns both), when the rules choose it."""
        model = LEDGER_KINDS[self.kind]
        concerned = {row["customer_id"] for row in rows if row.get("customer_id")}
        concerned.update(
            model.objects.filter(
                company=self.company, external_id__in=[row["external_id"] for row in rows]
            ).values_list("customer_id", flat=True)
        )
        new = sorted(concerned - self.seen)
        self.seen.update(new)
        debtors = [d for d in snapshots.debtors(new) if d.plan_id is None]  # explicit: stays
        if not debtors:
            return
        chosen = plans_of(self._snapshots(debtors), self.plans, self.day)
        for debtor in debtors:
            self.before[debtor.pk] = chosen.get(debtor.pk)

    # --- after ------------------------------------------------------------------------------

    def _compare(self, batch: Sequence[int]) -> Iterator[dict[str, Any]]:
        now = self._snapshots(snapshots.debtors(batch))
        after = plans_of(now, self.plans, self.day)
        if self.kind == "customers":
            former = [
                replace(snap, customer=replace(snap.customer, **self.before[snap.customer.pk]))
                for snap in now
            ]
            before = plans_of(former, self.plans, self.day)
        else:
            before = {pk: self.before[pk] for pk in batch}
        for snap in now:
            pk = snap.customer.pk
            if before.get(pk) != after.get(pk):
                yield {
                    "customer": snap.customer.external_id,
                    "name": snap.customer.name,
                    "before": self._code(before.get(pk)),
                    "after": self._code(after.get(pk)),
                }

    def _snapshots(self, debtors: list[snapshots.Debtor]) -> list[snapshots.CustomerSnapshot]:
        """What `plans_of` reads, and only that: the customer, and its amounts due when a rule
        reads the balance (the payment history `plans_of` reads itself). Not the cycle's whole
        snapshot (disputes, promises, history, contacts): half the cost of an import's watch
        went there."""
        owed: dict[int, list[engine.Item]] = defaultdict(list)
        if self.on_balance and debtors:
            for (
                _pk,
                customer,
                ext,
                number,
                issued,
                due,
                currency,
                amount,
                total,
            ) in snapshots.amounts_due([d.pk for d in debtors], self.day):
                owed[customer].append(
                    engine.Item(ext, number, issued, due, currency, amount, total=total)
                )
        return [
            snapshots.CustomerSnapshot(
                d, engine.Account(d.external_id, tuple(owed.get(d.pk, ()))), [], {}
            )
            for d in debtors
        ]

    def _code(self, plan: int | None) -> str | None:
        return self.plans.get(plan)[0].code if plan is not None else None
