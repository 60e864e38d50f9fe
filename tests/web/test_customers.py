"""The staff app's customer pages: who sees what (roles, companies, a sales rep's own customers),
search, amounts, languages, and an empty database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from relance.models import ReferenceRate
from tests import clock

PASSWORD = "s3cret-pass!"  # the one tests/web/conftest.py gives every user


def listed(client: Client, **params: str) -> str:
    response = client.get(reverse("customers"), params)
    assert response.status_code == 200
    return response.content.decode()


EVERYONE_IN_ALPHA = {"Boulangerie Dupont", "Garage Martin", "Pharmacie Sans Rep"}


@pytest.mark.parametrize(
    ("user", "seen"),
    [
        ("root", EVERYONE_IN_ALPHA | {"Smith &amp; Sons"}),
        ("admin", EVERYONE_IN_ALPHA),
        ("controller", EVERYONE_IN_ALPHA),
        ("reader", EVERYONE_IN_ALPHA),
        ("rep", {"Boulangerie Dupont"}),
        ("other_rep", {"Garage Martin"}),
        ("beta_admin", {"Smith &amp; Sons"}),
        ("outsider", set()),
    ],
)
def test_each_role_lists_only_the_customers_it_may_see(world, user, seen):
    page = listed(world.client(user))
    everyone = EVERYONE_IN_ALPHA | {"Smith &amp; Sons"}
    assert {name for name in everyone if name in page} == seen


@pytest.mark.parametrize(
    ("user", "customer", "status"),
    [
        ("admin", "dupont", 200),
        ("reader", "martin", 200),
        ("rep", "dupont", 200),
        ("rep", "martin", 404),  # another rep's customer, same company
        ("rep", "nobody", 404),
        ("admin", "smith", 404),  # another company's customer, by its id
        ("beta_admin", "dupont", 404),
        ("outsider", "dupont", 404),
        ("root", "smith", 200),
    ],
)
def test_a_customer_outside_ones_reach_is_not_found(world, user, customer, status):
    url = reverse("customer", args=[world.customers[customer].pk])
    assert world.client(user).get(url).status_code == status


def test_anonymous_visitors_are_sent_to_the_login_page(world):
    for url in (reverse("customers"), reverse("customer", args=[world.customers["dupont"].pk])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_logging_in_leads_to_the_dashboard(world):
    client = Client()
    assert "Log in to relance" in client.get(reverse("login")).content.decode()
    wrong = client.post(reverse("login"), {"username": "admin", "password": "nope"})
    assert "match. Please try again." in wrong.content.decode()
    right = client.post(reverse("login"), {"username": "admin", "password": PASSWORD})
    assert right.status_code == 302
    assert client.get(right["Location"])["Location"] == reverse("dashboard")
    assert client.get(client.get("/")["Location"])["Location"] == reverse("dashboard")


def test_the_list_shows_what_is_owed_and_overdue_and_searches(world):
    client = world.client("admin")
    page = listed(client, q="dupont")
    assert "Boulangerie Dupont" in page
    assert "Garage Martin" not in page
    assert "€1,550.00" in page  # owed: both invoices
    assert "€1,250.00" in page  # overdue: the one past its due date
    assert "Garage Martin" in listed(client, q="A2")
    assert "No customer matches this search." in listed(client, q="zzz")


def test_htmx_asks_for_the_rows_alone(world):
    response = world.client("admin").get(
        reverse("customers"), {"q": "garage"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert "Garage Martin" in page
    assert "<html" not in page


def test_the_company_filter_is_offered_to_who_sees_several(world):
    root = world.client("root")
    assert "All companies" in listed(root)
    only_beta = listed(root, company="beta")
    assert "Smith &amp; Sons" in only_beta
    assert "Garage Martin" not in only_beta
    assert "All companies" not in listed(world.client("admin"))


def test_the_customer_page_shows_invoices_contacts_and_timeline(world):
    page = (
        world.client("controller")
        .get(reverse("customer", args=[world.customers["dupont"].pk]))
        .content.decode()
    )
    assert "F-I1" in page
    assert "F-I2" in page
    assert "€1,550.00" in page  # owed today
    assert "Jeanne Dupont" in page
    assert "jeanne@dupont.test" in page
    assert 'Invoice <a href="/invoices/' in page  # the timeline, the number linked
    assert "issued for €1,250.00" in page


def test_pages_in_french(world):
    client = world.client("admin", language="fr")
    page = listed(client)
    assert "Clients" in page
    assert "Échu" in page
    assert "1 250,00\u00a0€" in page or "1\u202f250,00\u00a0€" in page
    detail = client.get(reverse("customer", args=[world.customers["dupont"].pk]))
    assert "Factures ouvertes" in detail.content.decode()


def test_no_page_breaks_on_an_empty_database(db):
    root = get_user_model().objects.create_superuser("root", "root@ar.test", PASSWORD)
    client = Client()
    client.force_login(root)
    page = client.get(reverse("customers")).content.decode()
    assert "No customers yet" in page
    assert client.get(reverse("login")).status_code == 302  # already logged in


def test_many_customers_are_paged(world, new_customer):
    for n in range(60):
        new_customer(world.alpha, f"P{n:03}", f"Papeterie {n:03}")
    client = world.client("admin")
    first = listed(client, q="Papeterie")
    assert "Papeterie 000" in first
    assert "Papeterie 050" not in first
    assert "Page 1 of 2" in first
    assert "?q=Papeterie&amp;page=2" in first  # the next page keeps the search
    assert "Papeterie 050" in listed(client, q="Papeterie", page="2")


def test_a_missing_reference_rate_does_not_hide_what_is_owed(world):
    ReferenceRate.objects.all().delete()
    page = (
        world.client("admin")
        .get(reverse("customer", args=[world.customers["dupont"].pk]))
        .content.decode()
    )
    assert "€1,250.00" in page  # the overdue invoice's amount due is still there
    assert "Late interest cannot be computed: no ECB rate known" in page


def test_filters_narrow_the_list_and_ignore_what_is_not_a_choice(world):
    from relance.models import Dispute, Invoice

    dupont, martin = world.customers["dupont"], world.customers["martin"]
    dupont.risk, dupont.segment = "high", "retail"
    dupont.save(update_fields=["risk", "segment"])
    martin.hold_until = clock.today() + timedelta(days=3)
    martin.save(update_fields=["hold_until"])
    client = world.client("admin")
    names = {"Boulangerie Dupont", "Garage Martin", "Pharmacie Sans Rep"}

    def shown(**params: str) -> set[str]:
        page = listed(client, **params)
        return {n for n in names if n in page}

    assert shown(risk="high") == {"Boulangerie Dupont"}
    assert shown(segment="retail") == {"Boulangerie Dupont"}
    assert shown(rep=str(world.users["other_rep"].pk)) == {"Garage Martin"}
    assert shown(flag="hold") == {"Garage Martin"}
    assert shown(flag="dispute") == set()
    Dispute.objects.create(
        company=world.alpha,
        customer=dupont,
        invoice=Invoice.objects.get(external_id="I1"),
        opened_on=clock.today(),
    )
    assert shown(flag="dispute") == {"Boulangerie Dupont"}
    assert shown(plan="-") == names  # nobody has an explicit plan here
    assert shown(risk="nonsense", rep="not-a-number") == names  # ignored, not an error


def test_customers_by_how_late_they_are_and_by_owner(world, new_invoice):
    martin = world.customers["martin"]
    new_invoice(martin, "M1", "80.00", days_late=45)
    martin.owner = world.users["controller"]
    martin.save(update_fields=["owner"])
    client = world.client("admin")

    def order(**params: str) -> list[str]:
        page = listed(client, **params)
        found = [(page.find(n), n) for n in EVERYONE_IN_ALPHA if n in page]
        return [n for _, n in sorted(found)]

    assert order(late="1-30") == ["Boulangerie Dupont"]  # I1, 10 days late
    assert order(late="31-60") == ["Garage Martin"]
    assert order(late="91-") == []
    assert order(late="paid") == ["Pharmacie Sans Rep"]
    assert order(owner=str(world.users["controller"].pk)) == ["Garage Martin"]
    assert order(sort="late") == ["Garage Martin", "Boulangerie Dupont", "Pharmacie Sans Rep"]
    assert order() == ["Boulangerie Dupont", "Garage Martin", "Pharmacie Sans Rep"]


def test_the_export_is_the_filtered_list_with_plain_amounts(world):
    import csv
    import io

    response = world.client("admin").get(reverse("customers-export"), {"q": "dupont"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["company", "customer_id", "name"]
    assert rows[1:] == [
        [
            "alpha",
            "A1",
            "Boulangerie Dupont",
            "",
            "",
            "",
            "",
            "rep@ar.test",
            "",
            "EUR 1550.00",
            "EUR 1250.00",
        ]
    ]


def test_a_sales_rep_exports_only_their_customers(world):
    response = world.client("rep").get(reverse("customers-export"))
    body = b"".join(response.streaming_content).decode()
    assert "Boulangerie Dupont" in body
    assert "Garage Martin" not in body


def test_the_invoice_page_shows_what_is_left_and_why(world):
    from datetime import date
    from decimal import Decimal

    from relance.models import Allocation, Invoice, Payment

    invoice = Invoice.objects.get(external_id="I1")
    payment = Payment.objects.create(
        company=world.alpha,
        customer=world.customers["dupont"],
        external_id="P1",
        date=date(2026, 1, 5),
        currency="EUR",
        amount=Decimal("250.00"),
    )
    Allocation.objects.create(
        invoice=invoice, payment=payment, amount=Decimal("250.00"), date=date(2026, 1, 5)
    )
    url = reverse("invoice", args=[invoice.pk])
    page = world.client("controller").get(url).content.decode()
    assert "Invoice F-I1" in page
    assert "€1,000.00" in page  # left to pay: 1,250.00 - 250.00
    assert "P1" in page  # the payment applied
    assert "Payment P1 of €250.00 received" in page  # the timeline
    customer_page = world.client("controller").get(
        reverse("customer", args=[world.customers["dupont"].pk])
    )
    assert f'href="{url}"' in customer_page.content.decode()
    for user in ("other_rep", "beta_admin", "outsider"):
        assert world.client(user).get(url).status_code == 404
    assert world.client("rep").get(url).status_code == 200
