"""POST /runs answers with the Run it created, whatever else starts meanwhile."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from relance.models import Run
from relance.services.dunning import plans
from relance.services.dunning.run import Cycled, InProcess

PLANS = Path(__file__).resolve().parents[2] / "relance" / "plans"


class Meanwhile(InProcess):
    """In this process, while another run of the same company starts (a later primary key)."""

    def cycle(self, day: date, **options) -> Cycled:  # type: ignore[no-untyped-def, override]
        done = super().cycle(day, **options)
        Run.objects.create(date=day, source="someone else", company_id=options["company_id"])
        return done


def test_the_run_answered_is_the_one_created(api, new_customer, new_invoice, settings):
    plans.load_plans((PLANS / "standard.yaml").read_text())
    customer = new_customer(api.alpha, "A1", "Dupont")
    new_invoice(customer, "I1", "1250.00", days_late=10)
    api.put("/customers/A1/plan", {"plan": "standard"})
    settings.RELANCE_CYCLE_EXECUTOR = f"{__name__}.Meanwhile"
    answer = api.post("/runs", {})
    assert answer.status == 200, answer.body
    mine = Run.objects.exclude(source="someone else").get()
    assert answer.body["run"]["id"] == mine.pk < Run.objects.get(source="someone else").pk
    assert answer.body["run"]["source"].startswith("api:")
    assert answer.body["run"]["counts"]["actions"] == len(answer.body["actions"]) >= 1
