"""The team page: a company's admins give people a role (admin, credit controller, sales rep,
read-only), change it, take it away, and send invitations; and the page where an invited person
chooses their password. Everything else about users stays in the Django admin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relance.messaging import formatting
from relance.models import Company, Membership
from relance.services.organisation import access, journal, logins, team
from relance.web import pages
from relance.web.reach import chosen_company

ROLES = [
    (Membership.Role.ADMIN, gettext_lazy("Administrator")),
    (Membership.Role.CREDIT_CONTROLLER, gettext_lazy("Credit controller")),
    (Membership.Role.SALES_REP, gettext_lazy("Sales rep")),
    (Membership.Role.READ_ONLY, gettext_lazy("Read-only")),
]


class AddForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email"))
    name = forms.CharField(label=gettext_lazy("Name"), required=False, max_length=150)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=ROLES)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=ROLES)


def administered(user: Any) -> list[Company]:
    """The companies where this user manages the team."""
    return list(
        Company.objects.filter(
            pk__in=[c for c, role in access.roles(user).items() if role == Membership.Role.ADMIN]
        ).order_by("name")
    )


def _company(request: HttpRequest) -> Company:
    return chosen_company(request, administered(request.user))


def _membership(request: HttpRequest, pk: int) -> Membership:
    """A member whose account is in use, by number. Those still invited are reached by address
    only (`_invited`), so that a number cannot tell a member-to-be from an invitation to join."""
    membership = get_object_or_404(Membership.objects.select_related("user", "company"), pk=pk)
    if membership.company not in administered(request.user):
        if membership.company_id in access.roles(request.user):
            raise PermissionDenied
        raise Http404
    if not membership.user.is_active:
        raise Http404
    return membership


def _back(membership: Membership) -> HttpResponse:
    return redirect(reverse("team") + f"?company={membership.company_id}")


@login_required
def team_page(request: HttpRequest, form: AddForm | None = None) -> HttpResponse:
    company = _company(request)
    language = pages.language()
    members = team.members(company)
    locked = logins.locked(m.user.get_username() for m in members)
    rows = [
        {
            "membership": m,
            "form": RoleForm(initial={"role": m.role}, prefix=f"m{m.pk}"),
            "last_seen": formatting.day(timezone.localdate(m.user.last_login), language)
            if m.user.last_login
            else "",
            "locked": m.user.get_username() in locked,
        }
        for m in members
    ]
    # Everyone invited, whether their address is new or has an account somewhere, in the same
    # rows with the same controls: nothing on the page tells them apart but the address.
    invited = [
        {"person": person, "form": RoleForm(initial={"role": person.role}, auto_id=False)}
        for person in team.invited(company)
    ]
    context = {
        "company": company,
        "invited": invited,
        "companies": administered(request.user),
        "rows": rows,
        "form": form or AddForm(initial={"role": Membership.Role.CREDIT_CONTROLLER}),
    }
    return render(request, "relance/team.html", context)


@login_required
@require_POST
def member_add(request: HttpRequest) -> HttpResponse:
    company = _company(request)
    form = AddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            team.add(
                company,
                data["email"],
                data["name"],
                data["role"],
                actor=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except team.TeamRefused as exc:
            form.add_error("email", str(exc))
        else:
            # The same answer whether the address is new or has an account (in any company).
            messages.success(request, _("Invitation sent to %(email)s.") % data)
            return redirect(reverse("team") + f"?company={company.pk}")
    return team_page(request, form)


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    form = RoleForm(request.POST, prefix=f"m{pk}")
    if form.is_valid():
        try:
            team.change_role(membership, form.cleaned_data["role"], actor=request.user)
            messages.success(request, _("Role changed."))
        except team.TeamRefused as exc:
            messages.error(request, str(exc))
    return _back(membership)


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    try:
        team.remove(membership, actor=request.user)
        messages.success(request, _("%(email)s removed.") % {"email": membership.user.email})
    except team.TeamRefused as exc:
        messages.error(request, str(exc))
    return _back(membership)


@login_required
@require_POST
def member_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    """Let a member locked out by too many wrong passwords log in again."""
    membership = _membership(request, pk)
    logins.unlock(membership.user.get_username())
    journal.record(
        "member.unlocked",
        membership.company,
        actor=request.user,
        source="web",
        data={"email": membership.user.email},
    )
    messages.success(request, _("%(email)s can log in again.") % {"email": membership.user.email})
    return _back(membership)


def _team(company: Company) -> HttpResponse:
    return redirect(reverse("team") + f"?company={company.pk}")


# Someone invited is reached by company and address (posted by the team page's controls),
# whether they are a member-to-be or an invitation to join: the same endpoints, the same answers.


@login_required
@require_POST
def invited_role(request: HttpRequest) -> HttpResponse:
    company, email = _company(request), request.POST.get("email", "")
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            team.change_invited_role(
                company,
                email,
                form.cleaned_data["role"],
                actor=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except team.NotInvited:
            raise Http404 from None
        messages.success(request, _("Role changed."))
    return _team(company)


@login_required
@require_POST
def invited_send(request: HttpRequest) -> HttpResponse:
    company, email = _company(request), request.POST.get("email", "")
    try:
        person = team.send_again(
            company, email, actor=request.user, base_url=request.build_absolute_uri("/")
        )
    except team.NotInvited:
        raise Http404 from None
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": person.email})
    return _team(company)


@login_required
@require_POST
def invited_remove(request: HttpRequest) -> HttpResponse:
    company, email = _company(request), request.POST.get("email", "")
    try:
        person = team.withdraw(company, email, actor=request.user)
    except team.NotInvited:
        raise Http404 from None
    messages.success(request, _("%(email)s removed.") % {"email": person.email})
    return _team(company)


@login_required
def join(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation to join a company, for someone who already has an account: they see which
    company and role, and accept (POST); only then are they a member."""
    try:
        invitation = team.read_invitation(token, request.user)
    except team.InvalidInvitation:
        return render(request, "relance/team_join.html", {"invitation": None})
    except team.NotYours:
        return render(request, "relance/team_join.html", {"not_yours": True}, status=403)
    if request.method == "POST":
        try:
            team.join(token, request.user)
        except team.InvalidInvitation:
            return render(request, "relance/team_join.html", {"invitation": None})
        messages.success(
            request, _("You have joined %(company)s.") % {"company": invitation.company.name}
        )
        return redirect("dashboard")
    context = {"invitation": invitation, "role": dict(ROLES)[Membership.Role(invitation.role)]}
    return render(request, "relance/team_join.html", context)


class ActivatingPasswordForm(SetPasswordForm):
    """Choosing one's password is accepting the invitation: the account becomes active, with
    the person's name, which the app shows everywhere instead of their email address."""

    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150, required=False)
    field_order = ["first_name", "last_name", "new_password1", "new_password2"]

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["first_name"].initial = user.first_name
        self.fields["last_name"].initial = user.last_name

    def save(self, commit: bool = True) -> Any:
        self.user.is_active = True
        self.user.first_name = self.cleaned_data["first_name"].strip()
        self.user.last_name = self.cleaned_data["last_name"].strip()
        return super().save(commit)


class AcceptInvitation(auth.PasswordResetConfirmView):
    form_class = ActivatingPasswordForm
    template_name = "registration/invite.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = "/"
