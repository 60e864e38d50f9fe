"""The sales rep's page and the signed-link page: no login, a GET never acts, a POST does as the
rep; a refused link says why; staff messages show in the outbox monitor."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client

from relance.models import Customer, Dispute, Event, Membership, OutboxMessage, Promise
from relance.services.dunning import sales_reps
from relance.services.dunning.sales_reps import DISPUTE, HOLD, PROMISE
from relance.services.organisation import hours


def _path(world, action, customer="dupont", rep="rep"):
    return f"/rep/{sales_reps.token(world.users[rep], world.customers[customer], action)}/"


def test_the_rep_sees_their_customers_unpaid_invoices_with_the_links(world):
    page = world.client("rep").get("/my-customers/").content.decode()
    assert "Boulangerie Dupont" in page
    assert "Garage Martin" not in page  # another rep's
    assert "€1,250.00" in page
    assert page.count('href="/rep/') == 3
    assert 'href="/my-customers/"' in page  # in the menu
    controller = world.client("controller").get("/my-customers/").content.decode()
    assert "None of your customers owes anything." in controller
    assert 'href="/my-customers/"' not in controller


def test_opening_a_link_does_nothing_until_confirmed_then_holds_as_the_rep(world):
    anonymous = Client()
    path = _path(world, HOLD)
    page = anonymous.get(path)
    assert page.status_code == 200
    assert "Pause dunning for 7 days" in page.content.decode()
    assert Customer.objects.get(pk=world.customers["dupont"].pk).hold_until is None
    done = anonymous.post(path).content.decode()
    assert "Dunning of Boulangerie Dupont is paused until" in done
    held = Event.objects.get(kind="customer.held")
    assert (held.actor, held.source) == (world.users["rep"], "sales_rep_link")
    assert Customer.objects.get(pk=world.customers["dupont"].pk).hold_until == (
        hours.company_today(world.alpha) + timedelta(days=7)
    )


def test_a_dispute_and_a_promise_from_their_links(world):
    anonymous = Client()
    page = anonymous.get(_path(world, DISPUTE)).content.decode()
    assert "F-I1" in page
    assert "F-I2" in page
    anonymous.post(_path(world, DISPUTE), {"invoices": ["I1"], "reason": "Delivered late"})
    assert Dispute.objects.get().invoice.external_id == "I1"
    refused = anonymous.post(_path(world, PROMISE), {"invoices": ["I2"]}).content.decode()
    assert "Give the date the customer promised to pay by." in refused
    pay_by = (hours.company_today(world.alpha) + timedelta(days=10)).isoformat()
    anonymous.post(_path(world, PROMISE), {"invoices": ["I2"], "pay_by": pay_by})
    assert Promise.objects.get().pay_by.isoformat() == pay_by


def test_a_tampered_or_foreign_link_is_refused_with_a_reason(world):
    anonymous = Client()
    tampered = anonymous.get(_path(world, HOLD).replace("/rep/", "/rep/x"))
    assert tampered.status_code == 403
    assert "This link is not valid." in tampered.content.decode()
    foreign = anonymous.get(_path(world, HOLD, customer="martin"))  # not rep's customer
    assert foreign.status_code == 403
    assert "not this customer&#x27;s sales rep" in foreign.content.decode()
    assert anonymous.post(_path(world, HOLD, customer="martin")).status_code == 403
    assert Customer.objects.get(pk=world.customers["martin"].pk).hold_until is None


def test_a_link_of_a_rep_who_left_the_company_or_was_deactivated_is_refused(world):
    anonymous = Client()
    path = _path(world, HOLD)
    Membership.objects.filter(user=world.users["rep"]).delete()  # left; Dupont not moved yet
    assert anonymous.get(path).status_code == 403
    assert anonymous.post(path).status_code == 403
    assert Customer.objects.get(pk=world.customers["dupont"].pk).hold_until is None
    martin = _path(world, HOLD, customer="martin", rep="other_rep")
    assert anonymous.get(martin).status_code == 200
    type(world.users["other_rep"]).objects.filter(username="other_rep").update(is_active=False)
    assert anonymous.post(martin).status_code == 403
    assert Customer.objects.get(pk=world.customers["martin"].pk).hold_until is None


def test_the_link_page_speaks_french(world):
    page = Client(headers={"accept-language": "fr"}).get(_path(world, HOLD)).content.decode()
    assert "Suspendre les relances pendant 7 jours" in page


def test_staff_messages_show_in_the_outbox_monitor_of_those_who_see_every_customer(world):
    sales_reps.queue_digests(world.alpha, hours.company_today(world.alpha))
    assert OutboxMessage.objects.get().to == ["rep@ar.test"]
    page = world.client("controller").get("/outbox/?tab=queued").content.decode()
    assert "rep@ar.test" in page
    assert "Staff" in page
    assert "rep@ar.test" not in world.client("rep").get("/outbox/?tab=queued").content.decode()


def test_a_link_page_lists_each_invoice_with_its_amount_and_due_date_and_leads_back(world):
    page = Client(headers={"accept-language": "fr"}).get(_path(world, PROMISE)).content.decode()
    due = hours.company_today(world.alpha) - timedelta(days=10)
    label = page[page.index("F-I1 · ") :].split("</label>")[0]
    assert "250,00" in label
    assert "€" in label
    assert due.isoformat() not in page  # a date as a reader writes it, not ISO
    assert str(due.year) in label
    assert 'href="/my-customers/"' in page  # a way back rather than "close this page"


def test_my_customers_sums_up_searches_and_filters_by_status(world):
    rep = world.client("rep")
    page = rep.get("/my-customers/").content.decode()
    summary = page[page.index('id="summary"') : page.index('id="rep-filters"')]
    assert "€1,550.00" in summary  # owed: both invoices
    assert "€1,250.00" in summary  # overdue: the one past its due date
    assert "Boulangerie Dupont" in rep.get("/my-customers/", {"q": "dupo"}).content.decode()
    assert "Boulangerie Dupont" not in rep.get("/my-customers/", {"q": "zz"}).content.decode()
    assert (
        "None of your customers matches." in rep.get("/my-customers/", {"q": "zz"}).content.decode()
    )
    assert "Boulangerie Dupont" in rep.get("/my-customers/", {"status": "overdue"}).content.decode()
    held = rep.get("/my-customers/", {"status": "on_hold"}).content.decode()
    assert "Boulangerie Dupont" not in held.split('id="rep-filters"')[1]
    odd = rep.get("/my-customers/", {"status": "<script>", "q": "x" * 500})
    assert odd.status_code == 200
    assert "<script>" not in odd.content.decode().split('id="rep-filters"')[1].split("</form>")[0]
