"""From the portal: a dispute takes invoices out of dunning with the company's service level and
proof checked by its bytes; a promise within the company's limit pauses them; both are logged,
receipted and told to staff; nothing of another customer can be named."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from relance.models import Dispute, Event, OutboxMessage, Promise
from tests import clock

PDF = b"%PDF-1.4\n%proof\n"


def _dispute(ledger, client=None, **data):
    body = {"invoices": ["I1"], "category": "already_paid", "message": "Paid on 2 Dec", **data}
    return (client or Client()).post(ledger.path(suffix="dispute/"), body)


def test_a_dispute_with_proof_leaves_dunning_with_its_deadlines(ledger):
    page = _dispute(ledger, proof=SimpleUploadedFile("virement.pdf", PDF, "application/pdf"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Merci : nous avons bien reçu votre contestation." in text
    dispute = Dispute.objects.get()
    assert (dispute.invoice.external_id, dispute.category, dispute.source) == (
        "I1",
        "already_paid",
        "portal",
    )
    assert dispute.proof.read() == PDF
    assert dispute.opened_at < dispute.acknowledge_by < dispute.resolve_by
    assert Event.objects.get(kind="dispute.opened").data["category"] == "already_paid"
    receipt = OutboxMessage.objects.get(key__startswith="dispute-receipt:")
    assert receipt.to == ["jeanne@dupont.test"]
    assert "F-I1" in receipt.body
    notice = OutboxMessage.objects.get(key__startswith="dispute-notice:")
    assert notice.customer is None
    assert notice.to == ["compta@atelier.test"]  # no owner: the company's address
    statement = Client().get(ledger.path()).content.decode()
    assert "Contestée : nous examinons votre demande" in statement
    assert re.search(r"nous répondrons au plus tard le \d", statement)  # a day, in words
    assert "heures ouvrées" not in statement  # the staff's measure, not the customer's


def test_proof_is_checked_by_its_bytes_and_size(ledger):
    fake = SimpleUploadedFile("proof.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    page = _dispute(ledger, proof=fake)
    assert page.status_code == 400
    assert "PDF, PNG ou JPEG" in page.content.decode()
    huge = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), "application/pdf")
    assert "trop volumineux" in _dispute(ledger, proof=huge).content.decode()
    assert not Dispute.objects.exists()


def test_another_customers_invoice_cannot_be_disputed(ledger):
    page = _dispute(ledger, invoices=["M1"])
    assert page.status_code == 400
    assert not Dispute.objects.exists()


def test_a_disputed_invoice_is_not_offered_again(ledger):
    _dispute(ledger)
    page = Client().get(ledger.path(suffix="dispute/")).content.decode()
    assert 'value="I1"' not in page
    assert 'value="I2"' in page
    assert _dispute(ledger).status_code == 400
    assert Dispute.objects.count() == 1


def test_a_promise_within_the_companys_limit(ledger):
    today = clock.today()
    too_far = today + timedelta(days=31)
    page = Client().post(
        ledger.path(suffix="promise/"), {"invoices": ["I1"], "pay_by": too_far.isoformat()}
    )
    assert page.status_code == 400
    assert not Promise.objects.exists()
    pay_by = today + timedelta(days=10)
    page = Client().post(
        ledger.path(suffix="promise/"),
        {"invoices": ["I1", "I2"], "pay_by": pay_by.isoformat(), "amount": "500.00"},
    )
    assert page.status_code == 200
    promise = Promise.objects.get()
    assert promise.pay_by == pay_by
    assert (promise.amount, promise.currency) == (Decimal("500.00"), "EUR")
    assert sorted(promise.invoices.values_list("external_id", flat=True)) == ["I1", "I2"]
    assert Event.objects.get(kind="promise.created").source == "portal"
    statement = Client().get(ledger.path()).content.decode().replace("\u202f", " ")
    assert "Vous avez promis de régler 500,00\xa0€ avant le" in statement


def test_the_forms_need_their_csrf_token(ledger):
    client = Client(enforce_csrf_checks=True)
    assert _dispute(ledger, client).status_code == 403
    for form in ("promise/", "payment-plan/", "pay/"):
        assert client.post(ledger.path(suffix=form), {"currency": "EUR"}).status_code == 403


def test_a_broken_promise_notice_says_the_amount_promised(ledger, relance):
    from pathlib import Path

    from relance.services.dialogue import pauses
    from relance.services.dunning.run import run as run_cycle
    from relance.services.ledger import lookup

    plans = Path(__file__).resolve().parents[2] / "relance" / "plans"
    relance.json("plan", "load", plans / "standard.yaml")
    relance.json("plan", "assign", "C1", "standard", "--company", "atelier")
    today = clock.today()
    customer = lookup.customer("C1", ledger.company)
    pauses.add_promise(
        customer,
        lookup.invoices_of(customer, ["I1"]),
        today - timedelta(days=1),
        today - timedelta(days=3),
        amount=Decimal("500.00"),
    )
    run_cycle(today, company_id=ledger.company.pk, deliver=False)
    notice = OutboxMessage.objects.get(key__contains="promise")
    assert notice.merge_data["promise"] == {
        "pay_by": (today - timedelta(days=1)).isoformat(),
        "amount": "500,00\xa0€",
    }
