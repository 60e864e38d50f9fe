"""An import's problems are written in the uploader's language: the domain's translator is
Django's gettext once the app is ready, and a background job (no request, no language of its
own) runs in the language stored when its file was sent."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from relance.domain import ledger_fields as cell
from relance.domain import texts
from relance.domain.ledger_fields import FieldError
from relance.models import ImportJob
from relance.services.ledger import import_jobs


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.RELANCE_IMPORT_DIR = tmp_path / "imports"
    settings.RELANCE_IMPORT_EXECUTOR = "relance.services.ledger.import_jobs.Inline"


@pytest.fixture
def tagged() -> Iterator[None]:
    """A translator that writes the language it was asked in before each message, so a test
    sees which language was active when a message became text (the catalogue is the lead's)."""
    previous = texts.install(lambda message: f"[{translation.get_language()}] {message}")
    yield
    texts.install(previous)


def test_the_domain_translates_with_djangos_gettext_once_the_app_is_ready():
    assert texts.translator() is translation.gettext


def test_with_no_language_active_the_messages_stay_english_as_the_cli_prints_them():
    with translation.override(None), pytest.raises(FieldError) as caught:
        cell.boolean("maybe")
    assert str(caught.value) == "'maybe' is not true or false"


def test_an_error_reads_in_the_language_active_when_it_becomes_text(tagged):
    error = FieldError(texts.N_("'%(value)s' is not true or false"), value="maybe")
    with translation.override("fr"):
        assert str(error) == "[fr] 'maybe' is not true or false"
    with translation.override("en"):
        assert str(error) == "[en] 'maybe' is not true or false"


def test_a_background_job_writes_its_problems_in_the_language_stored_at_submit(
    company, tagged, django_capture_on_commit_callbacks
):
    claire = get_user_model().objects.create(username="claire", email="claire@ar.test")
    upload = io.BytesIO(b"external_id,name,currency,country\nC1,Dupont,EURO,FR\n")
    upload.name = "clients.csv"
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.submit(
            company, "customers", upload, claire, dry_run=True, options={"language": "fr"}
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert [(e["row"], e["field"]) for e in job.errors] == [(2, "currency")]
    assert job.errors[0]["message"] == "[fr] 'EURO' is not an ISO 4217 currency code"
