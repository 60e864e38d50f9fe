"""A plan whose step text is a template bomb (issue 17): `relance run` still completes; that
customer's message is recorded as failed with the reason, every other customer's is created and
sent; the manual steps and the preview say why instead of hanging."""

from __future__ import annotations

import json
import time

from relance.models import ActionItem, OutboxMessage

BOMB = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
SAFE = """
code: safe
name: Safe
steps:
  - name: Reminder
    trigger: {days: 0}
    channel: email
    recipients: [role:billing]
    subject: "Invoice {{ reference.number }}"
    body: "Dear {{ customer.name }}, {{ totals }} is due."
"""
BOMB_PLAN = f"""
code: bomb
name: Bomb
steps:
  - name: Reminder
    trigger: {{days: 0}}
    channel: email
    recipients: [role:billing]
    subject: "Invoice {{{{ reference.number }}}}"
    body: '{BOMB}'
  - name: Call
    trigger: {{days: 1}}
    channel: call
    subject: "Call {{{{ customer.name }}}}"
    body: "{{{{ 'x' * 10**9 }}}}"
"""
CUSTOMERS = ["external_id", "name", "currency", "country", "plan"]
CONTACTS = ["external_id", "customer_id", "name", "email", "roles"]
INVOICES = ["external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"]


def test_a_template_bomb_fails_one_message_and_the_run_completes(
    company, relance, write_csv, tmp_path, mailoutbox
):
    for name, text in (("safe", SAFE), ("bomb", BOMB_PLAN)):
        plan = tmp_path / f"{name}.yaml"
        plan.write_text(text, encoding="utf-8")
        relance.json("plan", "load", plan)
    customers = [[f"C{n}", f"Customer {n}", "EUR", "FR", "safe"] for n in range(1, 6)]
    customers.append(["BOOM", "Bomb Ltd", "EUR", "FR", "bomb"])
    relance.json("import", "customers", write_csv("customers", CUSTOMERS, customers))
    relance.json(
        "import",
        "contacts",
        write_csv(
            "contacts",
            CONTACTS,
            [
                [f"K-{c[0]}", c[0], "Billing", f"billing@{c[0].lower()}.test", "billing"]
                for c in customers
            ],
        ),
    )
    relance.json(
        "import",
        "invoices",
        write_csv(
            "invoices",
            INVOICES,
            [
                [f"I-{c[0]}", c[0], f"F-{c[0]}", "2026-02-01", "2026-03-01", "EUR", "100"]
                for c in customers
            ],
        ),
    )
    start = time.monotonic()
    result = relance("run", "--date", "2026-03-01", "--json")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - start < 30
    actions = {a["customer"]: a for a in json.loads(result.stdout)["actions"]}
    assert actions["BOOM"]["status"] == "failed"  # not "queued": it will not leave as it is
    assert "Body: a range in the template is too long" in actions["BOOM"]["reason"]
    assert {actions[f"C{n}"]["status"] for n in range(1, 6)} == {"sent"}
    bombed = OutboxMessage.objects.get(customer__external_id="BOOM")
    assert bombed.status == "dead"
    assert "Body: a range in the template is too long" in bombed.last_error
    others = OutboxMessage.objects.exclude(customer__external_id="BOOM")
    assert sorted(others.values_list("customer__external_id", flat=True)) == [
        f"C{n}" for n in range(1, 6)
    ]
    assert set(others.values_list("status", flat=True)) == {"sent"}
    assert len(mailoutbox) == 5

    # the next day the call step: the action item says what is wrong instead of hanging
    result = relance("run", "--date", "2026-03-02", "--json")
    assert result.exit_code == 0, result.output
    item = ActionItem.objects.get(customer__external_id="BOOM")
    assert "Body: the template builds a text or list that is too long" in item.body
