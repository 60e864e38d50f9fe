"""Paying online: the generic payment link and Stripe Checkout. Confirmations are believed only
when signed (Stripe's scheme, recorded payloads signed here), recorded once whatever the retries,
allocated, the queued reminders of the paid invoices cancelled and the customer thanked."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django.test import Client

from relance.models import Company, Event, OutboxMessage, Payment, PaymentRequest
from relance.services.portal import online_payments

SECRET = "whsec_test_0123456789"


def _link_company(ledger):
    Company.objects.filter(pk=ledger.company.pk).update(
        payment_provider="link",
        payment_link_template="https://pay.example.test/checkout?ref={reference}&amount={amount}"
        "&currency={currency}&back={return_url}",
        payment_webhook_secret=SECRET,
    )


def _queued_reminder(ledger, invoice_pks):
    return OutboxMessage.objects.create(
        key=f"reminder-{invoice_pks}",
        company=ledger.company,
        customer=ledger.dupont,
        channel="email",
        to=["jeanne@dupont.test"],
        invoice_ids=invoice_pks,
    )


def _confirm_link(reference, amount="1300.00", currency="EUR", secret=SECRET, provider_id="pl_1"):
    body = json.dumps(
        {"reference": reference, "id": provider_id, "amount": amount, "currency": currency}
    ).encode()
    return Client().post(
        "/payments/link/atelier/",
        body,
        content_type="application/json",
        headers={"X-Relance-Signature": online_payments.sign_link(body, secret)},
    )


def test_paying_by_link_records_allocates_cancels_and_thanks_once(ledger):
    _link_company(ledger)
    i1, i2 = ledger.dupont.invoices.order_by("due_date")
    reminder = _queued_reminder(ledger, [i1.pk, i2.pk])
    answer = Client().post(ledger.path(suffix="pay/"), {"currency": "EUR"})
    assert answer.status_code == 302
    request = PaymentRequest.objects.get()
    assert request.amount == Decimal("1300.00")  # 1000 left on I1 + 300 on I2
    assert answer.url.startswith(f"https://pay.example.test/checkout?ref={request.reference}")
    assert "&amount=1300.00&currency=EUR&back=http%3A%2F%2Ftestserver%2Fp%2F" in answer.url

    first = _confirm_link(request.reference)
    assert first.status_code == 200
    assert first.json() == {"payment": "link-pl_1", "new": True}
    again = _confirm_link(request.reference)  # the provider retries
    assert again.json()["new"] is False
    assert Payment.objects.filter(external_id="link-pl_1").count() == 1
    ledger.dupont.refresh_from_db()
    assert ledger.dupont.oldest_unpaid_due is None  # all paid
    reminder.refresh_from_db()
    assert reminder.status == "cancelled"
    assert Event.objects.get(kind="payment.received").data["reminders_cancelled"] == 1
    [thanks] = mail.outbox
    assert thanks.to == ["jeanne@dupont.test"]
    assert thanks.subject == "Merci pour votre règlement de 1 300,00 €"  # one line, plain spaces
    assert "F-I1, F-I2" in thanks.body
    statement = Client().get(ledger.path()).content.decode()
    assert "Rien à régler. Merci !" in statement


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"secret": "wrong"}, 400),
        ({"currency": "GBP"}, 400),
        ({"amount": "-5.00"}, 400),
    ],
)
def test_bad_confirmations_are_refused(ledger, change, status):
    _link_company(ledger)
    Client().post(ledger.path(suffix="pay/"), {"currency": "EUR"})
    reference = PaymentRequest.objects.get().reference
    assert _confirm_link(reference, **change).status_code == status
    assert not Payment.objects.filter(external_id__startswith="link-").exists()


def test_an_unknown_reference_is_refused(ledger):
    _link_company(ledger)
    assert _confirm_link("RLNOPE").status_code == 400


class FakeStripe(BaseHTTPRequestHandler):
    """Stands in for api.stripe.com: records the session asked for, answers like Stripe."""

    asked: list[dict] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        FakeStripe.asked.append({"form": form, "auth": self.headers["Authorization"]})
        body = json.dumps(
            {"id": "cs_test_a1", "url": "https://checkout.stripe.test/c/pay/cs_test_a1"}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def stripe(ledger, settings):
    server = HTTPServer(("127.0.0.1", 0), FakeStripe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.RELANCE_STRIPE_API = f"http://127.0.0.1:{server.server_port}"
    settings.RELANCE_STRIPE_SECRET_KEY = "sk_test_relance"
    settings.RELANCE_STRIPE_WEBHOOK_SECRET = SECRET
    Company.objects.filter(pk=ledger.company.pk).update(payment_provider="stripe")
    FakeStripe.asked = []
    yield server
    server.shutdown()


def _completed(reference: str, amount_total: int) -> bytes:
    """A checkout.session.completed event as Stripe sends it (fields we read, and some we don't)."""
    return json.dumps(
        {
            "id": "evt_1Q2w3E",
            "object": "event",
            "api_version": "2024-06-20",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": "cs_test_a1",
                    "object": "checkout.session",
                    "amount_total": amount_total,
                    "currency": "eur",
                    "client_reference_id": reference,
                    "metadata": {"reference": reference},
                    "mode": "payment",
                    "payment_intent": "pi_3Ab",
                    "payment_status": "paid",
                    "status": "complete",
                }
            },
        }
    ).encode()


def _signed(payload: bytes, secret: str = SECRET, at: int | None = None) -> str:
    stamp = at or int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={signature.hexdigest()}"


def test_stripe_checkout_then_its_signed_event(stripe, ledger):
    answer = Client().post(ledger.path(suffix="pay/"), {"currency": "EUR"})
    assert answer.url == "https://checkout.stripe.test/c/pay/cs_test_a1"
    [asked] = FakeStripe.asked
    request = PaymentRequest.objects.get()
    assert asked["auth"] == "Bearer sk_test_relance"
    assert asked["form"]["client_reference_id"] == request.reference
    assert asked["form"]["line_items[0][price_data][unit_amount]"] == "130000"
    assert asked["form"]["line_items[0][price_data][currency]"] == "eur"
    assert request.provider_id == "cs_test_a1"

    payload = _completed(request.reference, 130000)
    webhook = Client().post(
        "/payments/stripe/",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": _signed(payload)},
    )
    assert webhook.status_code == 200
    assert webhook.json() == {"payment": "stripe-pi_3Ab", "new": True}
    assert Payment.objects.get(external_id="stripe-pi_3Ab").amount == Decimal("1300.00")


@pytest.mark.parametrize(
    "signature",
    [
        lambda p: _signed(p, secret="whsec_other"),
        lambda p: _signed(p, at=int(time.time()) - 3600),  # a replay an hour later
        lambda p: "t=1,v1=deadbeef",
        lambda p: "",
    ],
)
def test_stripe_events_without_a_valid_signature_are_refused(stripe, ledger, signature):
    Client().post(ledger.path(suffix="pay/"), {"currency": "EUR"})
    payload = _completed(PaymentRequest.objects.get().reference, 130000)
    webhook = Client().post(
        "/payments/stripe/",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature(payload)},
    )
    assert webhook.status_code == 400
    assert not Payment.objects.filter(external_id__startswith="stripe-").exists()


def test_without_a_provider_there_is_no_online_payment(ledger):
    page = Client().get(ledger.path()).content.decode()
    assert "Payer en ligne" not in page
    assert Client().post(ledger.path(suffix="pay/"), {"currency": "EUR"}).status_code == 409
