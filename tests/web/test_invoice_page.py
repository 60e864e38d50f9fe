"""The invoice page: its PDF (the ERP's, else a summary) and the acts on it — a promise with an
amount, a dispute with its category — without going back to the customer's page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.urls import reverse

from relance.models import Dispute, Invoice, Promise
from tests import clock


def _invoice(ext: str) -> Invoice:
    return Invoice.objects.get(external_id=ext)


def test_the_invoice_pdf_is_the_erp_s_or_a_summary(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = world.client("reader")
    summary = client.get(reverse("invoice-pdf", args=[_invoice("I1").pk]))
    assert summary["Content-Type"] == "application/pdf"
    assert "summary" in summary["Content-Disposition"]
    invoice = _invoice("I1")
    invoice.pdf.save("F-I1.pdf", ContentFile(b"%PDF-1.4 the ERP's own"), save=True)
    erp = client.get(reverse("invoice-pdf", args=[invoice.pk]))
    assert erp.content == b"%PDF-1.4 the ERP's own"
    assert (
        world.client("beta_admin").get(reverse("invoice-pdf", args=[invoice.pk])).status_code == 404
    )
    page = client.get(reverse("invoice", args=[invoice.pk])).content.decode()
    assert reverse("invoice-pdf", args=[invoice.pk]) in page
    assert "Act on this invoice" not in page  # a reader does not act


def test_a_controller_records_a_promise_and_a_dispute_from_the_invoice(world):
    client = world.client("controller")
    url = reverse("invoice", args=[_invoice("I1").pk])
    assert "Act on this invoice" in client.get(url).content.decode()
    pay_by = (clock.today() + timedelta(days=10)).isoformat()
    answer = client.post(
        reverse("customer-promise", args=[world.customers["dupont"].pk]),
        {
            "back": _invoice("I1").pk,
            "promise-invoices": _invoice("I1").pk,
            "promise-pay_by": pay_by,
            "promise-amount": "1250.00",
        },
    )
    assert answer["Location"] == url
    promise = Promise.objects.get()
    assert promise.amount == Decimal("1250.00")
    assert list(promise.invoices.all()) == [_invoice("I1")]

    answer = client.post(
        reverse("customer-dispute", args=[world.customers["dupont"].pk]),
        {
            "back": _invoice("I2").pk,
            "dispute-invoice": _invoice("I2").pk,
            "dispute-category": "already_paid",
            "dispute-reason": "paid by cheque",
        },
    )
    assert answer["Location"] == reverse("invoice", args=[_invoice("I2").pk])
    assert Dispute.objects.get().category == "already_paid"
    page = client.get(reverse("invoice", args=[_invoice("I2").pk])).content.decode()
    assert "The invoice is disputed" in page


def test_back_goes_only_to_the_customer_s_own_invoices(world, new_invoice):
    theirs = new_invoice(world.customers["martin"], "M1", "10.00", days_late=1)
    pay_by = (clock.today() + timedelta(days=10)).isoformat()
    answer = world.client("controller").post(
        reverse("customer-promise", args=[world.customers["dupont"].pk]),
        {"back": theirs.pk, "promise-invoices": _invoice("I1").pk, "promise-pay_by": pay_by},
    )
    assert answer["Location"] == reverse("customer", args=[world.customers["dupont"].pk])
