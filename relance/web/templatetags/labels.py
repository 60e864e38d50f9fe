"""Codes the pages show as the words a finance team reads: `{{ step.channel|channel }}` is
"E-mail" or "Appel", not `email` or `call`."""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext_lazy

from relance.web.plan_forms import CHANNELS

register = template.Library()
_CHANNELS = dict(CHANNELS)
#: What a contact is for (models.Contact.ROLES), as a badge beside their name.
_ROLES = {
    "billing": pgettext_lazy("contact role", "billing"),
    "escalation": pgettext_lazy("contact role", "escalation"),
    "legal": pgettext_lazy("contact role", "legal"),
    "primary": pgettext_lazy("contact role", "primary"),
}


@register.filter
def channel(code: str) -> str:
    """A step's or a message's channel in the reader's language (an unknown code as it is)."""
    label = _CHANNELS.get(code)
    return str(label) if label is not None else code


@register.filter
def contact_role(code: str) -> str:
    """A contact's role in the reader's language (an unknown role as it was imported)."""
    label = _ROLES.get(code)
    return str(label) if label is not None else code
