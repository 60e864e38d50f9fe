"""The domain's messages are English templates translated when they become text, through the
translator the Django app installs (tests/services/test_import_language.py checks that one)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from relance.domain import ledger_fields as cell
from relance.domain import texts
from relance.domain.errors import Refusal
from relance.domain.ledger_fields import ColumnError, FieldError
from relance.domain.mappings import MappingError, parse
from relance.domain.tabular import DateFormat, FormatError
from relance.domain.texts import N_

FRENCH = {
    "'%(value)s' is not true or false": "« %(value)s » n'est ni vrai ni faux",
    "is required": "est obligatoire",
    "unknown key `%(key)s`; the keys are: %(keys)s": "clé `%(key)s` inconnue ; clés : %(keys)s",
}


@pytest.fixture
def french() -> Iterator[None]:
    """A fake catalogue installed as the translator, the previous one put back after."""
    previous = texts.install(lambda message: FRENCH.get(message, message))
    yield
    texts.install(previous)


@pytest.fixture
def english() -> Iterator[None]:
    previous = texts.install(None)
    yield
    texts.install(previous)


def test_n_marks_a_message_without_changing_it():
    assert N_("is required") == "is required"


def test_without_a_translator_a_message_is_its_english_template_filled_in(english):
    with pytest.raises(FieldError) as caught:
        cell.boolean("peut-être")
    assert str(caught.value) == "'peut-être' is not true or false"
    assert caught.value.template == "'%(value)s' is not true or false"
    assert caught.value.params == {"value": "peut-être"}


def test_an_error_is_translated_when_it_becomes_text_not_when_it_is_raised(french):
    error = FieldError(N_("'%(value)s' is not true or false"), value="oui?")
    assert str(error) == "« oui? » n'est ni vrai ni faux"
    texts.install(None)
    assert str(error) == "'oui?' is not true or false"


def test_a_required_cell_and_an_unknown_mapping_key_read_in_the_installed_language(french):
    with pytest.raises(FieldError) as required:
        cell.required(cell.boolean)("")
    assert str(required.value) == "est obligatoire"
    with pytest.raises(MappingError) as caught:
        parse("kind: invoices\ncolour: blue\n")
    assert str(caught.value).startswith("clé `colour` inconnue ; clés : kind, ")


def test_a_template_without_parameters_keeps_its_percent_signs(english):
    with pytest.raises(MappingError) as caught:
        parse('kind: invoices\ndates: "%Y"\n')
    assert str(caught.value) == (
        '`dates` must be a strftime format with %d, %m and %Y, e.g. "%d/%m/%Y"'
    )


def test_an_escaped_percent_in_a_template_with_parameters_reads_as_one(english):
    dates = DateFormat()
    dates.observe(2, "03/04/2026", "issue_date")
    dates.observe(3, "05/06/2026", "issue_date")
    with pytest.raises(FormatError) as caught:
        dates.decide()
    assert str(caught.value) == (
        "dates could be day/month or month/day: rows 2-3 fit both; set the mapping's `dates` "
        '(e.g. "%d/%m/%Y")'
    )
    assert caught.value.row == 2


def test_the_constructors_others_rely_on_keep_their_fields(english):
    column = ColumnError("total", N_("must not be negative, got %(value)s"), value="-1")
    assert (column.column, str(column)) == ("total", "must not be negative, got -1")
    refusal = Refusal(N_("'%(value)s' is not true or false"), field="active", value="x")
    assert refusal.details == [{"field": "active", "message": "'x' is not true or false"}]
    assert str(FormatError("plain", 4, "date")) == "plain"
    assert str(Refusal("100% sure")) == "100% sure"
