"""The go-live projection computed in the background and kept: a web worker never waits for it.

Projecting the first cycle (services.dunning.golive.project) costs what a first cycle costs:
~30 s at 100,000 customers, past a web worker's timeout. So the page asks `wanted`: the kept
projection when it matches what is asked (policy, date, day) and the ledger has not changed
since (`fingerprint`), else it starts the computation on an executor named by the setting
RELANCE_GOLIVE_EXECUTOR (a thread of this process in embedded mode, a Celery task when a broker
is set, as import jobs do) and the page polls until it is done. Companies with fewer than
RELANCE_GOLIVE_INLINE_CUSTOMERS customers are projected in the request: it takes a blink.

A computation still `running` after RELANCE_GOLIVE_LEASE_SECONDS was killed with its process:
it is started again. One row per company: a new question replaces the old answer.
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.module_loading import import_string

from relance.domain.errors import RelanceError
from relance.models import Company, Customer, Event, GoLiveProjection, Invoice
from relance.services import background
from relance.services.dunning import golive

log = logging.getLogger(__name__)
Status = GoLiveProjection.Status


def fingerprint(company: Company) -> str:
    """Cheap, and different as soon as the ledger or the plans change: imports and plan loads
    are journaled on the company (latest event), rows created or deleted elsewhere (the API)
    move the counts and largest ids."""
    event = Event.objects.filter(company=company).aggregate(m=Max("pk"))["m"]
    customers = Customer.objects.filter(company=company).aggregate(n=Count("pk"), m=Max("pk"))
    invoices = Invoice.objects.filter(customer__company=company).aggregate(
        n=Count("pk"), m=Max("pk")
    )
    return f"e{event}:c{customers['n']}/{customers['m']}:i{invoices['n']}/{invoices['m']}"


def to_json(found: golive.Projection) -> dict[str, Any]:
    """Everything the page shows, as JSON (dates and amounts as strings)."""
    whole = {
        **found.as_json(),
        "unreachable_shown": found.unreachable,
        "samples": found.samples,
        "notices": found.notices,
    }
    loaded: dict[str, Any] = json.loads(json.dumps(whole, cls=DjangoJSONEncoder))
    return loaded


def from_json(kept: dict[str, Any]) -> golive.Projection:
    """The Projection `to_json` kept, with its dates and amounts typed again."""
    found = golive.Projection(
        date.fromisoformat(kept["date"]),
        kept["policy"],
        date.fromisoformat(kept["before"]) if kept["before"] else None,
        actions=kept["actions"],
        customers=kept["customers"],
        by_step=kept["by_step"],
        by_channel=kept["by_channel"],
        samples=kept["samples"],
        unreachable=kept["unreachable_shown"],
        unreachable_count=kept["unreachable"],
        notices_count=kept["formal_notices_by_age"],
    )
    found.notices = [
        {**n, "due_date": date.fromisoformat(n["due_date"]), "amount": Decimal(n["amount"])}
        for n in kept["notices"]
    ]
    return found


class Executor(Protocol):
    def start(self, company_id: int) -> None: ...


class InThread:
    """A thread of this process: the embedded web server answers while it runs."""

    def start(self, company_id: int) -> None:
        background.on_thread(f"relance-golive-{company_id}", compute, company_id)


class Inline:
    """In the caller (tests, and a CLI that can wait)."""

    def start(self, company_id: int) -> None:
        compute(company_id)


def configured() -> Executor:
    found: Executor = import_string(settings.RELANCE_GOLIVE_EXECUTOR)()
    return found


def wanted(
    company: Company, day: date, policy: str, before: date | None, *, again: bool = False
) -> tuple[golive.Projection | None, GoLiveProjection | None]:
    """(the projection, None) when it is known or quick to compute; else (None, the running or
    failed computation), the computation started when it was not already running. A failed one
    is shown as failed until asked `again`."""
    golive.check_policy(policy, before)
    if Customer.objects.filter(company=company).count() < settings.RELANCE_GOLIVE_INLINE_CUSTOMERS:
        return golive.project(company, day, policy, before), None
    before = before if policy == golive.FIRST_RUN_IGNORE_BEFORE else None
    asked = {"policy": policy, "before": before, "day": day, "fingerprint": fingerprint(company)}
    kept = GoLiveProjection.objects.filter(company=company).first()
    if kept is not None and all(getattr(kept, k) == v for k, v in asked.items()):
        if kept.status == Status.DONE and kept.result is not None:
            return from_json(kept.result), None
        lease = timedelta(seconds=settings.RELANCE_GOLIVE_LEASE_SECONDS)
        if kept.status == Status.FAILED and not again:
            return None, kept
        if kept.status == Status.RUNNING and kept.started_at > timezone.now() - lease:
            return None, kept
    kept, _ = GoLiveProjection.objects.update_or_create(
        company=company,
        defaults={
            **asked,
            "status": Status.RUNNING,
            "started_at": timezone.now(),
            "finished_at": None,
            "result": None,
            "error": "",
        },
    )
    configured().start(company.pk)
    kept.refresh_from_db()
    if kept.status == Status.DONE and kept.result is not None:  # an executor that waited
        return from_json(kept.result), None
    return None, kept


def compute(company_id: int) -> None:
    """Project what the company's row asks and keep the result, or why it failed."""
    kept = GoLiveProjection.objects.select_related("company").get(company_id=company_id)
    try:
        found = golive.project(kept.company, kept.day, kept.policy, kept.before)
    except Exception as exc:
        log.exception("go-live projection of company %s failed", company_id)
        GoLiveProjection.objects.filter(pk=kept.pk, started_at=kept.started_at).update(
            status=Status.FAILED,
            finished_at=timezone.now(),
            # a reason written for the user is shown; anything else stays in the log
            error=str(exc)[:2000] if isinstance(exc, RelanceError) else "",
        )
        return
    # Only if the question was not replaced meanwhile (started_at identifies it).
    GoLiveProjection.objects.filter(pk=kept.pk, started_at=kept.started_at).update(
        status=Status.DONE, finished_at=timezone.now(), result=to_json(found)
    )
