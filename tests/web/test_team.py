"""The team page: admins give roles, change and take them away, and invite people, who choose
their password from a link that works once; nobody else manages a team."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from relance.models import Event, Membership

Role = Membership.Role


def membership(world, user: str) -> Membership:
    return Membership.objects.get(company=world.alpha, user=world.users[user])


def test_an_admin_sees_the_team_and_the_menu_offers_it(world):
    page = world.client("admin").get("/team/").content.decode()
    for name in ("controller@ar.test", "reader@ar.test", "rep@ar.test"):
        assert name in page
    assert "beta_admin@ar.test" not in page
    assert 'href="/team/"' in page
    assert 'href="/team/"' not in world.client("controller").get("/plans/").content.decode()


@pytest.mark.parametrize(
    ("user", "status"), [("controller", 403), ("reader", 403), ("rep", 403), ("outsider", 404)]
)
def test_only_admins_manage_a_team(world, user, status):
    client = world.client(user)
    assert client.get("/team/").status_code == 403
    reader = membership(world, "reader")
    changed = client.post(f"/team/{reader.pk}/role/", {f"m{reader.pk}-role": "admin"})
    assert changed.status_code == status  # 404: not even in the company
    assert Membership.objects.get(pk=reader.pk).role == Role.READ_ONLY


def test_another_companys_member_is_not_found(world):
    reader = membership(world, "reader")
    client = world.client("beta_admin")
    assert client.post(f"/team/{reader.pk}/remove/").status_code == 404
    assert client.get(f"/team/?company={world.alpha.pk}").status_code == 404
    assert Membership.objects.filter(pk=reader.pk).exists()


def test_inviting_someone_new_then_accepting(world):
    admin = world.client("admin")
    response = admin.post(
        "/team/add/",
        {
            "company": world.alpha.pk,
            "email": "new@ar.test",
            "name": "Nina Petit",
            "role": "sales_rep",
        },
        follow=True,
    )
    assert "Invitation sent to new@ar.test." in response.content.decode()
    user = get_user_model().objects.get(email="new@ar.test")
    assert not user.is_active
    assert (user.first_name, user.last_name) == ("Nina", "Petit")
    assert Membership.objects.get(user=user).role == Role.SALES_REP
    [invitation] = mail.outbox
    assert invitation.to == ["new@ar.test"]
    link = re.search(r"http://testserver(/invite/\S+)", invitation.body).group(1)

    visitor = Client()
    form = visitor.get(link, follow=True)
    assert "Choose your password" in form.content.decode()
    password = "a-long-new-passphrase-42"
    done = visitor.post(
        form.redirect_chain[-1][0],
        {
            "first_name": "Nina",
            "last_name": "Petit-Durand",
            "new_password1": password,
            "new_password2": password,
        },
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.is_active
    assert user.get_full_name() == "Nina Petit-Durand"
    assert user.check_password(password)
    assert visitor.get("/customers/").status_code == 200  # logged in
    again = Client().get(link, follow=True).content.decode()
    assert "This link no longer works" in again
    assert Event.objects.filter(kind="member.invited").count() == 1


def test_adding_a_member_twice_is_refused(world):
    response = world.client("admin").post(
        "/team/add/", {"company": world.alpha.pk, "email": "READER@ar.test", "role": "admin"}
    )
    assert "already a member" in response.content.decode()
    assert membership(world, "reader").role == Role.READ_ONLY
    assert not mail.outbox


def test_roles_change_but_the_last_admin_stays(world):
    admin = world.client("admin")
    reader = membership(world, "reader")
    admin.post(f"/team/{reader.pk}/role/", {f"m{reader.pk}-role": "credit_controller"})
    assert Membership.objects.get(pk=reader.pk).role == Role.CREDIT_CONTROLLER
    me = membership(world, "admin")
    refused = admin.post(f"/team/{me.pk}/role/", {f"m{me.pk}-role": "read_only"}, follow=True)
    assert "at least one active admin" in refused.content.decode()
    assert Membership.objects.get(pk=me.pk).role == Role.ADMIN
    admin.post(f"/team/{reader.pk}/remove/")
    assert not Membership.objects.filter(pk=reader.pk).exists()
    assert Event.objects.get(kind="member.removed").data == {"email": "reader@ar.test"}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_page_renders_in_both_languages(world, language):
    assert world.client("admin", language).get("/team/").status_code == 200


def add(world, email: str, role: str = "sales_rep"):
    return world.client("admin").post(
        "/team/add/", {"company": world.alpha.pk, "email": email, "name": "", "role": role}
    )


def join_link(message) -> str:
    return re.search(r"http://testserver(/team/join/\S+)", message.body).group(1)


def test_adding_another_companys_user_attaches_nothing_and_answers_as_for_anyone(world):
    unknown = add(world, "stranger@ar.test")
    existing = add(world, "beta_admin@ar.test")
    assert existing.status_code == unknown.status_code == 302
    assert existing["Location"] == unknown["Location"]
    assert len(mail.outbox) == 2  # one email each
    assert not Membership.objects.filter(company=world.alpha, user=world.users["beta_admin"])
    page = world.client("admin").get(existing["Location"]).content.decode()
    # both listed the same way, as invited, until they answer
    for email in ("stranger@ar.test", "beta_admin@ar.test"):
        row = re.search(rf"<tr>(?:(?!</tr>).)*{re.escape(email)}.*?</tr>", page, re.S).group(0)
        assert "invited" in row
    messages = [
        m.message
        for m in existing.wsgi_request._messages  # type: ignore[attr-defined]
    ] + [m.message for m in unknown.wsgi_request._messages]  # type: ignore[attr-defined]
    assert messages == [
        "Invitation sent to beta_admin@ar.test.",
        "Invitation sent to stranger@ar.test.",
    ]


def test_the_invited_user_accepts_and_joins_with_the_role(world):
    add(world, "BETA_ADMIN@ar.test", role="read_only")
    [invitation] = mail.outbox
    assert invitation.to == ["BETA_ADMIN@ar.test"]
    assert "Alpha SAS" in invitation.body
    link = join_link(invitation)

    visitor = Client()
    assert visitor.get(link)["Location"].startswith("/login/?next=")  # log in first
    visitor.post("/login/", {"username": "beta_admin", "password": "s3cret-pass!"})
    page = visitor.get(link).content.decode()
    assert "Alpha SAS" in page
    assert "Read-only" in page
    assert not Membership.objects.filter(company=world.alpha, user=world.users["beta_admin"])
    done = visitor.post(link, follow=True)
    assert "You have joined Alpha SAS." in done.content.decode()
    joined = Membership.objects.get(company=world.alpha, user=world.users["beta_admin"])
    assert joined.role == Role.READ_ONLY
    assert Event.objects.filter(kind="member.joined", company=world.alpha).count() == 1
    # once is enough: the link does nothing more
    visitor.post(link)
    assert Membership.objects.filter(company=world.alpha).count() == 6


def test_an_invitation_is_for_its_address_only(world):
    add(world, "beta_admin@ar.test", role="admin")
    link = join_link(mail.outbox[0])
    thief = world.client("outsider")
    page = thief.get(link)
    assert page.status_code == 403
    assert "sent to another address" in page.content.decode()
    assert thief.post(link).status_code == 403
    assert not Membership.objects.filter(company=world.alpha, user=world.users["outsider"])
    assert not Membership.objects.filter(company=world.alpha, user=world.users["beta_admin"])


@pytest.mark.parametrize("tampered", ["role", "company", "garbage"])
def test_a_forged_or_altered_invitation_does_nothing(world, tampered):
    import base64
    import json

    add(world, "beta_admin@ar.test", role="read_only")
    link = join_link(mail.outbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    if tampered == "garbage":
        forged = "x" + token
    else:
        payload, _sep, rest = token.partition(":")
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        data["r" if tampered == "role" else "c"] = "admin" if tampered == "role" else world.beta.pk
        raw = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
        forged = raw.decode().rstrip("=") + ":" + rest
    client = world.client("beta_admin")
    assert "This link no longer works" in client.get(f"/team/join/{forged}/").content.decode()
    client.post(f"/team/join/{forged}/")
    assert Membership.objects.filter(user=world.users["beta_admin"]).count() == 1  # beta only


def test_an_invitation_stops_working_once_the_member_is_removed(world):
    add(world, "beta_admin@ar.test")
    link = join_link(mail.outbox[0])
    client = world.client("beta_admin")
    client.post(link)
    joined = Membership.objects.get(company=world.alpha, user=world.users["beta_admin"])
    world.client("admin").post(f"/team/{joined.pk}/remove/")
    assert "This link no longer works" in client.get(link).content.decode()
    client.post(link)
    assert not Membership.objects.filter(company=world.alpha, user=world.users["beta_admin"])


# Whoever an added address belongs to, the admin sees the same thing: the same row (same place,
# badge and controls), the same answers to every control, the same refusal when added twice.


def _normalised(html: str, *emails: str) -> str:
    for email in emails:
        html = re.sub(re.escape(email), "EMAIL", html, flags=re.I)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "CSRF", html)
    return re.sub(r"\d+", "N", html)


def _row(page: str, email: str) -> str:
    [row] = re.findall(rf"<tr>(?:(?!</tr>).)*?{re.escape(email)}(?:(?!<tr>).)*?</tr>", page, re.S)
    return row


def test_an_unknown_address_and_another_companys_account_get_identical_rows(world):
    assert add(world, "stranger@ar.test", role="read_only").status_code == 302
    assert add(world, "Beta_Admin@AR.test", role="read_only").status_code == 302
    page = world.client("admin").get(f"/team/?company={world.alpha.pk}").content.decode()
    unknown, existing = _row(page, "stranger@ar.test"), _row(page, "Beta_Admin@AR.test")
    assert "invited" in unknown
    assert 'value="read_only" selected' in unknown
    assert _normalised(unknown, "stranger@ar.test") == _normalised(existing, "Beta_Admin@AR.test")
    # invited people come after the team, in the order of their addresses
    assert page.index("reader@ar.test") < page.index("Beta_Admin@AR.test")
    assert page.index("Beta_Admin@AR.test") < page.index("stranger@ar.test")


def test_the_whole_team_page_is_the_same_whoever_was_added(world):
    admin = world.client("admin")
    url = f"/team/?company={world.alpha.pk}"
    pages = []
    for email in ("zed@ar.test", "BETA_ADMIN@ar.test"):
        add(world, email, role="credit_controller")
        pages.append(_normalised(admin.get(url).content.decode(), email))
        assert invitation_post(world, "remove", email).status_code == 302
    assert pages[0] == pages[1]


def invitation_post(world, action: str, email: str, **data):
    return world.client("admin").post(
        f"/team/invitations/{action}/", {"company": world.alpha.pk, "email": email, **data}
    )


def _messages(response) -> list[str]:
    return [m.message for m in response.wsgi_request._messages]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("action", "data"), [("role", {"role": "admin"}), ("send", {}), ("remove", {})]
)
def test_the_controls_answer_the_same_whoever_was_invited(world, action, data):
    add(world, "stranger@ar.test")
    add(world, "Beta_Admin@ar.test")
    unknown = invitation_post(world, action, "stranger@ar.test", **data)
    existing = invitation_post(world, action, "Beta_Admin@ar.test", **data)
    assert unknown.status_code == existing.status_code == 302
    assert unknown["Location"] == existing["Location"]
    assert [m.replace("stranger@ar.test", "EMAIL") for m in _messages(unknown)] == [
        m.replace("Beta_Admin@ar.test", "EMAIL") for m in _messages(existing)
    ]


def test_adding_an_invited_address_again_is_refused_the_same_way(world):
    add(world, "stranger@ar.test")
    add(world, "beta_admin@ar.test")
    mail.outbox.clear()
    unknown = add(world, "Stranger@ar.test").content.decode()
    existing = add(world, "Beta_Admin@ar.test").content.decode()
    assert "Stranger@ar.test is already invited, as Sales rep" in unknown
    assert "Beta_Admin@ar.test is already invited, as Sales rep" in existing
    assert not mail.outbox


def test_an_invitation_stays_listed_after_its_link_expires_like_any_other(world, settings):
    add(world, "stranger@ar.test")
    add(world, "beta_admin@ar.test")
    settings.PASSWORD_RESET_TIMEOUT = 0
    page = world.client("admin").get("/team/").content.decode()
    assert "stranger@ar.test" in page
    assert "beta_admin@ar.test" in page


def test_invited_members_are_not_reachable_by_their_number(world):
    add(world, "stranger@ar.test")
    invited = Membership.objects.get(company=world.alpha, user__email="stranger@ar.test")
    admin = world.client("admin")
    for action in ("role", "remove", "unlock"):
        assert admin.post(f"/team/{invited.pk}/{action}/").status_code == 404
    assert f"/team/{invited.pk}/" not in admin.get("/team/").content.decode()
    assert Membership.objects.filter(pk=invited.pk).exists()


def test_changing_the_role_of_an_invitation_reissues_it(world):
    add(world, "beta_admin@ar.test", role="read_only")
    old = join_link(mail.outbox[0])
    done = invitation_post(world, "role", "beta_admin@ar.test", role="admin")
    assert _messages(done) == ["Role changed."]
    assert len(mail.outbox) == 2
    new = join_link(mail.outbox[1])
    assert "administrator" in mail.outbox[1].body
    page = world.client("admin").get("/team/").content.decode()
    assert 'value="admin" selected' in _row(page, "beta_admin@ar.test")

    client = world.client("beta_admin")
    assert "This link no longer works" in client.get(old).content.decode()
    client.post(old)
    assert not Membership.objects.filter(company=world.alpha, user=world.users["beta_admin"])
    assert "Administrator" in client.get(new).content.decode()
    client.post(new)
    joined = Membership.objects.get(company=world.alpha, user=world.users["beta_admin"])
    assert joined.role == Role.ADMIN


def test_changing_the_role_of_an_invited_member(world):
    add(world, "stranger@ar.test", role="read_only")
    invitation_post(world, "role", "stranger@ar.test", role="credit_controller")
    invited = Membership.objects.get(company=world.alpha, user__email="stranger@ar.test")
    assert invited.role == Role.CREDIT_CONTROLLER


def test_sending_an_invitation_again(world):
    add(world, "beta_admin@ar.test", role="read_only")
    add(world, "stranger@ar.test")
    done = invitation_post(world, "send", "beta_admin@ar.test")
    assert _messages(done) == ["Invitation sent to beta_admin@ar.test."]
    assert mail.outbox[-1].to == ["beta_admin@ar.test"]
    again = join_link(mail.outbox[-1])
    invitation_post(world, "send", "stranger@ar.test")
    assert mail.outbox[-1].to == ["stranger@ar.test"]
    assert "/invite/" in mail.outbox[-1].body

    client = world.client("beta_admin")
    assert "Read-only" in client.get(again).content.decode()
    client.post(again)
    joined = Membership.objects.get(company=world.alpha, user=world.users["beta_admin"])
    assert joined.role == Role.READ_ONLY


def test_removing_an_invitation_kills_its_link(world):
    add(world, "beta_admin@ar.test")
    add(world, "stranger@ar.test")
    link = join_link(mail.outbox[0])
    admin = world.client("admin")
    done = invitation_post(world, "remove", "beta_admin@ar.test")
    assert _messages(done) == ["beta_admin@ar.test removed."]
    invitation_post(world, "remove", "stranger@ar.test")
    page = admin.get("/team/").content.decode()
    assert "beta_admin@ar.test" not in page
    assert "stranger@ar.test" not in page
    assert not Membership.objects.filter(company=world.alpha, user__email="stranger@ar.test")
    client = world.client("beta_admin")
    assert "This link no longer works" in client.get(link).content.decode()
    client.post(link)
    assert not Membership.objects.filter(company=world.alpha, user=world.users["beta_admin"])
    # gone: asking again finds nothing, whoever it was
    assert invitation_post(world, "remove", "beta_admin@ar.test").status_code == 404
    assert invitation_post(world, "remove", "stranger@ar.test").status_code == 404


def test_another_companys_admin_cannot_touch_the_invitations(world):
    add(world, "stranger@ar.test")
    add(world, "outsider@ar.test")
    beta = world.client("beta_admin")
    for email in ("stranger@ar.test", "outsider@ar.test"):
        for company in (world.alpha.pk, world.beta.pk):
            response = beta.post("/team/invitations/remove/", {"company": company, "email": email})
            assert response.status_code == 404
    page = world.client("admin").get("/team/").content.decode()
    assert "stranger@ar.test" in page
    assert "outsider@ar.test" in page


def test_the_name_shown_is_the_one_the_admin_typed(world):
    other = get_user_model().objects.create_user(
        username="imported@ar.test", email="Imported@AR.test", first_name="Secret", is_active=False
    )
    Membership.objects.create(company=world.beta, user=other, role=Role.SALES_REP)
    add(world, "imported@ar.test")
    add(world, "fresh@ar.test")
    page = world.client("admin").get("/team/").content.decode()
    assert "Secret" not in page
    assert "Imported@AR.test" not in page
    assert _normalised(_row(page, "imported@ar.test"), "imported@ar.test") == _normalised(
        _row(page, "fresh@ar.test"), "fresh@ar.test"
    )


def test_a_new_member_gives_their_name_when_joining(world):
    """The Team page showed "—" for every name and emails everywhere: the name is asked when
    the invitation is accepted (prefilled with what the admin typed)."""
    world.client("admin").post(
        "/team/add/", {"company": world.alpha.pk, "email": "ana@ar.test", "role": "read_only"}
    )
    link = re.search(r"http://testserver(/invite/\S+)", mail.outbox[0].body).group(1)
    visitor = Client()
    form = visitor.get(link, follow=True)
    assert "First name" in form.content.decode()
    password = "a-long-new-passphrase-42"
    refused = visitor.post(
        form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert refused.status_code == 200
    assert not get_user_model().objects.get(email="ana@ar.test").is_active
    visitor.post(
        form.redirect_chain[-1][0],
        {
            "first_name": "Ana",
            "last_name": "Lopes",
            "new_password1": password,
            "new_password2": password,
        },
    )
    page = world.client("admin").get(f"/team/?company={world.alpha.pk}").content.decode()
    assert "Ana Lopes" in page
