"""Where a customer's dunning starts: the company's first-run policy (issue 19, go-live).

After loading 18 months of history, the plain engine sends each customer the step their oldest
invoice's age warrants: a 200-day-old invoice gets the formal notice on day one. A company chooses:

* `by_age`: that, today's behaviour (the default of companies made by the CLI, and of those that
  existed before go-live was a thing).
* `step1`: a customer's **first run** in a plan reaches the plan's first step only. The first run
  is the first day the engine acts for a customer in a plan: the customer has no execution (nor
  skip) in that plan yet, neither stored nor in the history given. "First step" is the plan's
  first, except for an invoice already overdue that day: its first step from the due date on (a
  courtesy note "falls due shortly" makes no sense for an invoice 200 days late; the steps
  before it are recorded as superseded). From then on the other steps follow by the plan's own
  delays: for an invoice whose first step would have been due before the customer's first day in
  the plan (`started`), every step's date moves by the same number of days, so that its first
  step falls on that day. Invoices that come later go by their dates as usual.
* `ignore_before`: invoices due before `before` are never chased (no step, no promise notice);
  they still count in balances and KPIs, which do not ask the engine.

Pure: the engine (domain.engine) applies it; the storage says when each customer started.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

BY_AGE, STEP1, IGNORE_BEFORE = "by_age", "step1", "ignore_before"
POLICIES = (BY_AGE, STEP1, IGNORE_BEFORE)


@dataclass(frozen=True, slots=True)
class FirstRun:
    """A company's first-run policy; `before` only with `ignore_before`."""

    policy: str = BY_AGE
    before: date | None = None

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"unknown first-run policy '{self.policy}' ({', '.join(POLICIES)})")
        if (self.policy == IGNORE_BEFORE) != (self.before is not None):
            raise ValueError("a date goes with 'ignore_before', and only with it")

    @property
    def starts_at_step1(self) -> bool:
        return self.policy == STEP1

    def chased(self, due_date: date) -> bool:
        """False for an invoice the policy leaves out of dunning for good."""
        return self.before is None or due_date >= self.before


def of(policy: str, before: date | None = None) -> FirstRun | None:
    """The engine's value for a stored policy: None for `by_age`, which costs the engine nothing."""
    if policy == BY_AGE:
        return None
    return FirstRun(policy, before if policy == IGNORE_BEFORE else None)


def started_on(
    plan: str, stored: Iterable[tuple[str, date]], history_dates: Iterable[date]
) -> date | None:
    """The customer's first day in `plan`: the earliest of the stored first execution in that plan
    and of the history's days in it (`history_dates`). None: this is the first run."""
    days = [d for code, d in stored if code == plan]
    days += history_dates
    return min(days, default=None)
