"""Customers in the UK pay with a sort code and an account number (a UK bank asks for them, not an
IBAN), and read dates the British way; American customers read them the American way; French
stays French wherever the customer is."""

from __future__ import annotations

import subprocess
from datetime import timedelta

from django.test import Client

from relance.messaging import formatting
from relance.models import Company, Customer
from relance.services.organisation import hours


def _reads(ledger, customer: Customer, **changes) -> str:
    Customer.objects.filter(pk=customer.pk).update(**changes)
    customer.refresh_from_db()
    return Client().get(ledger.path(customer)).content.decode()


def _with_uk_details(ledger) -> None:
    Company.objects.filter(pk=ledger.company.pk).update(
        sort_code="401276", account_number="41234567"
    )


def test_a_uk_customer_gets_the_sort_code_and_account_number(ledger):
    _with_uk_details(ledger)
    text = _reads(ledger, ledger.dupont, country="GB", language="en", currency="GBP")
    assert "Sort code" in text
    assert "40-12-76" in text
    assert "Account number" in text
    assert "41234567" in text
    assert "FR7630006000011234567890189" not in text
    assert 'data-copy="40-12-76"' in text  # copied as a UK bank app takes it


def test_a_uk_customer_billed_in_euros_gets_the_iban(ledger):
    _with_uk_details(ledger)
    text = _reads(ledger, ledger.dupont, country="GB", language="en", currency="EUR")
    assert "FR7630006000011234567890189" in text
    assert "40-12-76" not in text


def test_a_customer_elsewhere_gets_the_iban_and_bic(ledger):
    _with_uk_details(ledger)
    text = _reads(ledger, ledger.dupont, country="FR", language="fr")
    assert "FR7630006000011234567890189" in text
    assert "AGRIFRPP" in text
    assert "40-12-76" not in text
    assert "Sort code" not in text
    assert "Code guichet" not in text


def test_a_uk_customer_gets_the_iban_when_the_company_has_no_uk_details(ledger):
    text = _reads(ledger, ledger.dupont, country="GB", language="en", currency="GBP")
    assert "FR7630006000011234567890189" in text
    assert "AGRIFRPP" in text
    assert "Sort code" not in text


def test_uk_details_for_everyone_when_there_is_no_iban(ledger):
    _with_uk_details(ledger)
    Company.objects.filter(pk=ledger.company.pk).update(iban="", bic="")
    text = _reads(ledger, ledger.dupont, country="DE", language="en")
    assert "40-12-76" in text
    assert "41234567" in text


def test_dates_in_british_english_for_a_uk_customer(ledger):
    today = hours.company_today(ledger.company)
    text = _reads(ledger, ledger.dupont, country="GB", language="en")
    due = today - timedelta(days=40)
    assert f"{due.day} {due:%B} {due.year}" in text  # "28 October 2026"
    assert f"{due:%B} {due.day}, {due.year}" not in text


def test_dates_in_american_english_for_a_us_customer(ledger):
    today = hours.company_today(ledger.company)
    text = _reads(ledger, ledger.dupont, country="US", language="en")
    due = today - timedelta(days=40)
    assert f"{due:%B} {due.day}, {due.year}" in text  # "October 28, 2026"


def test_an_american_customers_statement_pdf_has_american_dates(ledger, tmp_path):
    Customer.objects.filter(pk=ledger.dupont.pk).update(country="US", language="en")
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(Client().get(ledger.path(suffix="statement.pdf")).content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    today = hours.company_today(ledger.company)
    assert f"{today:%B} {today.day}, {today.year}" in " ".join(text.split())


def test_the_promise_page_says_its_last_day_in_the_customers_words(ledger):
    today = hours.company_today(ledger.company)
    latest = today + timedelta(days=ledger.company.promise_max_days)
    Customer.objects.filter(pk=ledger.dupont.pk).update(country="GB", language="en")
    text = Client().get(ledger.path(suffix="promise/")).content.decode()
    assert f"any date up to {latest.day} {latest:%B} {latest.year}" in text
    Customer.objects.filter(pk=ledger.dupont.pk).update(country="FR", language="fr")
    text = Client().get(ledger.path(suffix="promise/")).content.decode()
    assert formatting.day(latest, "fr") in text


def test_french_stays_french_wherever_the_reader_is():
    assert formatting.for_reader("fr", "GB") == "fr"
    assert formatting.for_reader("en", "GB") == "en_GB"
    assert formatting.for_reader("en", "US") == "en_US"
    assert formatting.for_reader("en", "DE") == "en"
    assert formatting.for_reader("en", "") == "en"
