"""The go-live page: admins only, the projection under the policy chosen, switching sending on
(CSRF, the event on the timeline), the menu link and the dashboard's banner while not live."""

from __future__ import annotations

import pytest
from django.test import Client

from relance.models import Company, Event, Execution, Plan
from relance.services.dunning import plans

URL = "/go-live/"


@pytest.fixture
def not_live(world):
    """Alpha, not live yet (as the staff app makes a company), its customers on the standard plan;
    Dupont's first invoice is 10 days late and has a contact, Martin's 200 days and none."""
    plans.seed_library()
    plans.copy_library(world.alpha)
    standard = Plan.objects.get(company=world.alpha, code="standard")
    for customer in world.customers.values():
        if customer.company_id == world.alpha.pk:
            customer.plan = standard
            customer.save(update_fields=["plan"])
    from tests.conftest import _new_invoice

    _new_invoice(world.customers["martin"], "M1", "800.00", days_late=200)
    Company.objects.filter(pk=world.alpha.pk).update(automatic_sending=False, first_run="step1")
    return world


def test_the_admin_sees_the_first_cycle_under_step_1_by_default(not_live):
    page = not_live.client("admin").get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Automatic sending is <strong>off</strong>" in text
    assert 'value="step1" checked' in text
    step1 = page.context["projection"]
    assert step1.policy == "step1"
    # The default company is French: its copy of the shipped plan has French step names.
    # Dupont's invoice is 10 days late: nothing from the due date on is due yet, the courtesy
    # note is (as by age); Martin's, 200 days late, starts at the first reminder after it.
    assert {(s["step"], s["count"]) for s in step1.by_step} == {
        ("Rappel amical", 1),
        ("Rappel de paiement", 1),
    }
    assert [u["customer"] for u in step1.unreachable] == ["A2"]
    assert [n["customer"] for n in step1.notices] == ["A2"]  # by age: the formal notice
    assert "Garage Martin" in text
    assert "Switch on automatic sending" in text
    assert not Execution.objects.exists()


def test_choosing_by_age_shows_what_age_alone_would_send(not_live):
    page = not_live.client("admin").get(URL, {"policy": "by_age"})
    by_age = page.context["projection"]
    assert {s["step"] for s in by_age.by_step} == {"Mise en demeure", "Rappel amical"}
    assert 'value="by_age" checked' in page.content.decode()


def test_ignore_before_without_a_date_names_the_field(not_live):
    page = not_live.client("admin").get(URL, {"policy": "ignore_before", "before": ""})
    assert page.status_code == 200
    assert page.context["projection"] is None
    assert "Give the date" in page.content.decode()


def test_switching_on_records_the_event_and_says_so(not_live):
    client = not_live.client("admin")
    answer = client.post(URL, {"company": not_live.alpha.pk, "policy": "step1", "before": ""})
    assert answer.status_code == 302
    alpha = Company.objects.get(pk=not_live.alpha.pk)
    assert alpha.automatic_sending
    assert alpha.first_run == "step1"
    event = Event.objects.get(kind="company.live")
    assert (event.actor, event.source, event.data["policy"]) == (
        not_live.users["admin"],
        "web",
        "step1",
    )
    page = client.get(answer["Location"])
    text = page.content.decode()
    assert "Automatic sending is on for Alpha SAS" in text
    assert "Automatic sending switched on" in text  # the timeline
    assert "Go live</a>" not in text  # no more in the menu


def test_switching_on_needs_the_csrf_token(not_live):
    client = Client(enforce_csrf_checks=True)
    client.force_login(not_live.users["admin"])
    answer = client.post(URL, {"company": not_live.alpha.pk, "policy": "step1"})
    assert answer.status_code == 403
    assert not Company.objects.get(pk=not_live.alpha.pk).automatic_sending


def test_an_unknown_policy_is_refused_on_its_field(not_live):
    answer = not_live.client("admin").post(URL, {"company": not_live.alpha.pk, "policy": "now!"})
    assert answer.status_code == 200
    assert "Select a valid choice" in answer.content.decode()
    assert not Company.objects.get(pk=not_live.alpha.pk).automatic_sending


@pytest.mark.parametrize("role", ["controller", "reader", "rep", "outsider"])
def test_other_roles_may_neither_see_nor_switch(not_live, role):
    client = not_live.client(role)
    assert client.get(URL).status_code == 403
    beyond = 404 if role == "outsider" else 403  # not even a member: nothing says it exists
    answer = client.post(URL, {"company": not_live.alpha.pk, "policy": "by_age"})
    assert answer.status_code == beyond
    assert not Company.objects.get(pk=not_live.alpha.pk).automatic_sending


def test_another_companys_admin_cannot_reach_it(not_live):
    client = not_live.client("beta_admin")
    assert client.get(URL, {"company": not_live.alpha.pk}).status_code == 404
    assert client.post(URL, {"company": not_live.alpha.pk, "policy": "step1"}).status_code == 404
    assert not Company.objects.get(pk=not_live.alpha.pk).automatic_sending


def test_the_dashboard_says_sending_is_off_with_a_link_for_admins_only(not_live):
    admin = not_live.client("admin").get("/dashboard/").content.decode()
    assert "Automatic sending is off for Alpha SAS" in admin
    assert f'href="/go-live/?company={not_live.alpha.pk}"' in admin  # banner and menu
    reader = not_live.client("reader").get("/dashboard/").content.decode()
    assert "until an administrator switches it on" in reader
    assert "/go-live/" not in reader
    beta = not_live.client("beta_admin").get("/dashboard/").content.decode()
    assert "Automatic sending is off" not in beta


def test_in_french(not_live):
    page = not_live.client("admin", "fr").get(URL)
    assert page.status_code == 200
    assert '<html lang="fr"' in page.content.decode() or page.context["LANGUAGE_CODE"] == "fr"
