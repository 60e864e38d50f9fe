"""`relance kpi`: the collection figures of a period."""

from __future__ import annotations

from datetime import date

import click

from relance.cli.options import DAY, json_option
from relance.cli.output import emit, rejections


@click.command()
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
