"""Paying online from the portal, through a provider: a generic payment link (a URL template of
the company's, confirmed by a webhook signed with a shared secret) or Stripe Checkout (confirmed by
Stripe's signed `checkout.session.completed` event).

The portal asks to pay chosen invoices in one currency (amounts in different currencies are never
added) under a reference of ours (PaymentRequest). A confirmation is believed only when its
signature holds and it names an open reference; it is recorded once whatever the provider
retries: the payment (allocated like any other), the invoices' queued reminders cancelled, the
customer thanked through the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from relance.domain.errors import Forbidden, Refusal
from relance.domain.money import minor_units, parse_amount
from relance.messaging import formatting
from relance.models import Customer, Dispute, Invoice, OutboxMessage, Payment, PaymentRequest
from relance.services.dialogue import notices
from relance.services.dunning import outbox
from relance.services.ledger import allocation, statements
from relance.services.organisation import hours, journal

LINK, STRIPE = "link", "stripe"
STRIPE_TOLERANCE_SECONDS = 300


class PaymentRefused(Refusal, ValueError):
    """The payment cannot be asked for or recorded as given (the message says why)."""


def owed_by_currency(customer: Customer, on: date) -> dict[str, tuple[Decimal, list[str]]]:
    """Per currency: the amount due on `on` and the invoices (external ids) it is for; an
    invoice under an open dispute is not asked for while it is examined."""
    found: dict[str, tuple[Decimal, list[str]]] = {}
    disputed = set(
        Dispute.objects.filter(customer=customer, resolved_on=None).values_list(
            "invoice__external_id", flat=True
        )
    )
    for row in statements.statement(customer, on, strict=False)["invoices"]:
        if row["id"] in disputed:
            continue
        total, ids = found.get(row["currency"], (Decimal(0), []))
        found[row["currency"]] = (total + Decimal(row["amount_due"]), [*ids, row["id"]])
    return found


def request_payment(
    customer: Customer, currency: str, *, now: datetime | None = None
) -> PaymentRequest:
    """A request to pay everything the customer owes in `currency`, with a fresh reference."""
    company = customer.company
    if company.payment_provider not in (LINK, STRIPE):
        raise PaymentRefused("online payment is not offered")
    now = now or timezone.now()
    owed = owed_by_currency(customer, hours.company_today(company, now)).get(currency)
    if owed is None or owed[0] <= 0:
        raise PaymentRefused(f"nothing is owed in {currency}")
    amount, invoices = owed
    return PaymentRequest.objects.create(
        company=company,
        customer=customer,
        reference="RL" + secrets.token_hex(6).upper(),
        provider=company.payment_provider,
        currency=currency,
        amount=amount,
        invoice_ids=invoices,
        created_at=now,
    )


def link_url(request: PaymentRequest, return_url: str) -> str:
    """The company's payment link for this request (its template's fields URL-encoded)."""
    values = {
        "reference": request.reference,
        "amount": f"{request.amount.quantize(Decimal(1).scaleb(-minor_units(request.currency))):f}",
        "currency": request.currency,
        "customer": request.customer.external_id,
        "return_url": return_url,
    }
    template = request.company.payment_link_template
    if not template:
        raise PaymentRefused("the company has no payment link")
    try:
        return template.format(**{k: quote(str(v), safe="") for k, v in values.items()})
    except (KeyError, IndexError, ValueError) as exc:
        raise PaymentRefused(f"the payment link template is not valid ({exc})") from None


def stripe_checkout(request: PaymentRequest, success_url: str, cancel_url: str) -> str:
    """Create a Stripe Checkout session for the request; the address to send the customer to."""
    key = settings.RELANCE_STRIPE_SECRET_KEY
    if not key:
        raise PaymentRefused("Stripe is not configured (RELANCE_STRIPE_SECRET_KEY)")
    minor = int(request.amount.scaleb(minor_units(request.currency)).to_integral_value())
    data = {
        "mode": "payment",
        "client_reference_id": request.reference,
        "metadata[reference]": request.reference,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": request.currency.lower(),
        "line_items[0][price_data][unit_amount]": str(minor),
        "line_items[0][price_data][product_data][name]": (
            f"{request.company.name}: {', '.join(request.invoice_ids)}"
        )[:250],
    }
    try:
        answer = requests.post(
            f"{settings.RELANCE_STRIPE_API.rstrip('/')}/v1/checkout/sessions",
            data=data,
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": request.reference},
            timeout=20,
        )
        answer.raise_for_status()
        session = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise PaymentRefused(f"Stripe did not answer as expected ({exc})") from None
    PaymentRequest.objects.filter(pk=request.pk).update(provider_id=session.get("id", ""))
    return str(session["url"])


class ConfirmationRefused(Forbidden, ValueError):
    """A confirmation whose signature does not hold, or that we cannot use."""


def verify_stripe(payload: bytes, header: str, secret: str, now: float | None = None) -> Any:
    """The event Stripe signed (header `Stripe-Signature: t=…,v1=…`), or ConfirmationRefused; events
    older than five minutes are refused (a replay)."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _sep, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    stamp = (parts.get("t") or [""])[0]
    if not stamp.isdigit() or not secret:
        raise ConfirmationRefused("no valid signature")
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
        raise ConfirmationRefused("the signature does not match")
    if abs((now or time.time()) - int(stamp)) > STRIPE_TOLERANCE_SECONDS:
        raise ConfirmationRefused("the event is too old")
    try:
        return json.loads(payload)
    except ValueError:
        raise ConfirmationRefused("the body is not JSON") from None


def sign_link(payload: bytes, secret: str) -> str:
    """The signature a payment link provider sends (`X-Relance-Signature: sha256=<hex>`)."""
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def verify_link(payload: bytes, signature: str, secret: str) -> Any:
    if not secret or not hmac.compare_digest(sign_link(payload, secret), signature or ""):
        raise ConfirmationRefused("the signature does not match")
    try:
        return json.loads(payload)
    except ValueError:
        raise ConfirmationRefused("the body is not JSON") from None


@dataclass(frozen=True)
class Confirmed:
    payment: Payment
    new: bool  # False: the provider retried a confirmation already recorded


def confirm(
    reference: str,
    provider_id: str,
    amount: str,
    currency: str,
    *,
    paid_on: date | None = None,
    now: datetime | None = None,
) -> Confirmed:
    """Record what the provider confirms for one of our references, once."""
    now = now or timezone.now()
    with transaction.atomic():
        request = (
            PaymentRequest.objects.select_for_update()
            .select_related("company", "customer")
            .filter(reference=reference)
            .first()
        )
        if request is None:
            raise PaymentRefused(f"no payment request '{reference}'")
        if request.status == PaymentRequest.Status.PAID and request.payment is not None:
            return Confirmed(request.payment, new=False)
        if currency.upper() != request.currency:
            raise PaymentRefused(f"paid in {currency}, asked in {request.currency}")
        try:
            value = parse_amount(amount, request.currency)
        except ValueError as exc:
            raise PaymentRefused(str(exc)) from None
        if value <= 0:
            raise PaymentRefused("the amount paid must be positive")
        customer, company = request.customer, request.company
        day = paid_on or hours.company_today(company, now)
        invoices = list(
            Invoice.objects.filter(customer=customer, external_id__in=request.invoice_ids)
        )
        payment = Payment.objects.create(
            company=company,
            customer=customer,
            external_id=f"{request.provider}-{provider_id or request.reference}"[:100],
            invoice=invoices[0] if len(invoices) == 1 else None,
            date=day,
            currency=request.currency,
            amount=value,
        )
        request.status = PaymentRequest.Status.PAID
        request.payment = payment
        request.provider_id = provider_id or request.provider_id
        request.paid_at = now
        request.save(update_fields=["status", "payment", "provider_id", "paid_at"])
        allocation.reallocate([customer.pk])
        cancelled = _cancel_paid_reminders(customer, day)
        journal.record(
            "payment.received",
            payment,
            source=request.provider,
            data={
                "reference": request.reference,
                "amount": f"{value:f}",
                "currency": request.currency,
                "invoices": request.invoice_ids,
                "reminders_cancelled": cancelled,
            },
        )
        key = _queue_thanks(request, payment, now)
    if key:
        outbox.deliver_now([key], now)
    return Confirmed(payment, new=True)


def _cancel_paid_reminders(customer: Customer, day: date) -> int:
    """Queued messages about invoices all paid now leave the outbox at once (delivery would cancel
    them too; a person reading the outbox should not see them waiting)."""
    queued = OutboxMessage.objects.filter(
        customer=customer,
        status__in=[OutboxMessage.Status.PLANNED, OutboxMessage.Status.FAILED],
    ).exclude(invoice_ids=[])
    candidates = list(queued)
    owed = outbox.still_owed(candidates, day)
    paid = [m.pk for m in candidates if m.pk not in owed]
    return OutboxMessage.objects.filter(
        pk__in=paid, status__in=[OutboxMessage.Status.PLANNED, OutboxMessage.Status.FAILED]
    ).update(status=OutboxMessage.Status.CANCELLED, last_error="paid online")


def _queue_thanks(request: PaymentRequest, payment: Payment, now: datetime) -> str:
    """The company's thank-you template, in the customer's language."""
    customer = request.customer
    language = customer.language
    numbers = dict(
        Invoice.objects.filter(customer=customer, external_id__in=request.invoice_ids).values_list(
            "external_id", "number"
        )
    )
    return notices.queue(
        customer,
        request.company.thanks_template,
        f"thanks:{request.reference}",
        payment.date,
        now,
        {
            "paid": {
                "amount": formatting.money(payment.amount, payment.currency, language),
                "date": formatting.day(payment.date, language),
                "invoices": ", ".join(numbers.get(i, i) for i in request.invoice_ids),
            }
        },
    )
