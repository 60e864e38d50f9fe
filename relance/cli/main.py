"""The `relance` command (DESIGN §4). Thin: parse arguments, call a service, print the outcome.

Exit codes: 0 success, 1 input rejected (with the reason), 2 usage error (click's own).

The command groups live in modules named after the service areas they drive (ledger, plans,
dunning, dialogue, analytics, integrations, organisation), so a command is found where its
services are; this module keeps the root group and the commands about the installation itself
(init, demo, serve, manage). Click lists commands by name, so where a command is defined does not
change `relance --help`.
"""

from __future__ import annotations

import os

import click

from relance.cli import (
    analytics,
    dialogue,
    dunning,
    integrations,
    ledger,
    mappings,
    organisation,
    plans,
)
from relance.cli.options import CONTEXT, json_option
from relance.cli.output import emit


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    import django

    django.setup()


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


for command in (
    organisation.company,
    organisation.user_group,
    ledger.import_,
    ledger.statement,
    ledger.invoice_pdfs,
    ledger.rate,
    mappings.mapping,
    plans.plan,
    dunning.run,
    dunning.forecast,
    dunning.preview,
    dunning.actions,
    dunning.letters,
    dunning.deliver,
    dunning.scheduler,
    dialogue.hold,
    dialogue.dispute,
    dialogue.promise,
    analytics.kpi,
    integrations.token,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="relance")


if __name__ == "__main__":
    main()
