"""Login throttling (issue 17 item 3): after RELANCE_LOGIN_FAILURES wrong passwords for one
account from one address, that account is refused from that address, even with the right
password, until the cool-off ends or an admin unlocks it; on the staff login page and the admin's.
Another account, or the same account from another address, still logs in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from relance.cli.main import cli
from relance.models import Membership

PASSWORD = "s3cret-pass!"  # the world fixture's users' password

LOCKED = "Too many failed attempts for this account from your address."


def attempt(client: Client, username: str, password: str, url: str = "/login/", **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def hammer(client: Client, username: str, url: str = "/login/", times: int = 0, **extra):
    for _ in range(times or settings.AXES_FAILURE_LIMIT):
        attempt(client, username, "not-the-password", url, **extra)


def logged_in(client: Client) -> bool:
    return client.get("/customers/").status_code == 200


def test_the_defaults_are_five_failures_and_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_fifty_wrong_passwords_then_the_right_one_is_refused_with_a_clear_message(world):
    client = Client()
    for _ in range(4):  # fewer than the limit: a typo or two never locks anyone out
        assert "match. Please try again." in attempt(client, "admin", "nope").content.decode()
    hammer(client, "admin", times=46)
    response = attempt(client, "admin", PASSWORD)
    page = response.content.decode()
    assert response.status_code == 429
    assert LOCKED in page
    assert "Try again in 15 minutes, or ask an administrator to unlock it." in page
    assert "Log in to relance" in page  # the styled login page, not bare text
    assert "<form" in page
    assert not logged_in(client)


def test_the_admin_login_is_throttled_too(world):
    root = world.users["root"]
    root.is_staff = True
    root.save()
    client = Client()
    hammer(client, "root", url="/admin/login/")
    response = attempt(client, "root", PASSWORD, url="/admin/login/")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert client.get("/admin/").status_code == 302  # still sent to the login page


def test_another_account_or_another_address_still_logs_in(world):
    hammer(Client(), "admin")
    other_user = Client()
    assert attempt(other_user, "controller", PASSWORD).status_code == 302
    assert logged_in(other_user)
    elsewhere = Client(REMOTE_ADDR="192.0.2.44")
    assert attempt(elsewhere, "admin", PASSWORD).status_code == 302
    assert logged_in(elsewhere)


def test_a_success_forgets_the_earlier_typos(world):
    client = Client()
    hammer(client, "admin", times=settings.AXES_FAILURE_LIMIT - 1)
    assert attempt(client, "admin", PASSWORD).status_code == 302
    client.logout()
    hammer(client, "admin", times=settings.AXES_FAILURE_LIMIT - 1)
    assert attempt(client, "admin", PASSWORD).status_code == 302


def test_the_cli_unlocks_an_account(world):
    client = Client()
    hammer(client, "admin")
    assert attempt(client, "admin", PASSWORD).status_code == 429
    result = CliRunner().invoke(cli, ["user", "unlock", "admin"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "admin" in result.output
    assert attempt(client, "admin", PASSWORD).status_code == 302
    assert logged_in(client)


def test_unlocking_an_account_that_is_not_locked_says_so(world):
    result = CliRunner().invoke(cli, ["user", "unlock", "admin"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "was not locked" in result.output


def test_unlocking_an_unknown_user_is_refused(db):
    result = CliRunner().invoke(cli, ["user", "unlock", "nobody"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "no user nobody" in result.output


def test_the_cool_off_expires(world):
    from axes.models import AccessAttempt

    client = Client()
    hammer(client, "admin")
    assert attempt(client, "admin", PASSWORD).status_code == 429
    # Fifteen minutes and a second later (the rows axes keeps, aged as time would age them).
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    assert attempt(client, "admin", PASSWORD).status_code == 302
    assert logged_in(client)


def test_an_admin_unlocks_a_member_from_the_team_page(world):
    hammer(Client(), "reader")
    assert attempt(Client(), "reader", PASSWORD).status_code == 429
    admin = world.client("admin")
    page = admin.get("/team/").content.decode()
    reader = Membership.objects.get(company=world.alpha, user=world.users["reader"])
    assert f"/team/{reader.pk}/unlock/" in page
    assert page.count("/unlock/") == 1  # only the locked member
    # Another company's admin cannot unlock alpha's members.
    assert world.client("beta_admin").post(f"/team/{reader.pk}/unlock/").status_code == 404
    assert attempt(Client(), "reader", PASSWORD).status_code == 429
    done = admin.post(f"/team/{reader.pk}/unlock/", follow=True)
    assert "reader@ar.test can log in again." in done.content.decode()
    assert attempt(Client(), "reader", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "127.0.0.1"),  # no proxy trusted: the header is the client's to forge
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # what our proxy saw
        (2, "198.51.100.1, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (1, "", "127.0.0.1"),
    ],
)
def test_the_address_behind_trusted_proxies(rf, proxies, forwarded, expected):
    from relance.client import address

    request = rf.post("/login/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(RELANCE_TRUSTED_PROXIES=proxies):
        assert address(request) == expected


@override_settings(RELANCE_TRUSTED_PROXIES=1)
def test_behind_a_proxy_each_client_address_counts_alone(world):
    behind = Client(REMOTE_ADDR="10.0.0.2")
    hammer(behind, "admin", HTTP_X_FORWARDED_FOR="203.0.113.9")
    locked = attempt(behind, "admin", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert locked.status_code == 429
    other = attempt(behind, "admin", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert other.status_code == 302
