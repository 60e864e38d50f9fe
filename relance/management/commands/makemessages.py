"""Django's makemessages, also collecting the domain's messages marked with `N_` and the texts
of the shipped plans.

The pure domain (relance.domain, no Django) marks the texts a person reads with
`relance.domain.texts.N_` and has them translated later, when they become text; xgettext only
knows gettext's own names, so this command adds `N_` to them (`make messages` runs it). The
shipped plans are YAML, which xgettext does not read: their texts (plan and step names, call
scripts) are written to a Python file of `gettext_noop` calls in the directory scanned, for the
time of the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.commands import makemessages

from relance.services.dunning.plans import shipped_texts

SHIPPED_TEXTS = "_shipped_plan_texts.py"


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]

    def handle(self, *args: Any, **options: Any) -> None:
        listing = Path.cwd() / SHIPPED_TEXTS
        lines = ["from django.utils.translation import gettext_noop", ""]
        for text in shipped_texts():  # Jinja's {% %} and {{ }} are not Python formats
            lines += ["# xgettext:no-python-format", f"gettext_noop({text!r})"]
        listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            super().handle(*args, **options)
        finally:
            listing.unlink()
