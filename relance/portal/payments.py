"""The customer portal's payments: the pay button sends the customer to the company's provider,
and the provider's signed confirmation (Stripe's webhook, or a payment link's) records the payment.
The confirmations come from the provider, not the customer: they carry no personal link."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from relance.domain.money import minor_units
from relance.models import Company, Customer
from relance.portal.views import _token, customer_page
from relance.services.portal import online_payments


@customer_page
def pay(request: HttpRequest, customer: Customer, language: str) -> HttpResponse:
    """Send the customer to the company's payment provider for what they owe in one currency."""
    if request.method != "POST":
        return redirect("portal", token=_token(request))
    back = request.build_absolute_uri(reverse("portal", kwargs={"token": _token(request)}))
    try:
        asked = online_payments.request_payment(customer, request.POST.get("currency", ""))
        if asked.provider == online_payments.STRIPE:
            target = online_payments.stripe_checkout(asked, back + "?paid=1", back)
        else:
            target = online_payments.link_url(asked, back + "?paid=1")
    except online_payments.PaymentRefused:
        message = _("Paying online is not possible just now. Please pay by bank transfer.")
        return render(
            request,
            "portal/refused.html",
            {"message": message, "company": customer.company, "token": _token(request)},
            status=409,
        )
    return redirect(target)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's `checkout.session.completed`: believed only with a valid signature."""
    try:
        event = online_payments.verify_stripe(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            settings.RELANCE_STRIPE_WEBHOOK_SECRET,
        )
    except online_payments.ConfirmationRefused as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    if event.get("type") != "checkout.session.completed":
        return JsonResponse({"ignored": event.get("type")})
    session = event.get("data", {}).get("object", {})
    if session.get("payment_status") != "paid":
        return JsonResponse({"ignored": "not paid yet"})
    return _confirmed(
        session.get("client_reference_id") or session.get("metadata", {}).get("reference", ""),
        session.get("payment_intent") or session.get("id", ""),
        _major(session.get("amount_total"), session.get("currency", "")),
        session.get("currency", ""),
    )


@csrf_exempt
@require_POST
def link_webhook(request: HttpRequest, company: str) -> HttpResponse:
    """A payment link provider's confirmation, signed with the company's shared secret:
    {"reference", "id", "amount", "currency"}."""
    found = Company.objects.filter(code=company).first()
    try:
        data = online_payments.verify_link(
            request.body,
            request.headers.get("X-Relance-Signature", ""),
            found.payment_webhook_secret if found else "",
        )
    except online_payments.ConfirmationRefused as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return _confirmed(
        str(data.get("reference", "")),
        str(data.get("id", "")),
        str(data.get("amount", "")),
        str(data.get("currency", "")),
    )


def _major(minor: Any, currency: str) -> str:
    """Stripe's amount in the currency's minor unit, as a decimal amount."""
    if not isinstance(minor, int) or not currency:
        return ""
    return f"{Decimal(minor).scaleb(-minor_units(currency.upper())):f}"


def _confirmed(reference: str, provider_id: str, amount: str, currency: str) -> HttpResponse:
    try:
        done = online_payments.confirm(reference, provider_id, amount, currency)
    except online_payments.PaymentRefused as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"payment": done.payment.external_id, "new": done.new})
