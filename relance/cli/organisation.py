"""`relance company` and `relance user`: the companies relance collects for and their staff."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from relance.cli.options import CONTEXT, DAY, json_option
from relance.cli.output import emit, reject, rejections


@click.group(context_settings=CONTEXT)
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
@click.option(
    "--registration-city", help="Where it is registered: Lyon (RCS Lyon), England and Wales…"
)
@click.option("--legal-form", help="SAS, SARL, Ltd, GmbH…")
@click.option("--share-capital", metavar="AMOUNT", help="In the company's currency, e.g. 10000.")
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


_POLICIES = {"step1": "step1", "by-age": "by_age", "ignore-before": "ignore_before"}


@company.command("golive")
@click.argument("code")
@click.option(
    "--policy",
    type=click.Choice(list(_POLICIES)),
    default="step1",
    show_default=True,
    help="Where each customer's first cycle starts: step 1 of their plan (for an invoice already "
    "overdue, the first step after its due date), the step their oldest invoice's age warrants, "
    "or as by age but leaving out invoices due before --before.",
)
@click.option(
    "--before", type=DAY, metavar="YYYY-MM-DD", help="With --policy ignore-before: that date."
)
@json_option
def company_golive(code: str, policy: str, before: date | None, as_json: bool) -> None:
    """Switch on automatic sending for company CODE with a first-run policy.

    Companies made by `relance init` and `relance company add` already send, by age: this
    changes their policy. The staff app's go-live page shows what the first cycle would do."""
    from relance.services.dunning.golive import go_live
    from relance.services.organisation.companies import get_company

    if (policy == "ignore-before") != (before is not None):
        raise click.UsageError("--before D goes with --policy ignore-before, and only with it")
    with rejections(as_json):
        obj = get_company(code)
        event = go_live(obj, _POLICIES[policy], before, source="cli")
    emit(
        as_json,
        {
            "code": obj.code,
            "automatic_sending": True,
            "policy": _POLICIES[policy],
            "before": before.isoformat() if before else None,
            "was_live": event.data["was_live"],
        },
        f"Company {obj.code}: automatic sending on, first-run policy {policy}"
        + (f" {before.isoformat()}" if before else "")
        + (" (it was already live: policy changed)." if event.data["was_live"] else "."),
    )


@click.group("user", context_settings=CONTEXT)
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
