"""Every staff page on an empty database, in both languages: no page breaks."""

from __future__ import annotations

import pytest
from django.test import Client

PAGES = [
    "/dashboard/",
    "/customers/",
    "/actions/",
    "/calendar/",
    "/outbox/",
    "/plans/",
    "/plans/new/",
    "/plans/rules/",
    "/campaigns/",
    "/my-customers/",
    "/analytics/",
]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("path", PAGES)
def test_the_page_renders(db, django_user_model, path, language):
    user = django_user_model.objects.create(username="lonely", is_superuser=True)
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    assert client.get(path).status_code == 200


def test_the_team_page_needs_a_company_to_manage(db, django_user_model):
    user = django_user_model.objects.create(username="lonely", is_superuser=True)
    client = Client()
    client.force_login(user)
    assert client.get("/team/").status_code == 403
    assert client.get("/campaigns/new/").status_code == 403
