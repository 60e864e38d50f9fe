"""The daily tick: run each company's cycle once per local day.

Missed days are never replayed one by one: the cycle for today finds every step that came due
meanwhile, runs only the most advanced and records the others as superseded (rule 4), so a
scheduler that was down for a week sends one message per customer, not a burst.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from relance.models import Company, Run
from relance.services.dialogue import discounts, payment_plans, portal_disputes, smart_notices
from relance.services.dunning import batches, calendar, campaigns, outbox, sales_reps
from relance.services.dunning.run import InProcess, run
from relance.services.integrations import idempotency, webhooks
from relance.services.ledger import receivables
from relance.services.organisation import hours


def tick(now: datetime | None = None) -> batches.CycleReport | None:
    """Run the cycle of every company whose local today has no finished run yet; store the day's
    receivables and the calendar of the days to come; queue the sales reps' heads-ups and weekly
    digests; deliver. Companies whose automatic sending is off get no cycle. Campaign waves
    whose time has come are launched on every tick, and their
    messages delivered within business hours; webhooks due are posted on every tick too, and
    idempotency keys older than a day forgotten."""
    now = now or timezone.now()
    if campaigns.launch_due(now) + portal_disputes.escalate(now):
        outbox.deliver_due()
    last: batches.CycleReport | None = None
    for company in Company.objects.order_by("pk"):
        today = hours.company_today(company, now)
        done = Run.objects.filter(
            date=today, company=company, dry_run=False, finished_at__isnull=False
        )
        if done.exists():
            continue
        if not company.automatic_sending:  # not live yet (services.dunning.golive): no cycle,
            outbox.deliver_due(as_of=today)  # but what staff sent by hand still leaves
            continue
        payment_plans.run_daily(company, today, now)  # broken plans' invoices: dunned today
        discounts.propose(company, today)  # the rest of a discount taken is not chased
        # In this process even with a broker: the tick runs in a Celery worker then, and waiting
        # there for batches fanned out to the workers could hold the very worker they need.
        last = run(
            today, company_id=company.pk, source="scheduler", deliver=False, executor=InProcess()
        ).report
        receivables.record(company, today)  # a point a day for the dashboard's trend
        calendar.refresh(company, today)
        sales_reps.run_daily(company, today, now)  # heads-ups read the calendar just stored
        smart_notices.run_daily(company, today, now)
        outbox.deliver_due(as_of=today)
    webhooks.deliver_due(now)  # every tick: retries come back within minutes
    idempotency.forget_old(now)
    return last
