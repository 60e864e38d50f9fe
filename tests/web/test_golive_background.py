"""The go-live page above RELANCE_GOLIVE_INLINE_CUSTOMERS: the projection is computed in the
background and kept (services.dunning.golive_jobs), the page polls while it runs, reuses it while
the ledger is unchanged, computes it again after a change, and says so when it failed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from relance.models import Company, GoLiveProjection
from relance.services.dunning import golive, golive_jobs
from tests import clock
from tests.web.test_golive_page import URL, not_live  # noqa: F401  (the fixture)

INLINE = "relance.services.dunning.golive_jobs.Inline"
NOWHERE = "tests.web.test_golive_background.Nowhere"


class Nowhere:
    """An executor whose worker has not picked the computation up yet."""

    def start(self, company_id: int) -> None:
        pass


@pytest.fixture
def background(settings, not_live):  # noqa: F811
    settings.RELANCE_GOLIVE_INLINE_CUSTOMERS = 0
    settings.RELANCE_GOLIVE_EXECUTOR = INLINE
    return not_live


def kept(world) -> GoLiveProjection:
    return GoLiveProjection.objects.get(company=world.alpha)


def test_while_it_runs_the_page_polls_then_shows_the_result(background, settings):
    settings.RELANCE_GOLIVE_EXECUTOR = NOWHERE
    client = background.client("admin")
    page = client.get(URL, {"policy": "step1"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Computing what the first cycle would do…" in text
    assert 'hx-trigger="every 2s"' in text
    assert page.context["projection"] is None
    started = kept(background).started_at
    # Polling does not start it again.
    assert "Computing" in client.get(URL, {"policy": "step1"}).content.decode()
    assert kept(background).started_at == started
    golive_jobs.compute(background.alpha.pk)  # the worker
    page = client.get(URL, {"policy": "step1"})
    assert "Computing" not in page.content.decode()
    shown = page.context["projection"]
    assert {(s["step"], s["count"]) for s in shown.by_step} == {
        ("Rappel amical", 1),
        ("Rappel de paiement", 1),
    }
    assert "Garage Martin" in page.content.decode()


def test_the_kept_projection_is_reused_then_computed_again_after_a_ledger_change(background):
    client = background.client("admin")
    first = client.get(URL, {"policy": "by_age"}).context["projection"]
    finished = kept(background).finished_at
    again = client.get(URL, {"policy": "by_age"}).context["projection"]
    assert kept(background).finished_at == finished  # not computed again
    assert again.by_step == first.by_step
    assert again.notices == first.notices  # dates and amounts typed again
    from tests.conftest import _new_invoice

    _new_invoice(background.customers["dupont"], "D9", "90.00", days_late=300)
    after = client.get(URL, {"policy": "by_age"}).context["projection"]
    assert kept(background).finished_at != finished
    assert after.notices_count == first.notices_count + 1


def test_another_policy_is_another_question(background):
    client = background.client("admin")
    client.get(URL, {"policy": "by_age"})
    step1 = client.get(URL, {"policy": "step1"}).context["projection"]
    assert step1.policy == "step1"
    assert kept(background).policy == "step1"


def test_a_failed_computation_says_so_and_can_be_tried_again(background, settings):
    settings.RELANCE_GOLIVE_EXECUTOR = NOWHERE
    client = background.client("admin")
    client.get(URL, {"policy": "step1"})
    GoLiveProjection.objects.filter(company=background.alpha).update(
        status=GoLiveProjection.Status.FAILED, error="the database went away"
    )
    page = client.get(URL, {"policy": "step1"})
    text = page.content.decode()
    assert "The first cycle could not be projected" in text
    assert "the database went away" in text
    assert "Nothing was sent or changed" in text
    assert "retry=1" in text
    settings.RELANCE_GOLIVE_EXECUTOR = INLINE
    page = client.get(URL, {"policy": "step1", "retry": "1"})
    assert page.context["projection"].policy == "step1"
    assert kept(background).status == GoLiveProjection.Status.DONE


def test_a_computation_silent_past_its_lease_is_started_again(background, settings):
    settings.RELANCE_GOLIVE_EXECUTOR = NOWHERE
    client = background.client("admin")
    client.get(URL, {"policy": "step1"})
    long_ago = timezone.now() - timedelta(seconds=settings.RELANCE_GOLIVE_LEASE_SECONDS + 1)
    GoLiveProjection.objects.filter(company=background.alpha).update(started_at=long_ago)
    client.get(URL, {"policy": "step1"})
    assert kept(background).started_at > long_ago


@pytest.mark.parametrize("role", ["controller", "reader", "rep", "outsider"])
def test_other_roles_still_may_not_see_it(background, role):
    assert background.client(role).get(URL, {"policy": "step1"}).status_code == 403
    assert not GoLiveProjection.objects.exists()
    assert not Company.objects.get(pk=background.alpha.pk).automatic_sending


def test_the_kept_json_round_trips_into_the_projection(background):
    found = golive.project(background.alpha, clock.today(), "by_age")
    assert golive_jobs.from_json(golive_jobs.to_json(found)) == found


def test_over_celery_a_task_keeps_the_projection(background, settings):
    """Without a broker Celery runs the task at once (CELERY_TASK_ALWAYS_EAGER): the executor the
    settings name when a broker is set queues `relance.tasks.imports.project_golive`."""
    settings.RELANCE_GOLIVE_EXECUTOR = "relance.tasks.dispatch.GoLiveOverCelery"
    page = background.client("admin").get(URL, {"policy": "step1"})
    assert page.context["projection"].policy == "step1"
    assert kept(background).status == GoLiveProjection.Status.DONE
