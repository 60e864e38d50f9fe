"""Passwords and sessions (issue 17 item 12): passwords of 12 characters at least, not common, not
like the user's name or address; sessions end after RELANCE_SESSION_IDLE_HOURS without a request
and when the password changes; cookies HttpOnly, SameSite=Lax, Secure with RELANCE_HTTPS."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from relance.web import sessions

PASSWORD = "s3cret-pass!"  # the world fixture's users' password


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Xq7#kLm2$vR", "at least 12 characters"),  # 11 characters
        ("password1234", "too common"),
        ("claire.martin.1", "too similar"),
    ],
)
def test_weak_passwords_are_refused(db, password, reason):
    user = get_user_model()(username="claire.martin", email="claire.martin@ar.test")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert reason in " ".join(refused.value.messages)


def test_a_long_uncommon_password_passes(db):
    user = get_user_model()(username="claire.martin", email="claire.martin@ar.test")
    validate_password("a-long-new-passphrase-42", user)


def test_accepting_an_invitation_refuses_a_short_password_naming_the_field(world):
    admin = world.client("admin")
    admin.post("/team/add/", {"company": world.alpha.pk, "email": "nina@ar.test", "role": "admin"})
    link = re.search(r"http://testserver(/invite/\S+)", mail.outbox[0].body).group(1)
    visitor = Client()
    form = visitor.get(link, follow=True)
    short = "Xq7#kLm2$vR"
    refused = visitor.post(
        form.redirect_chain[-1][0],
        {"first_name": "Nina", "new_password1": short, "new_password2": short},
    )
    assert refused.status_code == 200
    assert "at least 12 characters" in refused.content.decode()
    assert not get_user_model().objects.get(email="nina@ar.test").is_active


def test_the_demo_password_still_logs_in(db):
    """README: log in with admin / relance-demo (set directly, as an operator's choice)."""
    from relance.services.demo import _admin

    _admin("relance-demo")
    client = Client()
    landing = client.post("/login/", {"username": "admin", "password": "relance-demo"})
    assert client.get(landing["Location"])["Location"] == "/dashboard/"


def login(client: Client) -> None:
    assert client.post("/login/", {"username": "admin", "password": PASSWORD}).status_code == 302


def session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_a_session_lasts_eight_idle_hours_by_default(world):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    client = Client()
    response = client.post("/login/", {"username": "admin", "password": PASSWORD})
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 8 * 3600
    expires = session_row(client).expire_date
    assert abs(expires - (timezone.now() + timedelta(hours=8))) < timedelta(minutes=1)


def test_each_request_slides_the_expiry_but_writes_it_seldom(world):
    client = Client()
    login(client)
    assert client.get("/customers/").status_code == 200
    first = session_row(client).expire_date
    assert client.get("/customers/").status_code == 200
    assert session_row(client).expire_date == first  # a moment later: not written again
    # As if the last refresh was longer ago than the refresh interval:
    stored = client.session
    stored[sessions.KEY] = int(time.time()) - sessions.refresh_every() - 1
    stored.save()
    Session.objects.filter(pk=stored.session_key).update(
        expire_date=timezone.now() + timedelta(hours=1)
    )
    assert client.get("/customers/").status_code == 200
    slid = session_row(client).expire_date
    assert abs(slid - (timezone.now() + timedelta(hours=8))) < timedelta(minutes=1)


def test_an_idle_session_ends(world):
    client = Client()
    login(client)
    assert client.get("/customers/").status_code == 200
    # Eight hours without a request: the session's expiry has passed.
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert client.get("/customers/")["Location"].startswith("/login/")


def test_changing_the_password_elsewhere_ends_the_other_sessions(world):
    client = Client()
    login(client)
    assert client.get("/customers/").status_code == 200
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("another-long-passphrase-7")
    admin.save()
    assert client.get("/customers/")["Location"].startswith("/login/")


def test_session_and_csrf_cookies_are_httponly_and_lax(world):
    client = Client()
    response = client.post("/login/", {"username": "admin", "password": PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # RELANCE_HTTPS is off by default: http://localhost works
    csrf = Client().get("/login/").cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["samesite"] == "Lax"


@pytest.mark.parametrize(("value", "secure"), [("1", True), ("", False)])
def test_relance_https_makes_the_cookies_secure(value, secure, tmp_path):
    env = {**os.environ, "RELANCE_HTTPS": value, "RELANCE_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import relance.settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_SAMESITE)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == [str(secure), str(secure), "Lax"]


def test_the_idle_period_is_a_setting(tmp_path):
    env = {**os.environ, "RELANCE_SESSION_IDLE_HOURS": "2", "RELANCE_VAR_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", "import relance.settings as s; print(s.SESSION_COOKIE_AGE)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "7200"
