"""`relance preview`: what a step would say to a real customer, before anything is sent."""

from __future__ import annotations

from pathlib import Path

PLANS = Path(__file__).resolve().parents[2] / "relance" / "plans"
SMS_PLAN = """
code: texts
name: Texts
steps:
  - name: Text
    trigger: {days: 1}
    channel: sms
    recipients: [role:billing]
    template: first_reminder
"""


def ledger(relance, write_csv, tmp_path):
    relance.json("plan", "load", PLANS / "standard.yaml")
    plan = tmp_path / "texts.yaml"
    plan.write_text(SMS_PLAN, encoding="utf-8")
    relance.json("plan", "load", plan)
    relance.json(
        "import",
        "customers",
        write_csv("c", ["external_id", "name", "language"], [["C1", "Dupont", "fr"]]),
    )
    relance.json(
        "import",
        "invoices",
        write_csv(
            "i",
            ["external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"],
            [["I1", "C1", "F-1", "2026-01-01", "2026-02-01", "EUR", "1200.00"]],
        ),
    )


def test_preview_of_an_email_step_in_the_customers_language(company, relance, write_csv, tmp_path):
    ledger(relance, write_csv, tmp_path)
    shown = relance.json(
        "preview", "C1", "--plan", "standard", "--step", "Payment reminder", "--date", "2026-03-01"
    )
    assert shown["language"] == "fr"
    assert shown["invoices"] == ["I1"]
    assert "F-1" in shown["body"]
    assert "1\u202f200,00\u00a0€" in shown["body"]
    english = relance.json(
        "preview",
        "C1",
        "--plan",
        "standard",
        "--step",
        "Payment reminder",
        "--date",
        "2026-03-01",
        "--language",
        "en",
    )
    assert "€1,200.00" in english["body"]


def test_preview_of_an_sms_counts_its_segments(company, relance, write_csv, tmp_path):
    ledger(relance, write_csv, tmp_path)
    shown = relance.json(
        "preview", "C1", "--plan", "texts", "--step", "Text", "--date", "2026-03-01"
    )
    assert shown["channel"] == "sms"
    assert shown["sms"]["segments"] >= 1
    assert shown["sms"]["encoding"] in ("GSM-7", "UCS-2")


def test_preview_errors_are_clear(company, relance, write_csv, tmp_path):
    ledger(relance, write_csv, tmp_path)
    result = relance(
        "preview", "C1", "--plan", "standard", "--step", "Nope", "--date", "2026-03-01"
    )
    assert result.exit_code == 1
    assert "no step 'Nope'" in result.output
    nothing = relance(
        "preview", "C1", "--plan", "standard", "--step", "Payment reminder", "--date", "2025-01-01"
    )
    assert nothing.exit_code == 1
    assert "owes nothing" in nothing.output


BOMB_PLAN = """
code: bomb
name: Bomb
steps:
  - name: Reminder
    trigger: {days: 1}
    channel: email
    recipients: [role:billing]
    subject: "Invoice {{ reference.number }}"
    body: '{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}'
"""


def test_preview_of_a_template_bomb_ends_at_once_with_a_clear_message(
    company, relance, write_csv, tmp_path
):
    import time

    ledger(relance, write_csv, tmp_path)
    plan = tmp_path / "bomb.yaml"
    plan.write_text(BOMB_PLAN, encoding="utf-8")
    relance.json("plan", "load", plan)
    start = time.monotonic()
    result = relance(
        "preview", "C1", "--plan", "bomb", "--step", "Reminder", "--date", "2026-03-01"
    )
    assert time.monotonic() - start < 10
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Body: a range in the template is too long (more than 1,000 numbers)" in result.output
