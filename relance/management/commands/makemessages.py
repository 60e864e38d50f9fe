"""Django's makemessages, also collecting the domain's messages marked with `N_`.

The pure domain (relance.domain, no Django) marks the texts a person reads with
`relance.domain.texts.N_` and has them translated later, when they become text; xgettext only
knows gettext's own names, so this command adds `N_` to them (`make messages` runs it).
"""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]
