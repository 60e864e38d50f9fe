"""The statement a customer reads: amounts due with French late fees, credit, payments received,
bank details and the reference to quote; PDF and CSV downloads; in their language."""

from __future__ import annotations

import csv
import io

from django.test import Client

from relance.services.dunning import messages
from relance.services.ledger import late_fees, snapshots
from relance.services.portal import links
from tests import clock


def test_the_statement_in_the_customers_language_with_late_fees(ledger):
    text = Client().get(ledger.path()).content.decode()
    assert "Factures à régler" in text
    assert "1\u202f000,00\xa0€" in text  # I1 after the payment of 250
    assert "300,00\xa0€" in text
    assert "40 jours de retard" in text
    assert "Indemnité forfaitaire" in text or "indemnité de recouvrement 40,00\xa0€" in text
    assert "FR7630006000011234567890189" in text
    assert "C1 F-I1" in text  # the reference to quote
    assert "Paiement P1" in text


def test_the_visitor_can_read_it_in_english(ledger):
    client = Client()
    text = client.get(ledger.path() + "?lang=en").content.decode()
    assert "Invoices to pay" in text
    assert "€1,000.00" in text
    assert "Invoices to pay" in client.get(ledger.path()).content.decode()  # remembered


def test_documents_download(ledger):
    client = Client()
    invoice = client.get(ledger.path(suffix="invoices/I1.pdf"))
    assert invoice["Content-Type"] == "application/pdf"
    assert invoice.content.startswith(b"%PDF")
    assert 'filename="F-I1-summary.pdf"' in invoice["Content-Disposition"]
    statement = client.get(ledger.path(suffix="statement.pdf"))
    assert statement.content.startswith(b"%PDF")
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(ledger.path(suffix="statement.csv")).content.decode())
        )
    )
    assert [(r["invoice_id"], r["amount_due"]) for r in rows] == [
        ("I1", "1000.00"),
        ("I2", "300.00"),
    ]
    assert rows[0]["fixed_indemnity"] == "40.00"


def test_messages_carry_the_customers_link(ledger):
    [debtor] = snapshots.debtors([ledger.dupont.pk])
    values = messages.context(
        ledger.company, debtor, None, [], clock.today(), rates=late_fees.rate_table()
    )
    link = values["portal"]["link"]
    assert link.startswith("http://localhost:8000/p/")
    assert links.read(link.rsplit("/p/", 1)[1].rstrip("/")) == ledger.dupont


def test_a_visit_is_logged_once_a_day_and_counts_as_an_answer(ledger):
    from datetime import timedelta

    from relance.models import Event, Execution
    from relance.services.analytics import effectiveness

    customer = ledger.dupont
    invoice = customer.invoices.order_by("due_date").first()
    Execution.objects.create(
        key="visit-test",
        company=customer.company,
        customer=customer,
        plan_code="standard",
        step_name="Payment reminder",
        reference_invoice=invoice,
        reference_external_id=invoice.external_id,
        date=clock.today() - timedelta(days=2),
        status="executed",
        channel="email",
        mode="auto",
        customer_facing=True,
    )
    client = Client()
    client.get(ledger.path())
    client.get(ledger.path())
    assert Event.objects.filter(customer=customer, kind="portal.visited").count() == 1
    [row] = effectiveness.measure(Execution.objects.filter(key="visit-test"))
    assert row.answered == 1
