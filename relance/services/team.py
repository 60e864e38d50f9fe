"""A company's team: who may use relance for it, in which role, and their invitations.

Imports create the owners and sales reps they name as inactive users "to be invited"; an admin
adds others here. An invitation is a link to choose one's password, signed with Django's password
reset tokens: it works once (choosing a password changes what the token is made of) and expires
after settings.PASSWORD_RESET_TIMEOUT. Staff accounts are not customers' affairs, so invitations
are sent as plain transactional email, not through the dunning outbox.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from relance.models import Company, Event, Membership

Role = Membership.Role


class Refused(ValueError):
    """The change would leave the team in a state it must not be in; the message says why."""


def members(company: Company) -> list[Membership]:
    return list(
        Membership.objects.filter(company=company)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


def _log(company: Company, actor: Any, kind: str, **data: Any) -> None:
    Event.objects.create(company=company, actor=actor, source="web", kind=kind, data=data)


@transaction.atomic
def add(company: Company, email: str, name: str, role: str, *, actor: Any) -> Membership:
    """Give someone a role in the company: an existing user by address, or a new one, inactive
    until they accept the invitation."""
    email = email.strip()
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is None:
        first, _sep, last = name.strip().partition(" ")
        user = get_user_model().objects.create_user(
            username=email, email=email, first_name=first, last_name=last, is_active=False
        )
    membership, created = Membership.objects.get_or_create(
        company=company, user=user, defaults={"role": role}
    )
    if not created:
        raise Refused(f"{email} is already a member, as {membership.get_role_display()}")
    _log(company, actor, "member.added", email=email, role=role)
    return membership


def _admins_left(company: Company, without: Membership) -> int:
    return (
        Membership.objects.filter(company=company, role=Role.ADMIN, user__is_active=True)
        .exclude(pk=without.pk)
        .count()
    )


@transaction.atomic
def change_role(membership: Membership, role: str, *, actor: Any) -> None:
    demoted = membership.role == Role.ADMIN and role != Role.ADMIN
    if demoted and not _admins_left(membership.company, membership):
        raise Refused("the company needs at least one active admin")
    previous, membership.role = membership.role, role
    membership.save(update_fields=["role"])
    _log(
        membership.company,
        actor,
        "member.role_changed",
        email=membership.user.email,
        role=role,
        previous=previous,
    )


@transaction.atomic
def remove(membership: Membership, *, actor: Any) -> None:
    if membership.role == Role.ADMIN and not _admins_left(membership.company, membership):
        raise Refused("the company needs at least one active admin")
    _log(membership.company, actor, "member.removed", email=membership.user.email)
    membership.delete()


def invitation_path(user: Any) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/invite/{uid}/{default_token_generator.make_token(user)}/"


def invite(membership: Membership, base_url: str, *, actor: Any) -> None:
    """Email the member a link to choose their password (and so activate their account)."""
    user, company = membership.user, membership.company
    link = base_url.rstrip("/") + invitation_path(user)
    days = settings.PASSWORD_RESET_TIMEOUT // 86400
    send_mail(
        subject=f"{company.name}: your relance account",
        message=(
            f"Hello,\n\n{company.name} uses relance to follow up unpaid invoices, and has given "
            f"you access as {membership.get_role_display().lower()}.\n\n"
            f"Choose your password here (the link works once, for {days} days):\n{link}\n\n"
            f"Your user name is {user.get_username()}.\n"
        ),
        from_email=company.sender_email or settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    _log(company, actor, "member.invited", email=user.email)
