"""The options and argument types every command group shares, so each reads and says them alike."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


json_option = click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")


company_option = click.option(
    "--company", "company_code", metavar="CODE", help="Company code (default: default)."
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
