"""The default template library in French and English, the merge fields, the sandbox."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.domain import engine
from relance.domain.law import PUBLISHED_RATES, RateTable
from relance.domain.merge_fields import CATALOGUE, check_template
from relance.domain.plans.model import EMAIL, SMS, Step
from relance.messaging import library
from relance.messaging.sandbox import RenderError, render
from relance.models import Company
from relance.services.dunning.messages import context, render_texts, step_text
from relance.services.ledger.snapshots import Debtor, Person

TODAY = date(2026, 11, 23)
RATES = RateTable(PUBLISHED_RATES)
INVOICES = [
    engine.Item(
        "I1",
        "F-2026-0142",
        date(2026, 8, 14),
        date(2026, 9, 13),
        "EUR",
        Decimal("1200"),
        total=Decimal("2400"),
    ),
    engine.Item("I2", "F-2026-0187", date(2026, 9, 3), date(2026, 10, 3), "EUR", Decimal("300.50")),
    engine.Item("I3", "F-2026-0201", date(2026, 9, 18), date(2026, 10, 18), "USD", Decimal("300")),
]
EXTRA = {
    "promise": {"pay_by": "20 novembre 2026", "amount": "1 500,00 €"},
    "instalment": {
        "number": 2,
        "due_date": "15 novembre 2026",
        "amount": "500,00 €",
        "plan_total": "1 500,00 €",
    },
    "dispute": {
        "reason": "wrong amount",
        "opened_on": "22 novembre 2026",
        "invoices": "F-2026-0142",
        "acknowledge_by": "24 novembre 2026",
        "resolve_by": "7 décembre 2026",
    },
    "credit": {"limit": "10 000,00 €", "balance": "8 500,00 €", "used_percent": "85 %"},
    "card": {"expiry": "12/2026"},
    "paid": {"amount": "1 200,00 €", "date": "22 novembre 2026", "invoices": "F-2026-0142"},
}


def company(country: str = "FR") -> Company:
    return Company(
        code="atelier",
        name="Atelier Nord SAS",
        country=country,
        currency="EUR" if country == "FR" else "GBP",
        email="recouvrement@ateliernord.fr",
        phone="+33 1 42 68 53 00",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPPXXX",
        registration_number="812 345 678",
    )


def debtor(language: str) -> Debtor:
    return Debtor(
        pk=1,
        external_id="C001",
        name="Boulangerie Dupont",
        company_id=1,
        company_code="atelier",
        plan_id=None,
        hold_until=None,
        owner_id=7,
        owner=Person("Claire Martin", "claire@ateliernord.fr"),
        sales_rep_id=None,
        sales_rep=None,
        segment="",
        risk="",
        country="FR",
        currency="EUR",
        credit_limit=None,
        language=language,
        address=("8 avenue Victor Hugo", "69002 Lyon"),
    )


def values(language: str, country: str = "FR") -> dict:
    return context(
        company(country), debtor(language), INVOICES[0], INVOICES, TODAY, rates=RATES, extra=EXTRA
    )


@pytest.mark.parametrize("name", library.names())
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_library_template_renders_in_both_languages(name: str, language: str) -> None:
    template = library.templates()[name]
    assert set(template.texts) == {"fr", "en"}
    for channel in (EMAIL, SMS):
        step = Step("x", 0, channel=channel, template=name)
        subject, body = render_texts(step_text(step, language), values(language))
        assert subject
        assert "\n" not in subject
        assert len(subject) < 120
        assert body
        assert "{{" not in body
        assert "{%" not in body
        assert "None" not in body
        assert "\n\n\n" not in body
        if channel == SMS:
            assert len(body) <= 320
    for text in (
        template.text(language).subject,
        template.text(language).body,
        template.text(language).sms,
    ):
        assert check_template(text) == []  # only catalogued merge fields


def test_french_text_reads_french_amounts_and_dates() -> None:
    step = Step("x", 0, template="first_reminder")
    _, body = render_texts(step_text(step, "fr"), values("fr"))
    assert "F-2026-0142" in body
    assert "F-2026-0201" in body
    assert "1 200,00\u00a0€" in body.replace("\u202f", " ")
    assert "300,00\u00a0$US" in body
    assert "13 septembre 2026" in body
    assert "FR76" in body.replace(" ", "")  # how to pay
    assert "12,15" in body  # L441-10 penalties: ECB + 10 points


@pytest.mark.parametrize("name", library.names())
@pytest.mark.parametrize("language", ["fr", "en"])
def test_bank_details_left_blank_print_no_empty_line(name: str, language: str) -> None:
    """A company that has not given its IBAN or BIC yet: no "IBAN :" with nothing after it."""
    blank = company()
    blank.iban = blank.bic = ""
    found = context(blank, debtor(language), INVOICES[0], INVOICES, TODAY, rates=RATES, extra=EXTRA)
    for channel in (EMAIL, SMS):
        step = Step("x", 0, channel=channel, template=name)
        _, body = render_texts(step_text(step, language), found)
        assert "IBAN" not in body
        assert "BIC" not in body
        assert "\n\n\n" not in body


def test_english_falls_back_for_a_language_without_text() -> None:
    step = Step("x", 0, template="first_reminder")
    assert step_text(step, "de") == step_text(step, "en")


def test_uk_letter_before_action_names_the_act() -> None:
    step = Step("x", 0, channel="letter", template="formal_notice")
    _, body = render_texts(step_text(step, "en"), values("en", country="GB"))
    assert "Late Payment of Commercial Debts" in body


def test_the_catalogue_documents_every_field() -> None:
    fields = values("en")
    for root, known in CATALOGUE.items():
        assert root in fields
        if known is not None and root != "invoices":
            assert set(known) <= set(fields[root]), root


@pytest.mark.parametrize(
    "attack",
    [
        "{{ customer.__class__ }}",
        "{{ customer.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ self.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ customer.name.format.__globals__ }}",
        "{{ range.__self__ }}",
    ],
)
def test_template_injection_fails_safely(attack: str) -> None:
    try:
        out = render(attack, values("en"))
    except RenderError:
        return  # refused: fine
    for leak in ("class", "module", "function", "built-in", "os.", "subprocess"):
        assert leak not in out


def test_a_huge_range_is_refused() -> None:
    with pytest.raises(RenderError):
        render("{% for i in range(10**9) %}x{% endfor %}", {})


def test_unknown_fields_and_syntax_errors_have_line_and_column() -> None:
    [problem] = check_template("Dear {{ customer.name }},\n\nYou owe {{ totls }}.")
    assert (problem.line, problem.column) == (3, 12)
    assert "unknown merge field 'totls'" in problem.message
    [syntax] = check_template("Hello\n{{ customer.name }\n")
    assert syntax.syntax
    assert syntax.line == 2


def test_reflow_joins_wrapped_prose_and_item_continuations() -> None:
    from relance.messaging.text import reflow

    text = (
        "Conformément à l'article L441-10 du Code de commerce, ces sommes sont majorées de plein\n"
        "droit :\n"
        "- des pénalités de retard au taux annuel de 12,15 %, qui continuent de courir jusqu'au\n"
        "  paiement complet ;\n"
        "- de l'indemnité forfaitaire de 40,00 €.\n\n"
        "IBAN : FR76\nBIC : AGRIFRPP\nhttps://pay.example.com/x"
    )
    assert reflow(text) == (
        "Conformément à l'article L441-10 du Code de commerce, ces sommes sont majorées de plein "
        "droit :\n"
        "- des pénalités de retard au taux annuel de 12,15 %, qui continuent de courir jusqu'au "
        "paiement complet ;\n"
        "- de l'indemnité forfaitaire de 40,00 €.\n\n"
        "IBAN : FR76\nBIC : AGRIFRPP\nhttps://pay.example.com/x"
    )


@given(
    amount=st.decimals(min_value=0, max_value=10**12, places=4),
    currency=st.sampled_from(["EUR", "GBP", "USD", "JPY", "CHF", "KWD", "SEK", "INR", "XOF"]),
    language=st.sampled_from(["fr", "en"]),
)
def test_money_is_written_exactly_as_babel_writes_it(amount, currency, language) -> None:
    from babel.numbers import format_currency

    from relance.messaging.formatting import locale, money

    assert money(amount, currency, language) == format_currency(
        amount, currency, locale=locale(language)
    )


def test_the_statutory_indemnity_is_the_laws_whatever_the_invoice_currency() -> None:
    usd = context(company(), debtor("en"), INVOICES[2], INVOICES[2:], TODAY, rates=RATES)
    assert usd["law"]["indemnity"] == "€40.00"
    uk = context(company("GB"), debtor("en"), INVOICES[0], INVOICES, TODAY, rates=RATES)
    assert uk["law"]["pack"] == "UK"
    assert uk["law"]["indemnity"] == "£40.00"


WITH_BANK_DETAILS = [
    name for name, template in library.templates().items() if "payment.iban" in str(template.texts)
]


@pytest.mark.parametrize("name", WITH_BANK_DETAILS)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_uk_customer_paying_in_pounds_reads_the_sort_code_and_account_number(
    name: str, language: str
) -> None:
    import dataclasses

    uk = company("GB")
    uk.sort_code, uk.account_number = "401276", "41234567"
    payer = dataclasses.replace(debtor(language), country="GB", currency="GBP")
    found = context(uk, payer, INVOICES[0], INVOICES, TODAY, rates=RATES, extra=EXTRA)
    step = Step("x", 0, channel=EMAIL, template=name)
    _, body = render_texts(step_text(step, language), found)
    assert "Sort code" in body
    assert "40-12-76" in body
    assert "41234567" in body
    assert "IBAN" not in body
    elsewhere = context(uk, debtor(language), INVOICES[0], INVOICES, TODAY, rates=RATES)
    _, body = render_texts(step_text(step, language), elsewhere)
    assert "FR7630006000011234567890189" in body.replace(" ", "")
    assert "40-12-76" not in body


def test_dates_in_messages_to_american_customers_are_written_the_american_way() -> None:
    import dataclasses

    american = dataclasses.replace(debtor("en"), country="US", currency="USD")
    found = context(company(), american, INVOICES[0], INVOICES, TODAY, rates=RATES)
    assert found["reference"]["due_date"] == "September 13, 2026"
    assert values("en")["reference"]["due_date"] == "13 September 2026"
    assert values("fr")["reference"]["due_date"] == "13 septembre 2026"
