"""The `relance` command (DESIGN §4). Thin: parse arguments, call a service, print the outcome.

Exit codes: 0 success, 1 input rejected (with the reason), 2 usage error (click's own).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import click
import orjson

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
json_option = click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
company_option = click.option(
    "--company", "company_code", metavar="CODE", help="Company code (default: default)."
)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    import django

    django.setup()


#: Dates, times and dataclasses are written as `str()` writes them, as they always were.
_AS_BEFORE = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    """Indented JSON for a person at a terminal; compact for programs, where a 100,000-action
    report indented would cost a gigabyte of memory to build (and orjson, as json.dumps took
    seconds to write one)."""
    if as_json:
        option = _AS_BEFORE | (orjson.OPT_INDENT_2 if sys.stdout.isatty() else 0)
        click.echo(orjson.dumps(payload, option=option, default=str).decode())
    else:
        click.echo(text)


def reject(message: str, as_json: bool = False, payload: dict[str, Any] | None = None) -> NoReturn:
    """Input was refused: say why (JSON on stdout when asked) and exit 1."""
    if as_json:
        click.echo(json.dumps(payload or {"error": message}, indent=2, ensure_ascii=False))
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


@contextmanager
def rejections(as_json: bool) -> Iterator[None]:
    """Every kind of relance error (domain.errors: not found, refused, invalid, conflict,
    forbidden) and Django's ValidationError become exit code 1 with their message, never a
    traceback; an error of no kind, like any programming error, stays a traceback."""
    from django.core.exceptions import ValidationError

    from relance.domain.errors import KINDS

    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "message_dict"):
            problems = [f"{f}: {m}" for f, ms in exc.message_dict.items() for m in ms]
        else:
            problems = list(exc.messages)
        reject("; ".join(problems), as_json, {"errors": problems})
    except KINDS as exc:
        reject(str(exc), as_json)


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="relance")
def cli() -> None:
    """relance: accounts-receivable collections (dunning plans, outbox, portal, analytics).

    The database is DATABASE_URL, or the SQLite file var/relance.sqlite3 under the current
    directory. Start with `relance init`.
    """
    setup_django()


@cli.command()
@json_option
def init(as_json: bool) -> None:
    """Create or migrate the database; create company `default` (FR, EUR) if none exists.

    The shipped plans go into the library, which every new company starts from."""
    from django.core.management import call_command

    from relance.services.dunning.plans import seed_library
    from relance.services.organisation.companies import ensure_default_company

    call_command("migrate", interactive=False, verbosity=0)
    seed_library()
    created = ensure_default_company()
    from django.db import connection

    emit(
        as_json,
        {"database": connection.vendor, "default_company_created": created is not None},
        f"Database ready ({connection.vendor})."
        + (" Created company 'default' (FR, EUR)." if created else ""),
    )


@cli.group(context_settings=CONTEXT)
def company() -> None:
    """Companies (legal entities) whose receivables relance collects."""


@company.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--country", required=True, metavar="CC", help="ISO 3166 code, e.g. FR, GB.")
@click.option("--currency", required=True, metavar="CUR", help="ISO 4217 code, e.g. EUR.")
@click.option("--time-zone", metavar="TZ", help="IANA zone, e.g. Europe/Paris.")
@click.option("--iban")
@click.option("--bic")
@click.option("--registration-number", help="SIREN, Companies House number…")
@click.option("--vat-number")
@click.option("--email", help="Address customers write to with questions.")
@click.option("--phone", help="Number customers call with questions.")
@click.option("--sender-email", help="From: address of reminders.")
@click.option("--reply-to")
@click.option(
    "--law-pack",
    type=click.Choice(["FR", "EU", "UK", "NONE"]),
    help="Late-payment law (default: from --country: FR, UK for GB, EU in the Union).",
)
@json_option
def company_add(code: str, as_json: bool, **fields: Any) -> None:
    """Create or update company CODE."""
    from relance.services.organisation.companies import upsert_company

    with rejections(as_json):
        obj, created = upsert_company(code, **fields)
    emit(
        as_json,
        {
            "code": obj.code,
            "created": created,
            "name": obj.name,
            "country": obj.country,
            "currency": obj.currency,
            "time_zone": obj.time_zone,
        },
        f"{'Created' if created else 'Updated'} company {obj.code} ({obj.name}, "
        f"{obj.country}, {obj.currency}, {obj.time_zone}).",
    )


@cli.command("import")
@click.argument(
    "kind", type=click.Choice(["customers", "contacts", "invoices", "credit-notes", "payments"])
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@company_option
@click.option(
    "--mapping",
    "mapping_name",
    metavar="NAME|FILE.yaml",
    help="Read another product's export: a built-in or saved mapping (`relance mapping list`) "
    "or a mapping file.",
)
@click.option("--sheet", metavar="NAME", help="The workbook's sheet to read (default: the first).")
@click.option("--dry-run", is_flag=True, help="Validate and count, write nothing.")
@json_option
def import_(
    kind: str,
    file: Path,
    company_code: str | None,
    mapping_name: str | None,
    sheet: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Upsert a file of KIND by external id (all or nothing; see README for the columns).

    FILE is CSV (any of , ; tab | as separator; UTF-8, UTF-16 or Windows-1252) or a workbook
    (.xlsx, .xlsm, .xls, .ods). Dates and amounts may be written the regional way
    (31/01/2026, 1 234,56)."""
    from relance.services.ledger.imports import import_file
    from relance.services.ledger.mapping_store import resolve
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code)
        mapping = resolve(target, mapping_name) if mapping_name else None
        with _progress(file, enabled=not as_json) as progress:
            result = import_file(
                kind,
                file,
                target,
                dry_run=dry_run,
                progress=progress,
                mapping=mapping,
                sheet=sheet,
            )
    payload = result.as_json()
    if as_json:
        emit(True, payload, "")
    else:
        for err in payload["errors"]:
            where = f"row {err['row']}" if err["row"] is not None else "file"
            column = f", {err['field']}" if err["field"] else ""
            click.secho(f"{file}: {where}{column}: {err['message']}", fg="red", err=True)
        verb = "would be " if dry_run else ""
        click.echo(
            f"{kind}: {result.created} {verb}created, {result.updated} {verb}updated, "
            f"{result.unchanged} unchanged"
            + (
                f"; {len(result.invited_users)} new users to invite: "
                + ", ".join(result.invited_users)
                if result.invited_users
                else ""
            )
        )
        if result.format is not None and not result.format.get("sheet"):
            fmt = result.format
            delimiter = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
                fmt["delimiter"] or ",", fmt["delimiter"]
            )
            click.echo(f"read as {fmt['encoding']}, {delimiter}-separated")
        elif result.format is not None:
            click.echo(f"read from sheet '{result.format['sheet']}'")
        if result.settled:
            s = result.settled
            click.echo(
                f"settled parts (payments <invoice>:settled): {s['created']} {verb}created, "
                f"{s['updated']} {verb}updated, {s['deleted']} {verb}deleted"
            )
    if not result.ok:
        click.secho(
            f"error: {result.error_count} problem(s) in {file}; nothing was written",
            fg="red",
            err=True,
        )
        sys.exit(1)


@contextmanager
def _progress(file: Path, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on an interactive terminal, for files large enough to wait for."""
    size = file.stat().st_size if file.is_file() else 0
    if not enabled or not sys.stderr.isatty() or size < 5_000_000:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(f"importing {file.name}", total=size)
        yield lambda done: bar.update(task, completed=done)


@cli.group(context_settings=CONTEXT)
def plan() -> None:
    """Dunning plans: load from YAML, assign to customers."""


def _load_yaml_file(
    file: Path,
    company_code: str | None,
    as_json: bool,
    what: str,
    load: Callable[..., Any],
) -> Any:
    """Read a YAML file people wrote and hand it to a loading service; every problem found in it
    is printed with its place, and the command exits 1."""
    from relance.domain.plans.problems import PlanError
    from relance.services.organisation.companies import get_company

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reject(f"cannot read {file}: {exc}", as_json)
    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        try:
            return load(text, company=target)
        except PlanError as exc:  # every problem by its path, under the file's name
            problems = [{"path": p.path, "message": p.message} for p in exc.problems]
            reject(f"{file}: the {what} not valid:\n{exc}", as_json, {"errors": problems})


@plan.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--company",
    "company_code",
    metavar="CODE",
    help="Into this company's plans only (default: the library and every company).",
)
@json_option
def plan_load(file: Path, company_code: str | None, as_json: bool) -> None:
    """Validate and upsert (by code) the plan or list of plans in a YAML FILE.

    With --company, into that company's plans only; without, into the library and every
    company (each keeps its own copy, which later loads with --company change alone)."""
    from relance.services.dunning.plans import load_plans

    result = _load_yaml_file(file, company_code, as_json, "plan is", load_plans)
    lines = [
        f"{label} plan {code}"
        for label, codes in (
            ("Created", result.created),
            ("Updated", result.updated),
            ("Unchanged", result.unchanged),
        )
        for code in codes
    ]
    lines += [f"warning: {w.path}: {w.message}" for w in result.warnings]
    emit(as_json, result.as_json(), "\n".join(lines))


@plan.command("rules")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@company_option
@json_option
def plan_rules(file: Path, company_code: str | None, as_json: bool) -> None:
    """Replace the assignment rules (YAML list) that give customers without a plan their plan."""
    from relance.services.dunning.plans import load_rules

    result = _load_yaml_file(file, company_code, as_json, "rules are", load_rules)
    lines = [f"Loaded {result.rules} assignment rules for {result.company or 'every company'}."]
    lines += [f"warning: {w.path}: {w.message}" for w in result.warnings]
    emit(as_json, result.as_json(), "\n".join(lines))


@plan.command("assign")
@click.argument("customer_id")
@click.argument("plan_code")
@company_option
@json_option
def plan_assign(customer_id: str, plan_code: str, company_code: str | None, as_json: bool) -> None:
    """Assign plan PLAN_CODE to customer CUSTOMER_ID (external id)."""
    from relance.services.dunning.plans import assign_plan
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        customer = assign_plan(customer_id, plan_code, company=target)
    emit(
        as_json,
        {"customer": customer.external_id, "company": customer.company.code, "plan": plan_code},
        f"Customer {customer.external_id} ({customer.name}) now follows plan {plan_code}.",
    )


class Day(click.ParamType):
    """An ISO date (YYYY-MM-DD); anything else is a usage error (exit 2)."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
        except ValueError:
            pass
        self.fail(f"'{value}' is not a date in the form YYYY-MM-DD", param, ctx)


DAY = Day()


@cli.command()
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
    click.echo(
        f"{day}: {len(report.actions)} actions, {len(report.skipped)} superseded steps skipped"
        + (" (dry run: nothing written)" if dry_run else "")
    )


@cli.command()
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


@cli.command()
@click.argument("customer_id")
@click.option("--date", "day", type=DAY, required=True)
@company_option
@json_option
def statement(customer_id: str, day: date, company_code: str | None, as_json: bool) -> None:
    """What CUSTOMER_ID owes on --date, invoice by invoice, with totals per currency."""
    from relance.services.ledger.statements import statement as compute
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        result = compute(customer_id, day, target)
    lines = [
        f"{i['number']:<16} {i['amount_due']:>14} {i['currency']}  {i['days_late']:>4} days late"
        f"  interest {i['late_interest']:>10}  indemnity {i['fixed_indemnity']:>7}"
        for i in result["invoices"]
    ]
    lines += [f"Total {cur}: {amount}" for cur, amount in result["totals"].items()]
    lines += [f"Unallocated credit {cur}: {amount}" for cur, amount in result["credit"].items()]
    emit(as_json, result, "\n".join(lines) or "Nothing owed.")


@cli.command()
@click.option("--from", "start", type=DAY, required=True, help="First day of the period.")
@click.option("--to", "end", type=DAY, required=True, help="Last day of the period.")
@click.option("--currency", help="ISO code (default: the only one owed, else the company's).")
@click.option(
    "--company", "company_code", metavar="CODE", help="One company (default: all of them)."
)
@click.option(
    "--more",
    is_flag=True,
    help="Also weighted days to pay and late, % current, promise-kept rate, dispute "
    "resolution days and cash collected.",
)
@json_option
def kpi(
    start: date,
    end: date,
    currency: str | None,
    company_code: str | None,
    more: bool,
    as_json: bool,
) -> None:
    """DSO, best-possible DSO, ADD, CEI and aging over a period, in one currency (DESIGN §5)."""
    from relance.models import Company
    from relance.services.analytics.kpi import report
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        companies = [get_company(company_code)] if company_code else list(Company.objects.all())
        result = report(start, end, companies, currency, more=more)
    aging = ", ".join(f"{bucket} {amount}" for bucket, amount in result["aging"].items())
    text = (
        f"{start} to {end}, {result['currency']}: DSO {result['dso']}, best-possible DSO "
        f"{result['best_possible_dso']}, ADD {result['add']}, CEI {result['cei']}\n"
        f"aging: {aging}"
    )
    if more:

        def shown(key: str, unit: str = "") -> str:
            return "—" if result[key] is None else f"{result[key]}{unit}"

        text += (
            f"\nweighted days to pay {shown('weighted_days_to_pay')} (late "
            f"{shown('weighted_days_late')}), current {shown('percent_current', ' %')}, "
            f"promises kept {shown('promise_kept_rate', ' %')} of {result['promises_settled']}, "
            f"disputes resolved in {shown('dispute_resolution_days', ' days')} on average "
            f"({result['disputes_resolved']}), cash collected {result['cash_collected']}"
        )
    emit(as_json, result, text)


@cli.group()
def token() -> None:
    """API tokens: create (the secret is printed once), list, revoke."""


@token.command("create")
@click.option("--name", required=True, help="What uses it, e.g. 'ERP nightly sync'.")
@click.option("--write", is_flag=True, help="Read and write (default: read only).")
@company_option
@json_option
def token_create(name: str, write: bool, company_code: str | None, as_json: bool) -> None:
    """Create an API token for one company and print its secret (shown this once)."""
    from relance.services.integrations import api_tokens
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        company = get_company(company_code)
        made, secret = api_tokens.create(company, name, "write" if write else "read", source="cli")
    emit(
        as_json,
        {"name": made.name, "company": company.code, "scope": made.scope, "token": secret},
        f"{secret}\n(company {company.code}, {made.scope}; shown once: keep it now)",
    )


@token.command("list")
@company_option
@json_option
def token_list(company_code: str | None, as_json: bool) -> None:
    """A company's tokens: prefix, name, scope, last use, revoked or not (never the secret)."""
    from relance.models import ApiToken
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        company = get_company(company_code)
    rows = [
        {
            "prefix": t.prefix,
            "name": t.name,
            "scope": t.scope,
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
            "revoked": t.revoked_at is not None,
        }
        for t in ApiToken.objects.filter(company=company)
    ]
    text = "\n".join(
        f"rl_{r['prefix']}_…  {r['scope']:<5}  {r['name']}"
        + ("  (revoked)" if r["revoked"] else "")
        for r in rows
    )
    emit(as_json, {"tokens": rows}, text or "No token.")


@token.command("revoke")
@click.argument("prefix")
@json_option
def token_revoke(prefix: str, as_json: bool) -> None:
    """Revoke the token whose secret starts with rl_PREFIX_: it stops working at once."""
    from relance.models import ApiToken
    from relance.services.integrations import api_tokens

    found = ApiToken.objects.filter(prefix=prefix.removeprefix("rl_").split("_")[0]).first()
    if found is None:
        reject(f"no token rl_{prefix}_…", as_json, {"error": "unknown token", "prefix": prefix})
    api_tokens.revoke(found, source="cli")
    emit(as_json, {"prefix": found.prefix, "revoked": True}, f"Revoked {found.name}.")


@cli.group("user", context_settings=CONTEXT)
def user_group() -> None:
    """Staff accounts (everything else about them is in the admin and on the Team page)."""


@user_group.command("unlock")
@click.argument("username")
@json_option
def user_unlock(username: str, as_json: bool) -> None:
    """Let USERNAME log in again after too many wrong passwords, from every address."""
    from django.contrib.auth import get_user_model

    from relance.services.organisation import logins

    if not get_user_model().objects.filter(username=username).exists():
        reject(f"no user {username}", as_json, {"error": "unknown user", "username": username})
    was_locked = logins.unlock(username)
    emit(
        as_json,
        {"username": username, "was_locked": was_locked},
        f"{username} can log in again." if was_locked else f"{username} was not locked.",
    )


@cli.group()
def rate() -> None:
    """Reference rates of the late-payment law packs (ECB, BOE, FR_LEGAL)."""


@rate.command("add")
@click.argument("source", type=click.Choice(["ECB", "BOE", "FR_LEGAL"]))
@click.option("--since", type=DAY, required=True, help="First day the rate is in force.")
@click.option("--percent", type=click.FLOAT, required=True, help="The rate, e.g. 2.15.")
@json_option
def rate_add(source: str, since: date, percent: float, as_json: bool) -> None:
    """Record a newly published reference rate (or correct one)."""
    from decimal import Decimal

    from relance.services.ledger.late_fees import add_rate

    with rejections(as_json):
        row, created = add_rate(source, since, Decimal(str(percent)))
    emit(
        as_json,
        {
            "source": row.source,
            "since": row.since.isoformat(),
            "percent": f"{row.percent:.2f}",
            "created": created,
        },
        f"{'Added' if created else 'Corrected'} {row.source} {row.percent:.2f}% from {row.since}.",
    )


@rate.command("list")
@json_option
def rate_list(as_json: bool) -> None:
    """The rate table, per source, oldest first."""
    from relance.models import ReferenceRate

    rows = [
        {"source": r.source, "since": r.since.isoformat(), "percent": f"{r.percent:.2f}"}
        for r in ReferenceRate.objects.all()
    ]
    emit(
        as_json,
        {"rates": rows},
        "\n".join(f"{r['source']:<9} {r['since']}  {r['percent']:>6}%" for r in rows),
    )


@cli.command()
@click.argument("customer_id")
@click.option("--until", type=DAY, required=True, help="Last day of the hold (inclusive).")
@company_option
@json_option
def hold(customer_id: str, until: date, company_code: str | None, as_json: bool) -> None:
    """Hold all dunning of CUSTOMER_ID until a date (inclusive)."""
    from relance.services.dialogue import pauses
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        customer = pauses.hold(customer_id, until, company=target)
    emit(
        as_json,
        {"customer": customer.external_id, "hold_until": until.isoformat()},
        f"Customer {customer.external_id} on hold until {until}.",
    )


@cli.group(context_settings=CONTEXT)
def dispute() -> None:
    """Disputes: a disputed invoice leaves dunning until resolved."""


@dispute.command("open")
@click.argument("invoice_id")
@click.option("--on", "day", type=DAY, required=True)
@click.option("--reason", default="")
@company_option
@json_option
def dispute_open(
    invoice_id: str, day: date, reason: str, company_code: str | None, as_json: bool
) -> None:
    """Open a dispute on INVOICE_ID."""
    from relance.services.dialogue import pauses
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        opened = pauses.open_dispute(invoice_id, day, reason=reason, company=target)
    emit(
        as_json,
        {"invoice": invoice_id, "opened_on": day.isoformat(), "dispute": opened.pk},
        f"Dispute opened on invoice {invoice_id} on {day}.",
    )


@dispute.command("resolve")
@click.argument("invoice_id")
@click.option("--on", "day", type=DAY, required=True)
@click.option("--resolution", default="")
@company_option
@json_option
def dispute_resolve(
    invoice_id: str, day: date, resolution: str, company_code: str | None, as_json: bool
) -> None:
    """Resolve the open dispute on INVOICE_ID; dunning resumes if it is still unpaid."""
    from relance.services.dialogue import pauses
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        pauses.resolve_dispute(invoice_id, day, resolution=resolution, company=target)
    emit(
        as_json,
        {"invoice": invoice_id, "resolved_on": day.isoformat()},
        f"Dispute on invoice {invoice_id} resolved on {day}.",
    )


@cli.group(context_settings=CONTEXT)
def promise() -> None:
    """Promises to pay: promised invoices leave dunning until the promised date."""


@promise.command("add")
@click.argument("customer_id")
@click.option("--invoices", required=True, metavar="ID[,ID…]")
@click.option("--pay-by", type=DAY, required=True)
@click.option("--on", "day", type=DAY, required=True, help="The day the promise was made.")
@company_option
@json_option
def promise_add(
    customer_id: str,
    invoices: str,
    pay_by: date,
    day: date,
    company_code: str | None,
    as_json: bool,
) -> None:
    """Record CUSTOMER_ID's promise to pay some invoices by a date."""
    from relance.services.dialogue import pauses
    from relance.services.organisation.companies import get_company

    ids = [i.strip() for i in invoices.split(",") if i.strip()]
    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        made = pauses.add_promise(customer_id, ids, pay_by, day, company=target)
    emit(
        as_json,
        {
            "customer": customer_id,
            "invoices": ids,
            "pay_by": pay_by.isoformat(),
            "on": day.isoformat(),
            "promise": made.pk,
        },
        f"Promise recorded: {customer_id} pays {', '.join(ids)} by {pay_by}.",
    )


@cli.group(context_settings=CONTEXT)
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


@cli.command()
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
    from django.utils import timezone

    from relance.services.dunning.preview import preview as make
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        target = get_company(company_code) if company_code else None
        shown = make(
            customer_id,
            plan_code,
            step_name,
            day or timezone.localdate(),
            company=target,
            language=language,
            side=variant,
        )
    sms = shown.get("sms")
    length = (
        f"\n\n[{sms['segments']} SMS, {sms['characters']} {sms['encoding']} units]" if sms else ""
    )
    emit(as_json, shown, f"Subject: {shown['subject']}\n\n{shown['body']}{length}")


@cli.command("invoice-pdfs")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@company_option
@json_option
def invoice_pdfs(folder: Path, company_code: str | None, as_json: bool) -> None:
    """Attach the ERP's invoice PDFs in FOLDER (named after the invoice's id or number)."""
    from relance.services.ledger.invoice_pdfs import attach_folder
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        report = attach_folder(folder, get_company(company_code))
    emit(
        as_json,
        {
            "attached": report.attached,
            "unchanged": report.unchanged,
            "unmatched": report.unmatched,
            "refused": report.refused,
        },
        f"{len(report.attached)} attached, {len(report.unchanged)} unchanged, "
        f"{len(report.unmatched)} matching no invoice, {len(report.refused)} refused.",
    )


@cli.group()
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


@cli.command()
@click.option("--date", "day", type=DAY, help="Cancel messages for invoices paid by this day.")
@json_option
def deliver(day: date | None, as_json: bool) -> None:
    """Deliver the outbox messages that are due (retries included)."""
    from relance.services.dunning.outbox import deliver_due

    report = deliver_due(as_of=day)
    counts = {s: report.count(s) for s in ("sent", "failed", "dead", "cancelled")}
    emit(as_json, counts, ", ".join(f"{n} {s}" for s, n in counts.items()))


@cli.command()
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


@cli.command()
@click.option("--seed", default=42, show_default=True, help="Same seed, same ledger.")
@click.option("--customers", default=300, show_default=True, help="Customers per company.")
@click.option(
    "--password",
    default="relance-demo",
    show_default=True,
    help="Password of the demo user `admin`.",
)
@json_option
def demo(seed: int, customers: int, password: str, as_json: bool) -> None:
    """Load a realistic demo ledger: two companies (FR, UK), plans, customers, invoices…"""
    from relance.services.demo import load_demo

    summary = load_demo(seed=seed, customers=customers, password=password)
    lines = [
        f"{c}: " + ", ".join(f"{n} {k}" for k, n in counts.items())
        for c, counts in summary["companies"].items()
    ]
    lines.append(f"Log in as {summary['login']['username']} / {summary['login']['password']}")
    if rep := summary.get("sales_rep_login"):
        lines.append(f"A sales rep: {rep['username']} / {rep['password']}")
    emit(as_json, summary, "\n".join(lines))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def serve(host: str, port: int) -> None:
    """Serve the staff UI (embedded mode). In production run `gunicorn relance.wsgi`."""
    from django.core.management import call_command

    call_command("runserver", f"{host}:{port}", use_reloader=False, use_threading=True)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, **CONTEXT})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command, e.g. `relance manage createsuperuser`."""
    from django.core.management import execute_from_command_line

    execute_from_command_line(["relance manage", *args])


def main() -> None:
    cli(prog_name="relance")


from relance.cli.mappings import mapping  # noqa: E402  (the group registers on `cli`)

cli.add_command(mapping)


if __name__ == "__main__":
    main()
