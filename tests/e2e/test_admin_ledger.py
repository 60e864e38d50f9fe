"""A credit controller finds the imported ledger in the Django admin (raw rows, for staff)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CUSTOMERS = ["external_id", "name", "currency", "country"]
INVOICES = ["external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"]
PAYMENTS = ["external_id", "customer_id", "invoice_id", "date", "currency", "amount"]


def test_login_and_browse_imported_invoices(page, company, relance, write_csv, tmp_path):
    get_user_model().objects.create_superuser("claire", "claire@ar.test", "s3cret-pass!")
    relance.json(
        "import",
        "customers",
        write_csv("c", CUSTOMERS, [["C1", "Boulangerie Dupont", "EUR", "FR"]]),
    )
    relance.json(
        "import",
        "invoices",
        write_csv(
            "i",
            INVOICES,
            [["I1", "C1", "F-2026-001", "2026-01-10", "2026-02-09", "EUR", "1250.00"]],
        ),
    )
    relance.json(
        "import",
        "payments",
        write_csv("p", PAYMENTS, [["P1", "C1", "I1", "2026-02-20", "EUR", "250.00"]]),
    )

    page.goto("/admin/")
    page.get_by_label("Username").fill("claire")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Please enter the correct username")).to_be_visible()

    page.get_by_label("Password").fill("s3cret-pass!")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Invoices").first.click()
    row = page.locator("#result_list tbody tr", has_text="F-2026-001")
    expect(row).to_contain_text("Boulangerie Dupont")
    expect(row).to_contain_text("1250.00")
    expect(row).to_contain_text("1000.00")  # amount due today, after the 250.00 payment
    page.screenshot(path=str(tmp_path / "invoices.png"), full_page=True)

    row.get_by_role("link", name="F-2026-001").click()
    expect(page.locator("#id_number")).to_have_value("F-2026-001")
    expect(page.locator(".inline-group")).to_contain_text("250.00")  # the allocation


def test_after_a_cycle_the_outbox_and_actions_are_browsable(page, company, relance, write_csv):
    from pathlib import Path

    get_user_model().objects.create_superuser("claire", "claire@ar.test", "s3cret-pass!")
    plans = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"
    relance.json("plan", "load", plans)
    relance.json(
        "import",
        "customers",
        write_csv(
            "c",
            [*CUSTOMERS, "owner_email", "plan", "address_line1", "postal_code", "city"],
            [
                [
                    "C1",
                    "Boulangerie Dupont",
                    "EUR",
                    "FR",
                    "claire@ar.test",
                    "standard",
                    "8 avenue Victor Hugo",
                    "69002",
                    "Lyon",
                ]
            ],
        ),
    )
    relance.json(
        "import",
        "contacts",
        write_csv(
            "k",
            ["external_id", "customer_id", "email", "roles"],
            [["K1", "C1", "marie@dupont.test", "billing"]],
        ),
    )
    relance.json(
        "import",
        "invoices",
        write_csv("i", INVOICES, [["I1", "C1", "F-1", "2026-01-10", "2026-02-09", "EUR", "90.00"]]),
    )
    out = relance.json("run", "--date", "2026-03-26")  # +45: the owner's call
    assert [a["step"] for a in out["actions"]] == ["Account owner call"]
    relance.json("run", "--date", "2026-04-10")  # +60: the formal notice letter

    page.goto("/admin/login/")
    page.get_by_label("Username").fill("claire")
    page.get_by_label("Password").fill("s3cret-pass!")
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/relance/outboxmessage/")
    row = page.locator("#result_list tbody tr", has_text="Mise en demeure")
    expect(row).to_contain_text("In the print run")
    page.goto("/admin/relance/actionitem/")
    item = page.locator("#result_list tbody tr", has_text="Account owner call")
    expect(item).to_contain_text("Open")
    item.get_by_role("link").first.click()
    expect(page.locator("#id_body")).to_contain_text("F-1")
    page.goto("/admin/relance/execution/")
    call = page.locator("#result_list tbody tr", has_text="Account owner call")
    expect(call).to_contain_text("Friendly reminder, Payment reminder, Firm reminder")
