"""Security headers on every page: a Content-Security-Policy without 'unsafe-inline' or
'unsafe-eval' for the staff app's own pages, a Permissions-Policy, and the usual others; the API
docs and the Django admin get a policy too, relaxed only where their own code needs it. A scan of
the templates keeps inline scripts, styles and event handlers out of the pages we serve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from relance.models import Campaign, Invoice, Plan
from relance.services.dunning import plans as plan_service

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "relance" / "web" / "templates", ROOT / "relance" / "portal" / "templates"]
STANDARD = ROOT / "relance" / "plans" / "standard.yaml"


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        if words := part.split():
            directives[words[0]] = words[1:]
    return directives


def assert_strict(response) -> None:
    """Our own pages: no inline code or style allowed, nothing loaded from elsewhere."""
    path = response.request["PATH_INFO"]
    assert response.status_code == 200, path
    csp = policy(response)
    for directive in ("script-src", "style-src"):
        assert csp.get(directive), f"{path}: no {directive}"
        assert "'unsafe-inline'" not in csp[directive], f"{path}: {directive} {csp[directive]}"
        assert "'unsafe-eval'" not in csp[directive], f"{path}: {directive} {csp[directive]}"
    assert "'unsafe-inline'" not in csp.get("default-src", []), path
    assert csp["default-src"] == ["'self'"], path
    assert csp["frame-ancestors"] == ["'none'"], path
    assert csp["object-src"] == ["'none'"], path
    assert csp["base-uri"] == ["'none'"], path
    assert csp["form-action"][0] == "'self'", path
    assert_other_headers(response)


def assert_other_headers(response) -> None:
    path = response.request["PATH_INFO"]
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), path
    assert "geolocation=()" in response.headers["Permissions-Policy"], path
    assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    assert response.headers.get("Referrer-Policy") in {
        "same-origin",
        "strict-origin-when-cross-origin",
    }, path
    assert response.headers.get("X-Frame-Options") == "DENY", path
    assert response.headers.get("Cross-Origin-Opener-Policy") == "same-origin", path


@pytest.fixture
def plan(world):
    text = STANDARD.read_text(encoding="utf-8").replace("code: standard", "code: alpha-std")
    plan_service.load_plans(text, company=world.alpha)
    return Plan.objects.get(code="alpha-std")


def test_every_staff_page_has_a_strict_policy(world, plan):
    admin = world.client("admin")
    campaign = admin.post(
        "/campaigns/new/",
        {
            "name": "Year-end notice",
            "company": "alpha",
            "owes": "yes",
            "channel": "email",
            "text": "own",
            "subject": "Before the holidays",
            "body": "Hello",
            "counts_as_contact": "on",
        },
    )
    assert campaign.status_code == 302, campaign.content.decode()[:2000]
    dupont = world.customers["dupont"]
    invoice = Invoice.objects.filter(customer=dupont).first()
    pages = [
        "/dashboard/",
        "/customers/",
        f"/customers/{dupont.pk}/",
        f"/invoices/{invoice.pk}/",
        "/actions/",
        "/calendar/",
        "/analytics/",
        "/outbox/",
        "/campaigns/",
        "/campaigns/new/",
        f"/campaigns/{Campaign.objects.get().pk}/",
        "/integrations/",
        "/team/",
        "/plans/",
        "/plans/new/",
        "/plans/rules/",
        f"/plans/{plan.pk}/",
    ]
    for path in pages:
        assert_strict(admin.get(path))
    assert_strict(world.client("rep").get("/my-customers/"))
    assert_strict(Client().get("/login/"))


def test_htmx_fragments_carry_the_policy_too(world):
    response = world.client("admin").get("/customers/", headers={"HX-Request": "true"})
    assert_strict(response)


def test_the_api_docs_have_a_policy_and_load_only_our_files(db):
    response = Client().get("/api/docs")
    assert response.status_code == 200
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert_other_headers(response)


def test_the_admin_has_a_policy(world):
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert policy(response)["default-src"] == ["'self'"]
    assert_other_headers(response)
    world.users["root"].is_staff = True
    world.users["root"].save()
    index = world.client("root").get("/admin/")
    assert index.status_code == 200
    csp = policy(index)
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert_other_headers(index)


# What a served template may not contain: CSP refuses inline code, styles and event handlers.
INLINE = [
    ("inline <script> with content", re.compile(r"<script\b(?![^>]*\bsrc=)([^>]*)>\s*\S", re.I)),
    ("<style> block", re.compile(r"<style\b", re.I)),
    ("style= attribute", re.compile(r"\sstyle\s*=", re.I)),
    ("on…= event handler", re.compile(r"\son[a-z]+\s*=", re.I)),
    ("hx-on attribute (evaluates code)", re.compile(r"\shx-on", re.I)),
    ("javascript: URL", re.compile(r"javascript:", re.I)),
]
# Data blocks are not code; a block carrying the per-response nonce is allowed by the policy.
ALLOWED = re.compile(r"""<script\b[^>]*type="application/json"|<style nonce="\{\{""", re.I)


def test_no_template_we_serve_has_inline_code_or_styles():
    found = []
    for folder in TEMPLATE_DIRS:
        for template in sorted(folder.rglob("*.html")):
            text = template.read_text(encoding="utf-8")
            for what, pattern in INLINE:
                for match in pattern.finditer(text):
                    if ALLOWED.match(text, match.start()):
                        continue
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{template.relative_to(ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)
