"""Shared mailboxes (aliases) such as ar@company.com: a plan's manual step given to one goes to
the Actions inbox of each of its members. A company's admins add them, choose their members among
the company's people, and remove them; each change is on the company's journal."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from relance.models import Alias, Company, Membership
from relance.services.organisation import journal
from relance.services.organisation.settings import SettingsRefused, may_edit


def _members(company: Company, user_ids: Iterable[int]) -> list[int]:
    """The ids given that are people of the company; anyone else is refused by name of field."""
    wanted = {int(pk) for pk in user_ids}
    found = set(
        Membership.objects.filter(company=company, user_id__in=wanted).values_list(
            "user_id", flat=True
        )
    )
    if wanted - found:
        raise ValidationError({"members": [_("Choose members among the company's people.")]})
    return sorted(found)


def _allowed(company: Company, actor: Any) -> None:
    if not may_edit(actor, company):
        raise SettingsRefused(_("Only the company's administrators may change its settings."))


@transaction.atomic
def add(company: Company, email: str, name: str, members: Iterable[int], *, actor: Any) -> Alias:
    _allowed(company, actor)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"email": [_("'%(email)s' is not an email address.") % {"email": email}]}
        ) from None
    if Alias.objects.filter(company=company, email__iexact=email).exists():
        raise ValidationError(
            {"email": [_("%(email)s is a shared mailbox already.") % {"email": email}]}
        )
    people = _members(company, members)
    alias = Alias.objects.create(company=company, email=email, name=name.strip()[:100])
    alias.members.set(people)
    journal.record(
        "alias.added", company, actor=actor, source="web", data={"email": email, "members": people}
    )
    return alias


@transaction.atomic
def change(alias: Alias, name: str, members: Iterable[int], *, actor: Any) -> None:
    _allowed(alias.company, actor)
    people = _members(alias.company, members)
    alias.name = name.strip()[:100]
    alias.save(update_fields=["name"])
    alias.members.set(people)
    journal.record(
        "alias.changed",
        alias.company,
        actor=actor,
        source="web",
        data={"email": alias.email, "members": people},
    )


@transaction.atomic
def remove(alias: Alias, *, actor: Any) -> None:
    _allowed(alias.company, actor)
    journal.record(
        "alias.removed", alias.company, actor=actor, source="web", data={"email": alias.email}
    )
    alias.delete()


__all__ = ["add", "change", "remove"]
