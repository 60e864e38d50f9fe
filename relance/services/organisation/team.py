"""A company's team: who may use relance for it, in which role, and their invitations.

Imports create the owners and sales reps they name as inactive users "to be invited"; an admin
adds others here. An invitation is a link to choose one's password, signed with Django's password
reset tokens: it works once (choosing a password changes what the token is made of) and expires
after settings.PASSWORD_RESET_TIMEOUT. Staff accounts are not customers' affairs, so invitations
are sent as plain transactional email, not through the dunning outbox.

Someone who already has an account (in another company, say) is never attached without their
consent, and the admin cannot tell them from a new address: both get an invitation, the answer
is the same, and the team page lists both alike (`invited`) with the same controls, reached by
company and address (`change_invited_role`, `send_again`, `withdraw`), never by a number that
would tell a membership from an invitation. Theirs is a link to accept joining, signed
(django.core.signing) with the id of the "member.invited" event that sent it: no table, valid
for PASSWORD_RESET_TIMEOUT, only for a user logged in with that address, and only while it is
the latest word about that address in the company (a new invitation, with another role say, a
cancellation, a removal or a join void it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from relance.domain.errors import Forbidden, NotFound, Refusal
from relance.models import Company, Event, Membership
from relance.services.organisation import journal

Role = Membership.Role


class TeamRefused(Refusal, ValueError):
    """The change would leave the team in a state it must not be in; the message says why."""


def display_name(user: Any) -> str:
    """A person as colleagues know them: first and last name, else email, else username."""
    return str(user.get_full_name().strip() or user.email or user.get_username())


def members(company: Company) -> list[Membership]:
    """The members whose account is in use; those still invited are in `invited`."""
    return list(
        Membership.objects.filter(company=company, user__is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


@transaction.atomic
def add(
    company: Company, email: str, name: str, role: str, *, actor: Any, base_url: str
) -> Membership | None:
    """Invite someone to a role in the company, the same way whoever they are.

    An address nobody can log in with yet (new, or an account an import created) gets an
    inactive user and membership at once, and the invitation to choose a password. An address of
    an account in use gets an invitation to accept joining (`join`): nothing is attached before.
    Returns the new membership, if any (the caller must not tell the admin the difference)."""
    email, name = email.strip(), name.strip()
    for waiting in _pending(company):
        if waiting.email.lower() == email.lower():
            raise TeamRefused(f"{email} is already invited, as {Role(waiting.role).label}")
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is not None and (user.is_active or user.has_usable_password()):
        if Membership.objects.filter(company=company, user=user).exists():
            raise TeamRefused(_already(email, company, user))
        invite_to_join(company, email, name, role, base_url, actor=actor)
        return None
    if user is None:
        first, _sep, last = name.partition(" ")
        user = get_user_model().objects.create_user(
            username=email, email=email, first_name=first, last_name=last, is_active=False
        )
    membership, created = Membership.objects.get_or_create(
        company=company, user=user, defaults={"role": role}
    )
    if not created:
        raise TeamRefused(_already(email, company, user))
    journal.record(
        "member.added",
        company,
        actor=actor,
        source="web",
        data={"email": email, "role": role, "name": name},
    )
    invite(membership, base_url, actor=actor)
    return membership


def _already(email: str, company: Company, user: Any) -> str:
    membership = Membership.objects.get(company=company, user=user)
    if not user.is_active:
        return f"{email} is already invited, as {membership.get_role_display()}"
    return f"{email} is already a member, as {membership.get_role_display()}"


def _admins_left(company: Company, without: Membership) -> int:
    return (
        Membership.objects.filter(company=company, role=Role.ADMIN, user__is_active=True)
        .exclude(pk=without.pk)
        .count()
    )


@transaction.atomic
def change_role(membership: Membership, role: str, *, actor: Any) -> None:
    demoted = membership.role == Role.ADMIN and role != Role.ADMIN and membership.user.is_active
    if demoted and not _admins_left(membership.company, membership):
        raise TeamRefused("the company needs at least one active admin")
    previous, membership.role = membership.role, role
    membership.save(update_fields=["role"])
    journal.record(
        "member.role_changed",
        membership.company,
        actor=actor,
        source="web",
        data={"email": membership.user.email, "role": role, "previous": previous},
    )


@transaction.atomic
def remove(membership: Membership, *, actor: Any) -> None:
    admin = membership.role == Role.ADMIN and membership.user.is_active
    if admin and not _admins_left(membership.company, membership):
        raise TeamRefused("the company needs at least one active admin")
    journal.record(
        "member.removed",
        membership.company,
        actor=actor,
        source="web",
        data={"email": membership.user.email},
    )
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
    journal.record("member.invited", company, actor=actor, source="web", data={"email": user.email})


JOIN_SALT = "relance.team.join"
#: Events about an address after which an earlier invitation to join no longer works.
_VOIDING = ("member.invited", "member.removed", "member.invitation_cancelled", "member.joined")


class InvalidInvitation(Forbidden, ValueError):
    """The link was altered, expired, cancelled, replaced or already used."""


class NotYours(Forbidden, ValueError):
    """The invitation was sent to another address than the logged-in user's."""


class NotInvited(NotFound, LookupError):
    """Nobody with this address is waiting to answer an invitation of this company."""


@dataclass(frozen=True)
class Invitation:
    company: Company
    email: str
    role: str
    issued: datetime

    def get_role_display(self) -> str:
        return str(Role(self.role).label)


@dataclass(frozen=True)
class Invited:
    """Someone invited who has not answered yet, as the admin entered them: a member whose
    account is not in use yet (`membership`), or an account's address invited to join (no
    membership until they accept). The team page shows both alike."""

    email: str
    name: str
    role: str
    membership: Membership | None = None


def invite_to_join(
    company: Company, email: str, name: str, role: str, base_url: str, *, actor: Any
) -> None:
    """Email an existing account's address a link to accept joining the company in that role;
    earlier links to that address stop working."""
    event = journal.record(
        "member.invited",
        company,
        actor=actor,
        source="web",
        data={"email": email, "role": role, "name": name.strip(), "join": True},
    )
    token = signing.dumps({"i": event.pk}, salt=JOIN_SALT)
    link = base_url.rstrip("/") + f"/team/join/{token}/"
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


def _superseded(event: Event) -> bool:
    """Whether something happened about this invitation's address since it was sent."""
    return Event.objects.filter(
        company_id=event.company_id,
        kind__in=_VOIDING,
        data__email__iexact=str(event.data["email"]),
        pk__gt=event.pk,
    ).exists()


def read_invitation(token: str, user: Any) -> Invitation:
    """The invitation in this link, for this logged-in user; InvalidInvitation or NotYours."""
    try:
        data = signing.loads(token, salt=JOIN_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
        event = Event.objects.select_related("company").get(
            pk=data["i"], kind="member.invited", data__join=True
        )
        found = Invitation(
            event.company, str(event.data["email"]).lower(), Role(event.data["role"]), event.at
        )
    except (signing.BadSignature, Event.DoesNotExist, KeyError, TypeError, ValueError) as exc:
        raise InvalidInvitation from exc
    if _superseded(event):
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
    journal.record(
        "member.joined",
        found.company,
        actor=user,
        source="web",
        data={"email": found.email, "role": found.role},
    )
    return membership


def _pending(company: Company) -> list[Invited]:
    """Invitations to join not answered, cancelled nor made moot (the address is a member),
    expired or not (like a member's invitation, it can be sent again): the latest per address."""
    members_emails = {
        e.lower()
        for e in Membership.objects.filter(company=company).values_list("user__email", flat=True)
    }
    latest: dict[str, Event] = {}
    for event in Event.objects.filter(
        company=company, kind="member.invited", data__join=True
    ).order_by("pk"):
        latest[str(event.data["email"]).lower()] = event
    return [
        Invited(str(e.data["email"]), str(e.data.get("name", "")), Role(e.data["role"]))
        for email, e in latest.items()
        if email not in members_emails and not _superseded(e)
    ]


def invited(company: Company) -> list[Invited]:
    """Everyone invited who has not answered yet, members-to-be and invitations to join alike,
    each with the address and name the admin entered (not what another company knows of the
    account), in the order of their addresses."""
    entered: dict[str, dict[str, Any]] = {}
    for event in Event.objects.filter(company=company, kind="member.added").order_by("pk"):
        entered[str(event.data.get("email", "")).lower()] = event.data
    found = _pending(company)
    for membership in Membership.objects.filter(
        company=company, user__is_active=False
    ).select_related("user"):
        user = membership.user
        typed = entered.get(user.email.lower(), {})
        name = typed["name"] if "name" in typed else user.get_full_name()
        found.append(Invited(typed.get("email", user.email), name, membership.role, membership))
    return sorted(found, key=lambda i: (i.email.casefold(), i.email))


def find_invited(company: Company, email: str) -> Invited:
    """The person invited with this address (any letter case); NotInvited if nobody is."""
    for person in invited(company):
        if person.email.casefold() == email.strip().casefold():
            return person
    raise NotInvited(email)


@transaction.atomic
def change_invited_role(
    company: Company, email: str, role: str, *, actor: Any, base_url: str
) -> Invited:
    """Give someone invited another role: a member-to-be has it at once; an invitation to join
    is sent again with it, and the earlier link stops working."""
    person = find_invited(company, email)
    if person.membership is not None:
        change_role(person.membership, role, actor=actor)
    elif role != person.role:
        invite_to_join(company, person.email, person.name, role, base_url, actor=actor)
    return person


@transaction.atomic
def send_again(company: Company, email: str, *, actor: Any, base_url: str) -> Invited:
    """Send the invitation again (an invitation to join: a new link, the earlier one void)."""
    person = find_invited(company, email)
    if person.membership is not None:
        invite(person.membership, base_url, actor=actor)
    else:
        invite_to_join(company, person.email, person.name, person.role, base_url, actor=actor)
    return person


@transaction.atomic
def withdraw(company: Company, email: str, *, actor: Any) -> Invited:
    """Take someone invited off the team: a member-to-be is removed, an invitation to join is
    cancelled (its link stops working)."""
    person = find_invited(company, email)
    if person.membership is not None:
        remove(person.membership, actor=actor)
    else:
        journal.record(
            "member.invitation_cancelled",
            company,
            actor=actor,
            source="web",
            data={"email": person.email.lower()},
        )
    return person
