"""A company's team: who may use relance for it, in which role, and their invitations.

Imports create the owners and sales reps they name as inactive users "to be invited"; an admin
adds others here. An invitation is a link to choose one's password, signed with Django's password
reset tokens: it works once (choosing a password changes what the token is made of) and expires
after settings.PASSWORD_RESET_TIMEOUT. Staff accounts are not customers' affairs, so invitations
are sent as plain transactional email, not through the dunning outbox.

Someone who already has an account (in another company, say) is never attached without their
consent, and the admin cannot tell them from a new address: both get an invitation, and the
answer is the same. Theirs is a link to accept joining, signed (django.core.signing) with the
company, role, address and time: no table, valid for PASSWORD_RESET_TIMEOUT, only for a user
logged in with that address, and void once the admin cancels it or removes them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
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
def add(
    company: Company, email: str, name: str, role: str, *, actor: Any, base_url: str
) -> Membership | None:
    """Invite someone to a role in the company, the same way whoever they are.

    An address nobody can log in with yet (new, or an account an import created) gets an
    inactive user and membership at once, and the invitation to choose a password. An address of
    an account in use gets an invitation to accept joining (`join`): nothing is attached before.
    Returns the new membership, if any (the caller must not tell the admin the difference)."""
    email = email.strip()
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is not None and (user.is_active or user.has_usable_password()):
        if Membership.objects.filter(company=company, user=user).exists():
            raise Refused(_already(email, company, user))
        invite_to_join(company, email, name, role, base_url, actor=actor)
        return None
    if user is None:
        first, _sep, last = name.strip().partition(" ")
        user = get_user_model().objects.create_user(
            username=email, email=email, first_name=first, last_name=last, is_active=False
        )
    membership, created = Membership.objects.get_or_create(
        company=company, user=user, defaults={"role": role}
    )
    if not created:
        raise Refused(_already(email, company, user))
    _log(company, actor, "member.added", email=email, role=role)
    invite(membership, base_url, actor=actor)
    return membership


def _already(email: str, company: Company, user: Any) -> str:
    membership = Membership.objects.get(company=company, user=user)
    return f"{email} is already a member, as {membership.get_role_display()}"


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


JOIN_SALT = "relance.team.join"
#: Events after which earlier join invitations for that address no longer work.
_VOIDING = ("member.removed", "member.invitation_cancelled", "member.joined")


class InvalidInvitation(ValueError):
    """The link was altered, expired, cancelled, or already used."""


class NotYours(ValueError):
    """The invitation was sent to another address than the logged-in user's."""


@dataclass(frozen=True)
class Invitation:
    company: Company
    email: str
    role: str
    issued: datetime

    def get_role_display(self) -> str:
        return str(Role(self.role).label)


def join_token(company: Company, email: str, role: str) -> str:
    issued = timezone.now().isoformat()
    return signing.dumps(
        {"c": company.pk, "e": email.strip().lower(), "r": role, "t": issued}, salt=JOIN_SALT
    )


def invite_to_join(
    company: Company, email: str, name: str, role: str, base_url: str, *, actor: Any
) -> None:
    """Email an existing account's address a link to accept joining the company in that role."""
    link = base_url.rstrip("/") + f"/team/join/{join_token(company, email, role)}/"
    days = settings.PASSWORD_RESET_TIMEOUT // 86400
    send_mail(
        subject=f"{company.name}: your relance account",
        message=(
            f"Hello,\n\n{company.name} uses relance to follow up unpaid invoices, and invites you "
            f"to join as {Role(role).label.lower()}.\n\n"
            f"To accept, open this link and log in with your relance account "
            f"(it works for {days} days):\n{link}\n\n"
            f"If you do not expect this, ignore this email: nothing changes until you accept.\n"
        ),
        from_email=company.sender_email or settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
    )
    _log(company, actor, "member.invited", email=email, role=role, name=name.strip(), join=True)


def _voided(company: Company, email: str, since: datetime) -> bool:
    return Event.objects.filter(
        company=company, kind__in=_VOIDING, data__email__iexact=email, at__gte=since
    ).exists()


def read_invitation(token: str, user: Any) -> Invitation:
    """The invitation in this link, for this logged-in user; InvalidInvitation or NotYours."""
    try:
        data = signing.loads(token, salt=JOIN_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
        company = Company.objects.get(pk=data["c"])
        found = Invitation(company, data["e"], Role(data["r"]), datetime.fromisoformat(data["t"]))
    except (signing.BadSignature, Company.DoesNotExist, KeyError, TypeError, ValueError) as exc:
        raise InvalidInvitation from exc
    if _voided(found.company, found.email, found.issued):
        raise InvalidInvitation
    if (user.email or "").strip().lower() != found.email:
        raise NotYours
    return found


@transaction.atomic
def join(token: str, user: Any) -> Membership:
    """Accept the invitation: the user becomes a member in the role it names."""
    found = read_invitation(token, user)
    if Membership.objects.filter(company=found.company, user=user).exists():
        raise InvalidInvitation
    membership = Membership.objects.create(company=found.company, user=user, role=found.role)
    _log(found.company, user, "member.joined", email=found.email, role=found.role)
    return membership


def pending(company: Company) -> list[dict[str, Any]]:
    """Invitations to join sent in the last PASSWORD_RESET_TIMEOUT and not answered, cancelled,
    nor made moot (the address is a member): the latest per address."""
    since = timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    members_emails = {
        e.lower()
        for e in Membership.objects.filter(company=company).values_list("user__email", flat=True)
    }
    latest: dict[str, Event] = {}
    for event in Event.objects.filter(company=company, kind="member.invited", at__gte=since):
        if event.data.get("join"):
            latest[str(event.data["email"]).lower()] = event
    return [
        {"email": e.data["email"], "name": e.data.get("name", ""), "role": Role(e.data["role"])}
        for email, e in sorted(latest.items())
        if email not in members_emails and not _voided(company, email, e.at)
    ]


def cancel_invitation(company: Company, email: str, *, actor: Any) -> None:
    _log(company, actor, "member.invitation_cancelled", email=email.strip().lower())
