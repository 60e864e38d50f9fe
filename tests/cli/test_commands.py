"""The `relance` command's contract (DESIGN §4): init, company add, plan load/assign, exit codes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from relance.models import Company, Customer, Event, Plan, Step

STANDARD = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"


def test_init_is_idempotent_and_creates_the_default_company(relance):
    first = relance.json("init")
    assert first["default_company_created"] is True
    company = Company.objects.get(code="default")
    assert (company.country, company.currency) == ("FR", "EUR")
    assert relance.json("init")["default_company_created"] is False
    assert Company.objects.count() == 1


def test_company_add_upserts(relance):
    out = relance.json(
        "company",
        "add",
        "uk",
        "--name",
        "Lumiere Ltd",
        "--country",
        "gb",
        "--currency",
        "gbp",
        "--time-zone",
        "Europe/London",
        "--iban",
        "GB33 BUKB 2020 1555 5555 55",
    )
    assert out["created"] is True
    assert out["currency"] == "GBP"
    out = relance.json(
        "company",
        "add",
        "uk",
        "--name",
        "Lumiere Studio Ltd",
        "--country",
        "GB",
        "--currency",
        "GBP",
    )
    assert out["created"] is False
    uk = Company.objects.get(code="uk")
    assert uk.name == "Lumiere Studio Ltd"
    assert uk.iban == "GB33BUKB20201555555555"  # kept: not given the second time
    assert uk.time_zone == "Europe/London"
    assert Event.objects.filter(company=uk, kind="company.updated").exists()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--country", "ZZ", "--currency", "EUR"], "country"),
        (["--country", "FR", "--currency", "EURO"], "currency"),
        (["--country", "FR", "--currency", "EUR", "--time-zone", "Mars/Olympus"], "time_zone"),
        (["--country", "FR", "--currency", "EUR", "--iban", "FR76 0000"], "iban"),
        (["--country", "FR", "--currency", "EUR", "--bic", "NOPE"], "bic"),
        (["--country", "FR", "--currency", "EUR", "--share-capital", "lots"], "share_capital"),
    ],
)
def test_company_add_rejects_bad_values_by_field(relance, args, field):
    result = relance("company", "add", "x", "--name", "X", *args)
    assert result.exit_code == 1
    assert f"{field}:" in result.stderr
    assert "Traceback" not in result.output
    assert not Company.objects.filter(code="x").exists()


def test_company_add_takes_the_legal_mentions(relance):
    relance.json(
        "company",
        "add",
        "fr",
        "--name",
        "Atelier",
        "--country",
        "FR",
        "--currency",
        "EUR",
        "--legal-form",
        "SAS",
        "--share-capital",
        "10000",
        "--registration-city",
        "Lyon",
    )
    atelier = Company.objects.get(code="fr")
    assert (atelier.legal_form, atelier.registration_city) == ("SAS", "Lyon")
    assert atelier.share_capital == Decimal("10000")


def test_company_add_usage_error_exits_2(relance):
    assert relance("company", "add", "x", "--name", "X").exit_code == 2


def test_plan_load_stores_plan_and_steps_and_is_idempotent(relance):
    out = relance.json("plan", "load", STANDARD)
    assert out == {"created": ["standard"], "updated": [], "unchanged": [], "warnings": []}
    plan = Plan.objects.get(code="standard")  # no company yet: the library alone
    assert plan.min_contact_delay_days == 15
    assert plan.tolerance == {"EUR": "5.00", "GBP": "5.00", "USD": "5.00"}
    steps = list(plan.steps.values_list("position", "name", "channel", "trigger_days"))
    assert steps[0] == (1, "Friendly reminder", "email", -5)
    assert steps[-1] == (5, "Formal notice", "letter", 60)
    assert relance.json("plan", "load", STANDARD)["unchanged"] == ["standard"]


def test_plan_reload_keeps_step_ids_by_name(relance, tmp_path):
    relance.json("plan", "load", STANDARD)
    friendly = Step.objects.get(name="Friendly reminder")
    text = STANDARD.read_text().replace("days: -5, from: due_date", "days: -3, from: due_date")
    edited = tmp_path / "edited.yaml"
    edited.write_text(text.replace("- name: Account owner call", "- name: Owner call"))
    out = relance.json("plan", "load", edited)
    assert out["updated"] == ["standard"]
    friendly.refresh_from_db()
    assert friendly.trigger_days == -3
    assert not Step.objects.get(name="Account owner call").active
    assert Step.objects.get(name="Owner call").position == 4


def test_plan_load_reports_every_problem_and_stores_nothing(relance, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "code: fast\nname: Fast\nsteps:\n"
        "  - name: One\n    trigger: {days: x}\n    channel: fax\n    body: hi\n"
        "  - name: Two\n    trigger: {days: 3}\n    channel: email\n    body: '{{ oops'\n"
    )
    out = relance.json("plan", "load", bad, code=1)
    paths = [e["path"] for e in out["errors"]]
    assert any(p.endswith("steps[1].trigger.days") for p in paths)
    assert any(p.endswith("steps[1].channel") for p in paths)
    assert any(p.endswith("steps[2].subject") for p in paths)
    assert any(p.endswith("steps[2].body") for p in paths)
    assert not Plan.objects.exists()


def test_plan_load_warnings_are_printed(relance, tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text(
        "code: loop\nname: Loop\nrepeat_last_every_days: 7\nsteps:\n"
        "  - name: Nag\n    trigger: {days: 1}\n    channel: email\n"
        "    recipients: [role:billing]\n    subject: Pay\n    body: Please pay\n"
    )
    out = relance.json("plan", "load", path)
    assert out["created"] == ["loop"]
    assert any("until paid" in w["message"] for w in out["warnings"])


def test_plan_assign(relance, company, write_csv):
    relance.json("plan", "load", STANDARD)
    relance.json("import", "customers", write_csv("c", ["external_id", "name"], [["C1", "Acme"]]))
    out = relance.json("plan", "assign", "C1", "standard")
    assert out == {"customer": "C1", "company": "default", "plan": "standard"}
    assert Customer.objects.get(external_id="C1").plan.code == "standard"
    event = Event.objects.get(kind="plan.assigned")
    assert event.data == {"plan": "standard", "previous": None}
    assert relance("plan", "assign", "C404", "standard").exit_code == 1
    result = relance("plan", "assign", "C1", "gold")
    assert result.exit_code == 1
    assert "unknown plan 'gold'" in result.stderr


def test_customers_may_name_a_loaded_plan(relance, company, write_csv):
    relance.json("plan", "load", STANDARD)
    path = write_csv("c", ["external_id", "name", "plan"], [["C1", "Acme", "standard"]])
    relance.json("import", "customers", path)
    assert Customer.objects.get().plan.code == "standard"


def test_help_lists_the_contract_commands(relance):
    out = relance("--help").stdout
    for command in ("init", "company", "import", "plan", "demo", "serve"):
        assert command in out


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "relance", "--check", "--dry-run", verbosity=0)
