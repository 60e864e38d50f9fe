"""Dunning itself: `relance run`, `forecast`, `preview`, `deliver`, the `scheduler`, the
`actions` inbox and `letters` print runs."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import click

from relance.cli.options import CONTEXT, DAY, company_option, json_option
from relance.cli.output import emit, rejections


@click.command()
@click.option("--date", "day", type=DAY, required=True, help="The day the cycle runs as of.")
@click.option("--dry-run", is_flag=True, help="Decide and report, write nothing, send nothing.")
@click.option(
    "--no-deliver", is_flag=True, help="Leave messages queued for `relance deliver` or workers."
)
@company_option
@json_option
def run(
    day: date, dry_run: bool, no_deliver: bool, company_code: str | None, as_json: bool
) -> None:
    """Run one dunning cycle as of --date: execute due steps, queue and deliver messages."""
    from relance.services.dunning.run import run as run_cycle
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        company_id = get_company(company_code).pk if company_code else None
    report = run_cycle(day, dry_run=dry_run, company_id=company_id, deliver=not no_deliver).report
    if as_json:
        emit(True, report.as_json(), "")
        return
    for a in report.actions:
        totals = ", ".join(f"{v} {k}" for k, v in a["totals"].items())
        click.echo(
            f"{a['customer']}: {a['step']} ({a['channel']}, {a['status']}) for "
            f"{a['reference_invoice']}, {totals}" + (f": {a['reason']}" if a.get("reason") else "")
        )
    for code in report.paused:
        click.echo(
            f"company {code}: automatic sending is off, nothing planned "
            f"(review it, then: relance company golive {code})"
        )
    click.echo(
        f"{day}: {len(report.actions)} actions, {len(report.skipped)} superseded steps skipped"
        + (" (dry run: nothing written)" if dry_run else "")
    )


@click.command()
@click.option("--from", "start", type=DAY, required=True)
@click.option("--to", "end", type=DAY, required=True)
@click.option(
    "--store",
    is_flag=True,
    help="Store it as each company's calendar in the staff app (as the daily tick does).",
)
@company_option
@json_option
def forecast(start: date, end: date, store: bool, company_code: str | None, as_json: bool) -> None:
    """The steps the plans will run between two dates if nobody pays, promises or disputes."""
    from relance.services.dunning.forecasting import forecast as compute
    from relance.services.organisation.companies import get_company

    if end < start:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    with rejections(as_json):
        company_id = get_company(company_code).pk if company_code else None
    if store:
        from relance.models import Company
        from relance.services.dunning import calendar

        days = (end - start).days + 1
        companies = Company.objects.filter(pk=company_id) if company_id else Company.objects.all()
        stored = sum(calendar.refresh(c, start, days) for c in companies)
        emit(as_json, {"stored": stored}, f"Stored {stored} calendar entries.")
        return
    items = compute(start, end, company_id=company_id)
    emit(
        as_json,
        {"items": items},
        "\n".join(
            f"{i['date']} {i['customer']}: {i['step']} ({i['channel']}) for "
            f"{i['reference_invoice']}: {i['reason']}"
            for i in items
        )
        or "Nothing planned in that period.",
    )


@click.command()
@click.argument("customer_id")
@click.option("--plan", "plan_code", required=True, help="The plan's code.")
@click.option("--step", "step_name", required=True, help="The step's name.")
@click.option("--date", "day", type=DAY, help="As of this day (default: today).")
@click.option("--language", type=click.Choice(["fr", "en"]), help="Default: the customer's.")
@click.option(
    "--variant",
    type=click.Choice(["A", "B"]),
    default="A",
    show_default=True,
    help="B: the text of the step's A/B test.",
)
@company_option
@json_option
def preview(
    customer_id: str,
    plan_code: str,
    step_name: str,
    day: date | None,
    language: str | None,
    variant: str,
    company_code: str | None,
    as_json: bool,
) -> None:
    """Show what a plan step would say to CUSTOMER_ID: subject, text, invoices, SMS length."""
    from relance.services.dunning.preview import preview as make
    from relance.services.ledger import lookup
    from relance.services.organisation import hours
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        customer = lookup.customer(customer_id, target)
        on = day or hours.company_today(customer.company)
        shown = make(customer, plan_code, step_name, on, language=language, side=variant)
    sms = shown.get("sms")
    length = (
        f"\n\n[{sms['segments']} SMS, {sms['characters']} {sms['encoding']} units]" if sms else ""
    )
    emit(as_json, shown, f"Subject: {shown['subject']}\n\n{shown['body']}{length}")


@click.group(context_settings=CONTEXT)
def actions() -> None:
    """The Actions inbox: calls, tasks and messages waiting for a person."""


@actions.command("list")
@click.option("--user", "user_email", metavar="EMAIL", help="Only this user's items.")
@json_option
def actions_list(user_email: str | None, as_json: bool) -> None:
    """Open action items, highest priority first."""
    from relance.services.dunning.actions import inbox

    items = [
        {
            "id": i.pk,
            "customer": i.customer.external_id,
            "kind": i.kind,
            "title": i.title,
            "due_date": i.due_date.isoformat(),
            "priority": i.priority,
        }
        for i in inbox(user_email)
    ]
    emit(
        as_json,
        {"items": items},
        "\n".join(f"#{i['id']} [{i['priority']}] {i['due_date']} {i['title']}" for i in items)
        or "Nothing to do.",
    )


@actions.command("done")
@click.argument("item_id", type=int)
@click.option("--by", required=True, metavar="EMAIL", help="Who did it.")
@click.option(
    "--outcome",
    default="done",
    show_default=True,
    help="done, reached, voicemail, promised, disputed or wrong_contact.",
)
@click.option("--note", default="")
@json_option
def actions_done(item_id: int, by: str, outcome: str, note: str, as_json: bool) -> None:
    """Mark action item ITEM_ID done, with its outcome."""
    from relance.services.dunning.actions import close

    with rejections(as_json):
        item = close(item_id, by=by, outcome=outcome, note=note)
    emit(
        as_json,
        {"id": item.pk, "status": item.status, "outcome": item.outcome},
        f"#{item.pk} done ({item.outcome}).",
    )


@actions.command("skip")
@click.argument("item_id", type=int)
@click.option("--by", required=True, metavar="EMAIL")
@click.option("--note", required=True, help="Why it is skipped.")
@json_option
def actions_skip(item_id: int, by: str, note: str, as_json: bool) -> None:
    """Skip action item ITEM_ID, saying why."""
    from relance.services.dunning.actions import close

    with rejections(as_json):
        item = close(item_id, by=by, outcome="done", note=note, skip=True)
    emit(as_json, {"id": item.pk, "status": item.status}, f"#{item.pk} skipped.")


@click.group()
def letters() -> None:
    """Print runs of letters: list, download as one PDF, mark posted (or submit to a provider)."""


@letters.command("list")
@click.option("--status", type=click.Choice(["open", "posted"]))
@json_option
def letters_list(status: str | None, as_json: bool) -> None:
    """Print runs, newest first, with their letters and pages."""
    from relance.services.dunning.print_runs import runs

    found = runs(status)
    emit(
        as_json,
        {"runs": found},
        "\n".join(
            f"#{r['id']:<5} {r['company']:<12} {r['created_on']}  {r['status']:<6} "
            f"{r['letters']:>5} letters {r['pages']:>6} pages"
            for r in found
        )
        or "No print run.",
    )


@letters.command("download")
@click.argument("run_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--duplex", is_flag=True, help="A blank page after odd-length letters.")
@json_option
def letters_download(run_id: int, output: Path, duplex: bool, as_json: bool) -> None:
    """Write print run RUN_ID as one PDF, ready to print."""
    from relance.services.dunning.print_runs import document

    with rejections(as_json):
        pdf = document(run_id, duplex=duplex)
    output.write_bytes(pdf)
    emit(as_json, {"run": run_id, "file": str(output), "bytes": len(pdf)}, f"Wrote {output}.")


@letters.command("posted")
@click.argument("run_id", type=int)
@click.option("--by", required=True, help="Who posted the letters.")
@json_option
def letters_posted(run_id: int, by: str, as_json: bool) -> None:
    """Record print run RUN_ID as posted: its letters count as sent from now."""
    from relance.services.dunning.print_runs import mark_posted

    with rejections(as_json):
        done = mark_posted(run_id, by=by)
    emit(as_json, done, f"Print run #{run_id} posted ({done['letters']} letters).")


@letters.command("submit")
@click.argument("run_id", type=int)
@json_option
def letters_submit(run_id: int, as_json: bool) -> None:
    """Hand print run RUN_ID to the print provider (RELANCE_PRINT_PROVIDER) and record it posted."""
    from relance.services.dunning.print_runs import send_to_provider

    with rejections(as_json):
        done = send_to_provider(run_id)
    emit(as_json, done, f"Print run #{run_id} submitted: {done['provider_reference']}.")


@click.command()
@click.option("--date", "day", type=DAY, help="Cancel messages for invoices paid by this day.")
@json_option
def deliver(day: date | None, as_json: bool) -> None:
    """Deliver the outbox messages that are due (retries included)."""
    from relance.services.dunning.outbox import deliver_due

    report = deliver_due(as_of=day)
    counts = {s: report.count(s) for s in ("sent", "failed", "dead", "cancelled")}
    emit(as_json, counts, ", ".join(f"{n} {s}" for s, n in counts.items()))


@click.command()
@click.option("--once", is_flag=True, help="Check once and exit instead of looping.")
@click.option("--every", default=60, show_default=True, help="Seconds between checks.")
def scheduler(once: bool, every: int) -> None:
    """Embedded daily tick: run today's cycle once (catching up missed days without bursts)."""
    from relance.services.dunning.scheduling import tick

    while True:
        done = tick()
        if done:
            click.echo(f"cycle for {done.date}: {len(done.actions)} actions")
        if once:
            return
        time.sleep(every)
