"""Plans belong to one company (issue 17, item 10).

Before: plan codes were global. `relance plan load --company uk` of a plan coded `standard` took
the default company's `standard` and made it uk's (the default company's customers silently
followed uk's plan, or lost it), and the API told a company that a code was "another company's".
"""

from __future__ import annotations

from pathlib import Path

from relance.models import Customer, Plan

PLANS = Path(__file__).resolve().parents[2] / "relance" / "plans"
STANDARD = PLANS / "standard.yaml"


def _uk(relance) -> None:
    relance.json(
        "company", "add", "uk", "--name", "Lumiere Ltd", "--country", "GB", "--currency", "GBP"
    )


def _variant(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(STANDARD.read_text().replace("name: Standard B2B", f"name: {name}"))
    return path


def test_two_companies_load_plans_with_the_same_code(relance, tmp_path, write_csv):
    relance.json("init")
    _uk(relance)
    relance.json("plan", "load", _variant(tmp_path, "Ours"), "--company", "default")
    relance.json("import", "customers", write_csv("c", ["external_id", "name"], [["C1", "Acme"]]))
    relance.json("plan", "assign", "C1", "standard")

    out = relance.json("plan", "load", _variant(tmp_path, "Theirs"), "--company", "uk")

    assert out["updated"] == ["standard"]  # uk's own copy, from the library at its creation
    ours = Plan.objects.get(company__code="default", code="standard")
    theirs = Plan.objects.get(company__code="uk", code="standard")
    assert (ours.name, theirs.name) == ("Ours", "Theirs")
    assert Customer.objects.get(external_id="C1").plan == ours
    # active: the French copy's steps, replaced by the file's English ones, stay as history
    assert ours.steps.filter(active=True).count() == theirs.steps.filter(active=True).count() == 5
    assert not set(ours.steps.values_list("pk", flat=True)) & set(
        theirs.steps.values_list("pk", flat=True)
    )


def test_new_companies_start_with_their_own_copy_of_the_shipped_plans(relance):
    relance.json("init")
    shipped = {"standard", "high-risk", "white-glove"}
    assert set(Plan.objects.filter(company=None).values_list("code", flat=True)) == shipped
    _uk(relance)
    for company in ("default", "uk"):
        codes = Plan.objects.filter(company__code=company).values_list("code", flat=True)
        assert set(codes) == shipped, company


def test_a_french_company_gets_the_shipped_plans_in_french(relance):
    """Issue 22: step names and call scripts a French team reads are French; a UK company's
    copy stays English; what customers receive follows each customer's language either way."""
    relance.json("init")
    _uk(relance)
    french = Plan.objects.get(company__code="default", code="standard")
    english = Plan.objects.get(company__code="uk", code="standard")
    assert [s["name"] for s in french.definition["steps"]] == [
        "Rappel amical",
        "Rappel de paiement",
        "Relance ferme",
        "Appel du responsable du compte",
        "Mise en demeure",
    ]
    assert [s["name"] for s in english.definition["steps"]][:2] == [
        "Friendly reminder",
        "Payment reminder",
    ]
    call = french.definition["steps"][3]
    assert call["subject"].startswith("Appeler {{ customer.name }} au sujet de la facture")
    assert "Vérifier qu\u2019ils ont bien reçu les relances" in call["body"]
    assert french.steps.filter(name="Mise en demeure").exists()  # the engine's steps too
    gentle = Plan.objects.get(company__code="default", code="white-glove")
    assert gentle.definition["steps"][1]["template"] == "gentle_note"  # per customer language


def test_a_library_plan_the_operator_adapted_is_copied_as_written(relance, tmp_path):
    relance.json("init")
    adapted = tmp_path / "standard.yaml"
    adapted.write_text(STANDARD.read_text().replace("- name: Firm reminder", "- name: Last call"))
    relance.json("plan", "load", str(adapted))
    _uk(relance)
    relance.json(
        "company", "add", "lyon", "--name", "Lyon SA", "--country", "FR", "--currency", "EUR"
    )
    lyon = Plan.objects.get(company__code="lyon", code="standard")
    names = [s["name"] for s in lyon.definition["steps"]]
    assert "Last call" in names
    assert "Rappel amical" in names


def test_a_company_edit_stays_in_that_company(relance, tmp_path):
    relance.json("init")
    _uk(relance)
    edited = tmp_path / "standard.yaml"
    edited.write_text(
        STANDARD.read_text().replace("min_contact_delay_days: 15", "min_contact_delay_days: 9")
    )
    relance.json("plan", "load", edited, "--company", "uk")
    delays = dict(
        Plan.objects.filter(code="standard").values_list("company__code", "min_contact_delay_days")
    )
    assert delays == {None: 15, "default": 15, "uk": 9}


def test_loading_without_a_company_gives_every_company_its_own_copy(relance, tmp_path):
    relance.json("init")
    _uk(relance)
    out = relance.json("plan", "load", _variant(tmp_path, "For everyone"))
    assert out["updated"] == ["standard"]
    names = dict(Plan.objects.filter(code="standard").values_list("company__code", "name"))
    assert names == {None: "For everyone", "default": "For everyone", "uk": "For everyone"}
    assert relance.json("plan", "load", _variant(tmp_path, "For everyone"))["unchanged"] == [
        "standard"
    ]
    # a company created afterwards starts from the library as it is now
    relance.json(
        "company", "add", "de", "--name", "Licht GmbH", "--country", "DE", "--currency", "EUR"
    )
    assert Plan.objects.get(company__code="de", code="standard").name == "For everyone"


def test_assigning_names_a_plan_of_the_customers_company(relance, tmp_path, write_csv):
    relance.json("init")
    _uk(relance)
    gold = tmp_path / "gold.yaml"
    gold.write_text(STANDARD.read_text().replace("code: standard", "code: gold"))
    relance.json("plan", "load", gold, "--company", "uk")
    relance.json("import", "customers", write_csv("c", ["external_id", "name"], [["C1", "Acme"]]))
    result = relance("plan", "assign", "C1", "gold")
    assert result.exit_code == 1
    assert "unknown plan 'gold'" in result.stderr
    rows = write_csv("c2", ["external_id", "name", "plan"], [["C2", "Bolt", "gold"]])
    refused = relance.json("import", "customers", rows, code=1)
    assert refused["errors"][0]["field"] == "plan"


def test_the_library_never_overwrites_a_companys_own_version(relance, tmp_path):
    """Copying the library (at a company's creation, and again by every `relance demo`) gives a
    company the plans it lacks; it once updated those it had, undoing the company's edits."""
    from relance.services.dunning.plans import copy_library
    from relance.services.organisation.companies import get_company

    relance.json("init")
    edited = tmp_path / "standard.yaml"
    edited.write_text(
        STANDARD.read_text().replace("min_contact_delay_days: 15", "min_contact_delay_days: 9")
    )
    relance.json("plan", "load", edited, "--company", "default")
    assert copy_library(get_company("default")) == []
    assert Plan.objects.get(company__code="default", code="standard").min_contact_delay_days == 9
