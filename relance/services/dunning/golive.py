"""Going live: a company's first cycle shown before anything leaves, then automatic sending on.

A company made in the staff app starts with automatic sending off (the daily cycle leaves it
out: services.dunning.run). Its go-live page projects the first cycle under the first-run policy
the admin is choosing (domain.first_run): the cycle's own composing, reading only, with the
policy asked handed to it in memory, so the projection is what the cycle will do and
not a copy of it. Then `go_live` switches sending on with that policy, on the company's timeline
(`company.live`). Companies made by the CLI and those that existed before were live from the
start, by age; `relance company golive` changes their policy the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from relance.domain import engine, first_run
from relance.domain.errors import Forbidden
from relance.models import Company, Customer, Event
from relance.models.company import FIRST_RUN_IGNORE_BEFORE
from relance.services.dunning import cycle, preview
from relance.services.dunning.plan_choice import plans_of
from relance.services.ledger import snapshots
from relance.services.organisation import access, journal

#: Channels that reach the customer: a step on them with nobody to receive it is "unreachable".
_FACING = ("email", "sms", "letter", "call")
#: How many of each list the page shows (the counts are always whole).
SHOWN = 50
SAMPLES = 3


class GoLiveRefused(Forbidden, PermissionError):
    """Only a company's administrators switch its sending on; the message says so."""


@dataclass
class Projection:
    """What the first cycle of `day` would do under `policy`."""

    day: date
    policy: str
    before: date | None
    actions: int = 0
    customers: int = 0  # customers with a plan looked at
    by_step: list[dict[str, Any]] = field(default_factory=list)  # plan, step, channel, count
    by_channel: dict[str, int] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)  # rendered messages (preview)
    unreachable: list[dict[str, Any]] = field(default_factory=list)  # customer, name, step
    unreachable_count: int = 0
    notices: list[dict[str, Any]] = field(default_factory=list)  # by age: the last step at once
    notices_count: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "policy": self.policy,
            "before": self.before.isoformat() if self.before else None,
            "actions": self.actions,
            "customers": self.customers,
            "by_step": self.by_step,
            "by_channel": self.by_channel,
            "unreachable": self.unreachable_count,
            "formal_notices_by_age": self.notices_count,
        }


def check_policy(policy: str, before: date | None) -> None:
    """ValidationError naming the field when the policy cannot be used as given."""
    if policy not in first_run.POLICIES:
        raise ValidationError({"first_run": f"unknown policy '{policy}'"})
    if policy == FIRST_RUN_IGNORE_BEFORE and before is None:
        raise ValidationError(
            {"first_run_before": "Give the date: invoices due before it are not chased."}
        )


def project(
    company: Company, day: date, policy: str, before: date | None = None, *, samples: int = SAMPLES
) -> Projection:
    """The first cycle of `day` for this company under `policy`, as the cycle composes it,
    without writing or sending anything.

    The policy asked is handed to the cycle's composing in memory (`cycle.compose(policy=…)`)
    rather than set on the company row: no write, hence no write lock held while a large
    ledger is read (on SQLite an open write transaction blocks every other writer), and no
    transaction at all, since composing only reads."""
    check_policy(policy, before)
    before = before if policy == FIRST_RUN_IGNORE_BEFORE else None
    found = Projection(day, policy, before)
    actions: list[dict[str, Any]] = []
    for batch in snapshots.customers_in_batches(day, 1000, company.pk):
        actions += cycle.compose(batch, day, policy=(policy, before)).report.actions
        _by_age_notices(found, batch, day)
    _count(found, actions, company)
    found.samples = _samples(company, actions, day, samples)
    return found


def _count(found: Projection, actions: list[dict[str, Any]], company: Company) -> None:
    found.actions = len(actions)
    steps = Counter((a["plan"], a["step_index"] or 0, a["step"], a["channel"]) for a in actions)
    found.by_step = [
        {"plan": plan, "step_index": index, "step": step, "channel": channel, "count": count}
        for (plan, index, step, channel), count in sorted(steps.items())
    ]
    found.by_channel = dict(sorted(Counter(a["channel"] for a in actions).items()))
    unreachable = [a for a in actions if a["channel"] in _FACING and not a["recipients"]]
    found.unreachable_count = len(unreachable)
    names = dict(
        Customer.objects.filter(
            company=company, external_id__in=[a["customer"] for a in unreachable[:SHOWN]]
        ).values_list("external_id", "name")
    )
    found.unreachable = [
        {
            "customer": a["customer"],
            "name": names.get(a["customer"], ""),
            "step": a["step"],
            "channel": a["channel"],
        }
        for a in unreachable[:SHOWN]
    ]


def _by_age_notices(found: Projection, batch: list[int], day: date) -> None:
    """Customers whose first cycle, by age, would be their plan's last step (the formal notice
    of the shipped plans): the engine's own decision with no policy, on the same snapshots."""
    plans = snapshots.PlanCache()
    customers = snapshots.debtors(batch)
    snaps = snapshots.load(customers, day, history_days=plans.max_delay())
    found.customers += len(snaps)
    chosen = plans_of(snaps, plans, day)
    for snap in snaps:
        if snap.customer.pk not in chosen:
            continue
        _, plan, _ = plans.get(chosen[snap.customer.pk])
        account = replace(snap.account, first_run=None)
        action = engine.evaluate(plan, account, snap.history, day).action
        if action is None or action.step_index != len(plan.steps) or action.repetition:
            continue
        found.notices_count += 1
        if len(found.notices) < SHOWN:
            reference = action.reference
            found.notices.append(
                {
                    "customer": snap.customer.external_id,
                    "name": snap.customer.name,
                    "invoice": reference.number,
                    "due_date": reference.due_date,
                    "days_late": reference.days_late(day),
                    "amount": reference.amount_due,
                    "currency": reference.currency,
                    "step": action.step.name,
                }
            )


def _samples(
    company: Company, actions: list[dict[str, Any]], day: date, count: int
) -> list[dict[str, Any]]:
    """A message of each of the first steps that go out by themselves, rendered as the customer
    will read it (services.dunning.preview), one customer each."""
    plans = snapshots.PlanCache()
    found: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for action in actions:
        if len(found) >= count:
            break
        if action["status"] != "queued" or (action["plan"], action["step"]) in seen:
            continue
        seen.add((action["plan"], action["step"]))
        pk = plans.of_company(company.pk, action["plan"])
        customer = Customer.objects.filter(company=company, external_id=action["customer"]).first()
        if pk is None or customer is None:
            continue
        _, plan, _ = plans.get(pk)
        step = next(s for s in plan.steps if s.name == action["step"])
        try:
            rendered = preview.render_step(customer, plan, step, day)
        except preview.PreviewError:
            continue
        found.append({**rendered, "name": customer.name, "recipients": action["recipients"]})
    return found


@transaction.atomic
def go_live(
    company: Company,
    policy: str,
    before: date | None = None,
    *,
    actor: Any = None,
    source: str = "web",
) -> Event:
    """Switch the company's automatic sending on with this first-run policy, on its timeline.
    From the web, only the company's administrators may (GoLiveRefused); the CLI is the
    operator's. Again on a live company: its policy changes, recorded the same way."""
    if source == "web" and not is_admin(actor, company):
        raise GoLiveRefused("only an administrator of the company can switch sending on")
    check_policy(policy, before)
    company = Company.objects.select_for_update().get(pk=company.pk)
    was_live = company.automatic_sending
    company.automatic_sending = True
    company.first_run = policy
    company.first_run_before = before if policy == FIRST_RUN_IGNORE_BEFORE else None
    company.full_clean()
    company.save(update_fields=["automatic_sending", "first_run", "first_run_before"])
    return journal.record(
        "company.live",
        company,
        actor=actor,
        source=source,
        data={
            "policy": policy,
            "before": company.first_run_before.isoformat() if company.first_run_before else None,
            "was_live": was_live,
        },
    )


def is_admin(user: Any, company: Company) -> bool:
    return bool(user) and access.roles(user).get(company.pk) == access.Role.ADMIN


def history(company: Company) -> list[Event]:
    """The company's go-live events, latest first."""
    return list(
        Event.objects.filter(company=company, kind="company.live")
        .select_related("actor")
        .order_by("-at")[:20]
    )
