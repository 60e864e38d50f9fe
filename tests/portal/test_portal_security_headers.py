"""The customer portal's pages carry a strict Content-Security-Policy (no 'unsafe-inline', no
'unsafe-eval'), a Permissions-Policy and the usual security headers; the company's brand colour
comes in a style block allowed by this response's nonce alone; the pay button may hand the
customer over to the company's payment provider and nowhere else."""

from __future__ import annotations

import re

from django.test import Client

from relance.models import Company


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        if words := part.split():
            directives[words[0]] = words[1:]
    return directives


def assert_strict(response, status: int = 200) -> dict[str, list[str]]:
    path = response.request["PATH_INFO"]
    assert response.status_code == status, path
    csp = policy(response)
    assert csp["default-src"] == ["'self'"], path
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[directive], f"{path}: {directive} {csp[directive]}"
        assert "'unsafe-eval'" not in csp[directive], f"{path}: {directive} {csp[directive]}"
    assert csp["frame-ancestors"] == ["'none'"], path
    assert csp["object-src"] == ["'none'"], path
    assert csp["base-uri"] == ["'none'"], path
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), path
    assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    assert response.headers.get("Referrer-Policy") == "same-origin", path
    assert response.headers.get("X-Frame-Options") == "DENY", path
    assert response.headers.get("Cross-Origin-Opener-Policy") == "same-origin", path
    return csp


def test_every_portal_page_has_a_strict_policy(ledger):
    client = Client()
    for suffix in ("", "dispute/", "promise/", "payment-plan/"):
        csp = assert_strict(client.get(ledger.path(suffix=suffix)))
        assert csp["form-action"] == ["'self'"]  # no online payment: forms post here only
    tampered = ledger.path()[:-5] + "abcd/"
    assert_strict(client.get(tampered), status=403)
    code = client.post(ledger.path(suffix="new-link/")[:-14] + "abcd/new-link/", {"code": "1"})
    assert_strict(code, status=code.status_code)


def test_the_brand_colour_is_allowed_by_the_nonce_of_its_response_alone(ledger):
    Company.objects.filter(pk=ledger.company.pk).update(brand_colour="#8a2be2")
    first, second = Client().get(ledger.path()), Client().get(ledger.path())
    nonces = []
    for response in (first, second):
        csp = assert_strict(response)
        [nonce] = [s for s in csp["style-src"] if s.startswith("'nonce-")]
        nonces.append(nonce[len("'nonce-") : -1])
        page = response.content.decode()
        assert re.search(rf'<style nonce="{re.escape(nonces[-1])}">[^<]*#8a2be2', page)
        assert csp["script-src"] == ["'self'"]
    assert nonces[0] != nonces[1]


def test_the_pay_button_may_go_to_the_payment_link_provider_only(ledger):
    Company.objects.filter(pk=ledger.company.pk).update(
        payment_provider="link",
        payment_link_template="https://pay.example.test:8443/checkout?ref={reference}",
    )
    csp = assert_strict(Client().get(ledger.path()))
    assert csp["form-action"] == ["'self'", "https://pay.example.test:8443"]
    # the other pages have no pay button
    assert policy(Client().get(ledger.path(suffix="promise/")))["form-action"] == ["'self'"]


def test_the_pay_button_may_go_to_stripe_checkout(ledger):
    Company.objects.filter(pk=ledger.company.pk).update(payment_provider="stripe")
    csp = assert_strict(Client().get(ledger.path()))
    assert csp["form-action"] == ["'self'", "https://checkout.stripe.com"]
