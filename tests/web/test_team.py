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
    assert "new@ar.test added and invited." in response.content.decode()
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
        form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.is_active
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
