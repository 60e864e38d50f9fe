"""The staff's link to a customer's portal uses the address the staff use, not the one messages
carry (RELANCE_BASE_URL, e.g. localhost on a fresh install)."""

from __future__ import annotations


def test_the_staff_open_the_portal_from_their_own_address(world, settings):
    settings.ALLOWED_HOSTS = ["relance.example.com", "testserver"]
    settings.RELANCE_BASE_URL = "http://localhost:8000"
    page = world.client("controller", "en").get(
        f"/customers/{world.customers['dupont'].pk}/", HTTP_HOST="relance.example.com"
    )
    html = page.content.decode()
    assert 'href="http://relance.example.com/p/' in html
    assert "localhost:8000" not in html
