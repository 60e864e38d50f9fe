"""Codes the pages show as the words a finance team reads: `{{ step.channel|channel }}` is
"E-mail" or "Appel", not `email` or `call`."""

from __future__ import annotations

from django import template

from relance.web.plan_forms import CHANNELS

register = template.Library()
_CHANNELS = dict(CHANNELS)


@register.filter
def channel(code: str) -> str:
    """A step's or a message's channel in the reader's language (an unknown code as it is)."""
    label = _CHANNELS.get(code)
    return str(label) if label is not None else code
