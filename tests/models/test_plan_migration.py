"""Migration 0020: plans shared by every company become each company's own copy, and what the
customers followed and did (their plan, their executions by step) moves to their company's copy."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("relance", "0019_ab_variants")]
AFTER = [("relance", "0020_plans_per_company")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_shared_plans_are_copied_into_each_company_with_their_history():
    apps = _migrate(BEFORE)
    Company = apps.get_model("relance", "Company")
    Plan = apps.get_model("relance", "Plan")
    Step = apps.get_model("relance", "Step")
    Customer = apps.get_model("relance", "Customer")
    Execution = apps.get_model("relance", "Execution")
    fr = Company.objects.create(code="fr", name="FR", country="FR", currency="EUR")
    uk = Company.objects.create(code="uk", name="UK", country="GB", currency="GBP")
    shared = Plan.objects.create(code="standard", name="Standard", definition={"steps": []})
    first = Step.objects.create(
        plan=shared,
        position=1,
        name="First",
        trigger_days=1,
        trigger_from="due_date",
        channel="email",
        mode="auto",
    )
    Plan.objects.create(code="uk-only", name="UK only", company=uk, definition={})
    dupont = Customer.objects.create(company=fr, external_id="C1", name="Dupont", plan=shared)
    smith = Customer.objects.create(company=uk, external_id="C1", name="Smith", plan=shared)
    for customer in (dupont, smith):
        Execution.objects.create(
            key=f"k{customer.pk}",
            company=customer.company,
            customer=customer,
            plan=shared,
            plan_code="standard",
            step=first,
            step_name="First",
            date=date(2026, 1, 1),
            status="executed",
            channel="email",
            mode="auto",
            customer_facing=True,
        )

    apps = _migrate(AFTER)
    Plan = apps.get_model("relance", "Plan")
    Customer = apps.get_model("relance", "Customer")
    Execution = apps.get_model("relance", "Execution")
    copies = {p.company_id: p for p in Plan.objects.filter(code="standard")}
    assert set(copies) == {None, fr.pk, uk.pk}  # the library keeps the original
    for customer_pk, company in ((dupont.pk, fr), (smith.pk, uk)):
        copy = copies[company.pk]
        assert Customer.objects.get(pk=customer_pk).plan_id == copy.pk
        execution = Execution.objects.get(customer_id=customer_pk)
        assert execution.plan_id == copy.pk
        assert execution.step.plan_id == copy.pk
        assert execution.step.name == "First"
    assert Plan.objects.get(code="uk-only").company_id == uk.pk
    assert not Plan.objects.filter(code="uk-only").exclude(company_id=uk.pk).exists()
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
