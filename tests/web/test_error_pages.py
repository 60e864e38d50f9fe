"""Error pages a person can act on: the staff app's 403 and 404 in its layout with a way back,
the portal's in the portal's (a customer never sees the staff app); a sales rep lands on their
customers and sees only the menus they can use."""

from __future__ import annotations

from django.test import Client


def test_a_refused_page_says_why_and_leads_back(world, settings):
    settings.DEBUG = False
    page = world.client("reader").get("/imports/")
    assert page.status_code == 403
    html = page.content.decode()
    assert "This page is not for your role" in html
    assert 'class="topbar"' in html
    assert 'href="/dashboard/"' in html


def test_a_missing_page_in_the_staff_app_and_in_the_portal(world, settings):
    settings.DEBUG = False
    staff = world.client("controller").get("/customers/999999/")
    assert staff.status_code == 404
    assert "Nothing here" in staff.content.decode()
    portal = Client().get("/p/not-a-token/invoices/nothing.pdf/extra")
    assert portal.status_code == 404
    html = portal.content.decode()
    assert "This page cannot be shown" in html
    assert "Dashboard" not in html
    assert 'class="topbar"' not in html


def test_a_sales_rep_lands_on_their_customers_with_their_menus(world):
    rep = world.client("rep")
    landing = rep.get("/start/")  # where logging in leads
    assert landing["Location"] == "/my-customers/"
    assert world.client("controller").get("/start/")["Location"] == "/dashboard/"
    menu = rep.get("/my-customers/").content.decode()
    nav = menu[menu.index("<nav>") : menu.index("</nav>")]
    for hidden in ("/plans/", "/campaigns/", "/outbox/", "/analytics/"):
        assert f'href="{hidden}"' not in nav
    assert 'href="/my-customers/"' in nav
    controller = world.client("controller").get("/dashboard/")
    assert controller.status_code == 200
    assert 'href="/plans/"' in controller.content.decode()
