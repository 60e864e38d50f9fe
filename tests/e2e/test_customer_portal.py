"""A customer uses the portal from the link in their email, in Chromium on a phone-sized screen:
statement, PDF download, a dispute with its deadlines, a promise, paying by the payment link
with the thank-you email over real SMTP; expired and tampered links."""

from __future__ import annotations

import html
import json
import os
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from playwright.sync_api import expect

from relance.models import Company, Contact, Dispute, PaymentPlan, PaymentRequest, Promise
from relance.services.portal import links, online_payments
from tests import clock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_a_customer_reads_downloads_disputes_and_promises(
    phone, new_customer, new_invoice, tmp_path
):
    company = Company.objects.create(
        code="lumiere",
        name="Lumiere Studio Ltd",
        country="GB",
        currency="GBP",
        iban="GB33BUKB20201555555555",
        bic="BUKBGB22",
    )
    customer = new_customer(company, "C1", "Hartley & Sons")
    new_invoice(customer, "I1", "1250.00", days_late=40)
    new_invoice(customer, "I2", "300.00", days_late=-10)
    Contact.objects.create(
        company=company,
        customer=customer,
        external_id="K1",
        name="Ann Hartley",
        email="ann@hartley.test",
        roles=["billing"],
    )
    phone.goto(f"/p/{links.token(customer)}/")
    expect(phone.get_by_role("heading", name="Hartley & Sons")).to_be_visible()
    expect(phone.locator(".totals")).to_contain_text("€1,550.00")
    expect(phone.locator(".totals")).to_contain_text("of which €1,250.00 overdue")
    expect(phone.locator(".bank")).to_contain_text("GB33BUKB20201555555555")
    phone.screenshot(
        path=str(Path(os.environ.get("RELANCE_SCREENSHOTS", tmp_path)) / "portal-fr.png"),
        full_page=True,
    )
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Download a summary (PDF)").first.click()
    saved = tmp_path / "invoice.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    phone.get_by_role("link", name="Dispute an invoice").click()
    phone.get_by_label("F-I1").check()
    phone.get_by_label("The amount is wrong").check()
    phone.get_by_label("Tell us more").fill("The discount agreed in March is missing.")
    proof = tmp_path / "order.pdf"
    proof.write_bytes(b"%PDF-1.4\n% the signed order\n")
    phone.get_by_label("Proof (PDF, PNG or JPEG, at most 5 MB)").set_input_files(str(proof))
    phone.get_by_role("button", name="Send my dispute").click()
    expect(phone.locator(".done")).to_contain_text("We will acknowledge it by")
    phone.screenshot(path=str(tmp_path / "dispute.png"), full_page=True)
    dispute = Dispute.objects.get()
    assert dispute.category == "wrong_amount"
    assert dispute.proof.read().startswith(b"%PDF")

    phone.get_by_role("link", name="← Your account").click()
    expect(phone.locator(".invoice").first).to_contain_text("Disputed: we are looking into it")
    phone.get_by_role("link", name="Promise to pay").click()
    phone.get_by_label("F-I2").check()
    pay_by = clock.today() + timedelta(days=12)
    phone.get_by_label("Paid by").fill(pay_by.isoformat())
    phone.get_by_role("button", name="Promise to pay").click()
    expect(phone.locator(".done")).to_contain_text("we have noted your promise to pay by")
    assert Promise.objects.get().pay_by == pay_by


def test_expired_and_tampered_links_are_refused(phone, new_customer, new_invoice, monkeypatch):
    company = Company.objects.create(code="a", name="Atelier", country="FR", currency="EUR")
    customer = new_customer(company, "C1", "Boulangerie Dupont")
    new_invoice(customer, "I1", "99.00", days_late=3)
    then = time.time() - 31 * 86400
    with monkeypatch.context() as patch:
        patch.setattr("django.core.signing.time.time", lambda: then)
        old = links.token(customer)
    phone.goto(f"/p/{old}/?lang=en")
    expect(phone.locator(".problem")).to_contain_text("This link has expired")
    expect(phone.get_by_role("button", name="Send me a code")).to_be_visible()
    expect(phone.locator("main")).not_to_contain_text("Boulangerie Dupont")
    phone.goto(f"/p/{links.token(customer)[:-4]}abcd/?lang=en")
    expect(phone.locator(".problem")).to_contain_text("This link is not valid")


def test_paying_by_the_payment_link_brings_the_thank_you_email(
    phone, live_server, new_customer, new_invoice, smtp, tmp_path
):
    company = Company.objects.create(
        code="lumiere",
        name="Lumiere Studio Ltd",
        country="GB",
        currency="GBP",
        payment_provider="link",
        payment_link_template="https://pay.example.test/checkout?ref={reference}&amount={amount}"
        "&back={return_url}",
        payment_webhook_secret="shared-secret",
        sender_email="ar@lumiere.test",
    )
    customer = new_customer(company, "C1", "Hartley & Sons")
    new_invoice(customer, "I1", "420.00", days_late=12)
    Contact.objects.create(
        company=company,
        customer=customer,
        external_id="K1",
        name="Ann Hartley",
        email="ann@hartley.test",
        roles=["billing"],
    )
    provider: dict[str, str] = {}

    def checkout_page(route):  # stands in for the provider's page: a link back to the portal
        asked = parse_qs(urlparse(route.request.url).query)
        provider.update({k: v[0] for k, v in asked.items()})
        route.fulfill(
            content_type="text/html",
            body=f'<h1>Fake provider</h1><a href="{html.escape(asked["back"][0])}">Back</a>',
        )

    phone.route("https://pay.example.test/**", checkout_page)
    phone.goto(f"/p/{links.token(customer)}/")
    phone.get_by_role("button", name="Pay €420.00 now").click()
    expect(phone.get_by_role("heading", name="Fake provider")).to_be_visible()
    reference = PaymentRequest.objects.get().reference
    assert (provider["ref"], provider["amount"]) == (reference, "420.00")
    phone.get_by_role("link", name="Back").click()
    expect(phone.locator(".done")).to_contain_text("Your payment is being confirmed")

    body = json.dumps(
        {"reference": reference, "id": "tx-981", "amount": "420.00", "currency": "EUR"}
    ).encode()
    confirmed = requests.post(
        f"{live_server.url}/payments/link/lumiere/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Relance-Signature": online_payments.sign_link(body, "shared-secret"),
        },
        timeout=10,
    )
    assert confirmed.json() == {"payment": "link-tx-981", "new": True}
    [thanks] = smtp.messages
    assert thanks["To"] == "ann@hartley.test"
    assert thanks["Subject"] == "Thank you for your payment of €420.00"
    phone.reload()
    expect(phone.locator(".totals")).to_contain_text("Nothing to pay. Thank you!")
    phone.screenshot(path=str(tmp_path / "paid.png"), full_page=True)


def test_a_customer_asks_for_a_payment_plan(phone, new_customer, new_invoice, tmp_path):
    company = Company.objects.create(code="a", name="Atelier", country="GB", currency="EUR")
    customer = new_customer(company, "C1", "Hartley & Sons")
    new_invoice(customer, "I1", "1200.00", days_late=20)
    phone.goto(f"/p/{links.token(customer)}/")
    phone.get_by_role("link", name="Ask for a payment plan").click()
    phone.get_by_label("F-I1").check()
    phone.get_by_label("In how many monthly instalments?").select_option("3")
    first = clock.today() + timedelta(days=7)
    phone.get_by_label("First instalment on").fill(first.isoformat())
    phone.get_by_role("button", name="Ask for this plan").click()
    expect(phone.locator(".done")).to_contain_text("we have received your request")
    expect(phone.locator(".plan")).to_contain_text("€400.00")
    phone.screenshot(path=str(tmp_path / "plan.png"), full_page=True)
    plan = PaymentPlan.objects.get()
    assert (plan.status, plan.instalments.count()) == ("requested", 3)
