"""Promises and disputes name the customer's own invoices, however the adapter resolved them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relance.models import Dispute, Event, Promise
from relance.services.dialogue import pauses, portal_disputes
from relance.services.ledger import lookup
from tests import clock


def test_ids_resolve_to_the_customers_invoices_once_each_in_the_order_named(
    company, new_customer, new_invoice
):
    dupont = new_customer(company, "C1", "Dupont")
    new_invoice(dupont, "I1", "100.00", days_late=3)
    new_invoice(dupont, "I2", "200.00", days_late=1)
    new_invoice(new_customer(company, "C2", "Martin"), "I3", "300.00", days_late=3)
    found = lookup.invoices_of(dupont, ["I2", "I1", "I2"])
    assert [i.external_id for i in found] == ["I2", "I1"]
    with pytest.raises(lookup.NotTheirs, match="customer 'C1' has no invoice I3, I9"):
        lookup.invoices_of(dupont, ["I1", "I9", "I3"])


def test_a_promise_refuses_another_customers_invoice(company, new_customer, new_invoice):
    dupont = new_customer(company, "C1", "Dupont")
    mine = new_invoice(dupont, "I1", "100.00", days_late=3)
    theirs = new_invoice(new_customer(company, "C2", "Martin"), "I2", "100.00", days_late=3)
    today = clock.today()
    with pytest.raises(lookup.NotTheirs, match="customer 'C1' has no invoice I2"):
        pauses.add_promise(dupont, [mine, theirs], today + timedelta(days=7), today)
    assert not Promise.objects.exists()
    made = pauses.add_promise(dupont, [mine, mine], today + timedelta(days=7), today)
    assert list(made.invoices.all()) == [mine]


def test_the_portal_opens_disputes_on_the_customers_invoices_only(
    company, new_customer, new_invoice
):
    dupont = new_customer(company, "C1", "Dupont")
    mine = new_invoice(dupont, "I1", "100.00", days_late=3)
    theirs = new_invoice(new_customer(company, "C2", "Martin"), "I2", "100.00", days_late=3)
    with pytest.raises(pauses.Refused, match="no such invoice"):
        portal_disputes.raise_from_portal(dupont, [mine, theirs], "quality", "Broken", None)
    raised = portal_disputes.raise_from_portal(dupont, [mine], "quality", "Broken", None)
    [dispute] = raised.disputes
    assert (dispute.source, dispute.category, dispute.reason) == ("portal", "quality", "Broken")
    event = Event.objects.get(kind="dispute.opened")
    assert (event.source, event.invoice, event.data["category"]) == ("portal", mine, "quality")
    with pytest.raises(pauses.Refused, match="already disputed"):
        portal_disputes.raise_from_portal(dupont, [mine], "other", "Again", None)
    assert Dispute.objects.count() == 1
