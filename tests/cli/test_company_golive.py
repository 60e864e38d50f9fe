"""`relance company golive CODE [--policy step1|by-age|ignore-before --before D] [--json]`."""

from __future__ import annotations

from relance.models import Company, Event


def test_golive_sets_the_policy_and_switches_sending_on(relance, company):
    Company.objects.filter(pk=company.pk).update(automatic_sending=False)
    done = relance.json("company", "golive", "default")
    assert done == {
        "code": "default",
        "automatic_sending": True,
        "policy": "step1",
        "before": None,
        "was_live": False,
    }
    company.refresh_from_db()
    assert (company.automatic_sending, company.first_run) == (True, "step1")
    event = Event.objects.get(kind="company.live")
    assert (event.source, event.data["policy"]) == ("cli", "step1")


def test_golive_on_a_live_company_changes_its_policy(relance, company):
    result = relance(
        "company", "golive", "default", "--policy", "ignore-before", "--before", "2026-01-01"
    )
    assert result.exit_code == 0, result.output
    assert "first-run policy ignore-before 2026-01-01" in result.output
    assert "already live" in result.output
    company.refresh_from_db()
    assert (company.first_run, company.first_run_before.isoformat()) == (
        "ignore_before",
        "2026-01-01",
    )
    assert relance.json("company", "golive", "default", "--policy", "by-age")["policy"] == "by_age"
    company.refresh_from_db()
    assert (company.first_run, company.first_run_before) == ("by_age", None)


def test_before_goes_with_ignore_before_only(relance, company):
    assert relance("company", "golive", "default", "--policy", "ignore-before").exit_code == 2
    result = relance("company", "golive", "default", "--before", "2026-01-01")
    assert result.exit_code == 2
    assert "--before D goes with --policy ignore-before" in result.output
    assert relance("company", "golive", "default", "--policy", "soon").exit_code == 2
    assert not Event.objects.filter(kind="company.live").exists()


def test_an_unknown_company_is_named(relance, company):
    result = relance("company", "golive", "nope")
    assert result.exit_code == 1
    assert "unknown company 'nope'" in result.output


def test_init_and_company_add_keep_sending_on_by_age(relance, company):
    relance.json("company", "add", "acme", "--name", "Acme", "--country", "FR", "--currency", "EUR")
    acme = Company.objects.get(code="acme")
    assert (acme.automatic_sending, acme.first_run) == (True, "by_age")
    assert (company.automatic_sending, company.first_run) == (True, "by_age")


def test_the_help_says_what_each_policy_does(relance):
    result = relance("company", "golive", "--help")
    assert result.exit_code == 0
    assert "step1|by-age|ignore-before" in result.output
    assert "--before YYYY-MM-DD" in result.output
