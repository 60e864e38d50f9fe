"""A day's dunning cycle end to end: the one way `relance run`, `POST /runs` and the daily tick
run it.

`run` opens the Run row (none for a dry run), has an executor compose and write the batches,
closes the row with its counts, then delivers what the cycle queued and says in the report which
messages left, failed or wait for another try.

Where the batches run is the executor's business, and only that:

* `InProcess`, the embedded default: this process, or worker processes forked on every core
  (services.dunning.workers) when that is safe and useful. It delivers here and now.
* `relance.tasks.dispatch.OverCelery`, when a broker is set: one Celery task per batch, the
  reports merged. It delivers by queueing a task, so the report's messages stay `queued`.

A company whose automatic sending is off (not live yet: services.dunning.golive) is left out of
the cycle, dry runs included, so that nothing is planned, queued or recorded for it until it goes
live: its first real cycle is then its customers' first run (domain.first_run). The report names
it. The go-live page projects that first cycle through the same composing, rolled back. What
staff send by hand (a step sent now, a campaign) is theirs to decide and still goes out.

Services may not import the Celery adapter (import-linter), so the executor is named by a
setting, `RELANCE_CYCLE_EXECUTOR`, a dotted path loaded when a cycle runs: the settings name the
Celery one when CELERY_BROKER_URL is set. A setting rather than a registry the tasks fill at
startup: a web or CLI process never imports the tasks, and it still needs the right executor.
The same executor queues the webhook deliveries "Retry now" asks for, so the staff app needs no
import of the tasks either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from relance.models import Company, OutboxMessage, Run
from relance.services.dunning import batches, cycle, outbox, triage, workers
from relance.services.dunning.batches import CycleReport
from relance.services.integrations import webhooks
from relance.services.ledger import snapshots


class Cycled(NamedTuple):
    report: CycleReport
    workers: int  # the processes that composed the batches (1: one did it all)


class Executor(Protocol):
    """Where the cycle's batches, and the deliveries that follow, run."""

    def cycle(
        self,
        day: date,
        *,
        company_id: int | None,
        dry_run: bool,
        run_id: int | None,
        batch_size: int,
    ) -> Cycled: ...

    def deliver(self, day: date) -> dict[str, str] | None:
        """Deliver the outbox as of `day`: each message's status (key -> status), or None when
        the delivery was handed to someone else and its outcome is not known yet."""

    def deliver_webhooks(self, company_id: int) -> None:
        """One company's due webhook deliveries, soon: never another company's."""


class InProcess:
    """This process, or forked workers on every core when there is more than one span of
    customers and forking is safe (services.dunning.workers.how_many)."""

    def cycle(
        self,
        day: date,
        *,
        company_id: int | None,
        dry_run: bool,
        run_id: int | None,
        batch_size: int,
    ) -> Cycled:
        report = CycleReport(day)
        spans = snapshots.customers_in_batches(day, batch_size, company_id)
        processes = workers.how_many(spans)
        with batches.without_cycle_collector():  # the report grows by one dict per action and skip
            if processes > 1:
                parts = workers.reports(spans, day, company_id, dry_run=dry_run, run_id=run_id)
            else:
                found = triage.customers_to_look_at(day, company_id)
                parts = (
                    cycle.process_batch(b, day, dry_run=dry_run, run_id=run_id)
                    for b in triage.in_batches(found, batch_size)
                )
            for part in parts:
                report.merge(part)
        return Cycled(report, processes)

    def deliver(self, day: date) -> dict[str, str]:
        return outbox.deliver_due(as_of=day).statuses

    def deliver_webhooks(self, company_id: int) -> None:
        """In the request that asked, hence the short budget; the tick does the rest."""
        webhooks.deliver_due(company_id=company_id, budget_seconds=5.0)


def configured() -> Executor:
    """The executor the settings name (RELANCE_CYCLE_EXECUTOR)."""
    found: Executor = import_string(settings.RELANCE_CYCLE_EXECUTOR)()
    return found


@dataclass(frozen=True)
class Outcome:
    run: Run | None  # None for a dry run (it leaves no trace) or a company not live
    report: CycleReport


def run(
    day: date,
    *,
    company_id: int | None = None,
    dry_run: bool = False,
    deliver: bool = True,
    source: str = "cli",
    batch_size: int = 1000,
    executor: Executor | None = None,
) -> Outcome:
    """Run the cycle as of `day` (one company, or all) and, unless told not to, deliver what it
    queued. A dry run writes nothing and sends nothing. `executor`: the settings' by default."""
    executor = executor or configured()
    report, processes = CycleReport(day), 1
    paused = _paused(company_id)
    report.paused = list(paused.values())
    if paused and company_id is not None:  # no Run row: the day stays to do once it goes live
        return Outcome(None, report)
    live: list[int | None] = [company_id]
    if paused:
        live = list(Company.objects.filter(automatic_sending=True).values_list("pk", flat=True))
    started = (
        None if dry_run else Run.objects.create(date=day, source=source, company_id=company_id)
    )
    for company in live:
        part, workers_used = executor.cycle(
            day,
            company_id=company,
            dry_run=dry_run,
            run_id=started.pk if started else None,
            batch_size=batch_size,
        )
        report.merge(part)
        processes = max(processes, workers_used)
    if started:
        _finish(started, report, processes)
    if deliver and not dry_run and (statuses := executor.deliver(day)) is not None:
        _mark_delivered(report, statuses)
    return Outcome(started, report)


def _paused(company_id: int | None) -> dict[int, str]:
    """Code by primary key of the companies (or the one asked) whose automatic sending is off."""
    paused = Company.objects.filter(automatic_sending=False)
    if company_id is not None:
        paused = paused.filter(pk=company_id)
    return dict(paused.values_list("pk", "code"))


def _finish(run: Run, report: CycleReport, workers: int) -> None:
    run.finished_at = timezone.now()
    run.counts = {"actions": len(report.actions), "skipped": len(report.skipped)}
    if workers > 1:
        run.counts["workers"] = workers
    run.save(update_fields=["finished_at", "counts"])


def _mark_delivered(report: CycleReport, statuses: dict[str, str]) -> None:
    """Turn `queued` into `sent` for the messages delivered right after the cycle, and into
    `failed`, with the reason, for those that cannot leave as they are (a text past the template
    limits, no address): the outbox keeps them dead with that reason. A message that will be
    tried again (a server down) stays `queued`."""
    dead = [key for key, status in statuses.items() if status == OutboxMessage.Status.DEAD]
    reasons = dict(
        OutboxMessage.objects.filter(key__in=dead).values_list("key", "last_error") if dead else ()
    )
    for action in report.actions:
        if action["status"] != "queued":
            continue
        status = statuses.get(action["key"])
        if status == OutboxMessage.Status.SENT:
            action["status"] = "sent"
        elif status == OutboxMessage.Status.DEAD:
            action["status"] = "failed"
            action["reason"] = reasons.get(action["key"], "")
