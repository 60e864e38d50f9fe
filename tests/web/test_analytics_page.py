"""The Analytics page and its CSV: monthly KPIs of what the reader may see, filtered like the
customers list, in both languages."""

from __future__ import annotations

import calendar
import csv
import io
from datetime import timedelta

from relance.models import Invoice
from tests import clock


def test_the_page_shows_twelve_months_of_what_the_reader_sees(world):
    page = world.client("controller").get("/analytics/").content.decode()
    assert page.count("<tr><td>") + page.count('<tr class="partial"><td>') == 12
    today = clock.today()
    if today.day < calendar.monthrange(today.year, today.month)[1]:  # the month so far
        assert page.count('<tr class="partial"><td>') == 1
        assert "only</span>" in page
    assert 'id="kpi-chart"' in page
    assert "€1,550.00" in page  # owed at the end of this month (Dupont's two invoices)


def test_the_csv_gives_the_same_months_in_the_contracts_form(world):
    rows = list(
        csv.DictReader(
            io.StringIO(world.client("admin").get("/analytics/kpis.csv").content.decode())
        )
    )
    assert len(rows) == 12
    this_month = clock.today().strftime("%Y-%m")
    [last] = [r for r in rows if r["month"] == this_month]
    assert (last["currency"], last["receivables"]) == ("EUR", "1550.00")


def test_filters_and_isolation(world):
    other = world.client("controller").get(
        "/analytics/kpis.csv", {"rep": world.users["other_rep"].pk}
    )
    assert "1550.00" not in other.content.decode()  # Martin owes nothing
    Invoice.objects.create(
        company=world.beta,
        customer=world.customers["smith"],
        external_id="S1",
        number="S1",
        issue_date=clock.today() - timedelta(days=5),
        due_date=clock.today() + timedelta(days=25),
        currency="GBP",
        total="999.00",
    )
    assert "GBP" not in world.client("controller").get("/analytics/kpis.csv").content.decode()
    assert "999.00" in world.client("beta_admin").get("/analytics/kpis.csv").content.decode()
    theirs = world.client("rep").get("/analytics/kpis.csv", {"company": "beta"}).content.decode()
    assert "999.00" not in theirs  # another company is no choice of theirs: ignored
    assert "1550.00" in theirs  # their own customer's


def test_the_page_speaks_french(world):
    page = world.client("controller", "fr").get("/analytics/").content.decode()
    assert "Analyse" in page
    assert "1\u202f550,00\xa0€" in page


def test_what_the_steps_brought_in_by_step_and_by_owner(world):
    from decimal import Decimal

    from relance.models import Execution, Payment
    from relance.services.ledger import allocation

    today = clock.today()
    invoice = Invoice.objects.get(external_id="I1")
    Execution.objects.create(
        key="k1",
        company=world.alpha,
        customer=world.customers["dupont"],
        plan_code="standard",
        step_name="Payment reminder",
        reference_invoice=invoice,
        reference_external_id="I1",
        date=today - timedelta(days=20),
        status="executed",
        channel="email",
        mode="auto",
        customer_facing=True,
    )
    Payment.objects.create(
        company=world.alpha,
        customer=world.customers["dupont"],
        external_id="P1",
        invoice=invoice,
        date=today - timedelta(days=17),
        currency="EUR",
        amount=Decimal("625.00"),
    )
    allocation.reallocate([world.customers["dupont"].pk])
    page = world.client("controller").get("/analytics/").content.decode()
    assert "<strong>Payment reminder</strong>" in page
    assert "50.0%" in page  # 625 of the 1,250 owed, within 7 days
    french = world.client("controller", "fr").get("/analytics/").content.decode()
    assert "50,0\xa0%" in french
    by_owner = world.client("controller").get("/analytics/", {"by": "owner"}).content.decode()
    assert "Payment reminder" not in by_owner
    assert world.client("beta_admin").get("/analytics/").content.decode().count("50.0%") == 0


def test_the_last_90_days_in_figures_follow_the_filters(world):
    from decimal import Decimal

    from relance.models import Payment, Promise
    from relance.services.ledger import allocation

    dupont = world.customers["dupont"]
    i1 = Invoice.objects.get(external_id="I1")
    Payment.objects.create(
        company=world.alpha,
        customer=dupont,
        external_id="P1",
        invoice=i1,
        date=clock.today() - timedelta(days=1),
        currency="EUR",
        amount=Decimal("250.00"),
    )
    allocation.reallocate([dupont.pk])
    promise = Promise.objects.create(
        company=world.alpha,
        customer=dupont,
        promised_on=clock.today() - timedelta(days=10),
        pay_by=clock.today() - timedelta(days=3),
        status=Promise.Status.KEPT,
    )
    promise.invoices.set([i1])
    page = world.client("controller").get("/analytics/").content.decode()
    assert '<span class="figure">€250.00</span>collected' in page
    assert '<span class="figure">100.0 %</span>of promises kept' in page
    assert "1 promise due" in page
    martins = world.client("controller").get("/analytics/", {"rep": world.users["other_rep"].pk})
    assert "€250.00" not in martins.content.decode()  # Martin's rep sees none of Dupont's


def _two_steps_ran(world):
    from decimal import Decimal
    from pathlib import Path

    from relance.models import Execution, Payment
    from relance.services.dunning.plans import load_plans
    from relance.services.ledger import allocation

    standard = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"
    load_plans(standard.read_text(encoding="utf-8"))
    today = clock.today(world.alpha)
    invoices = {i.external_id: i for i in Invoice.objects.filter(customer__company=world.alpha)}
    for key, step, channel, ext in [
        ("k1", "Payment reminder", "email", "I1"),
        ("k2", "Account owner call", "call", "I2"),
    ]:
        Execution.objects.create(
            key=key,
            company=world.alpha,
            customer=world.customers["dupont"],
            plan_code="standard",
            step_name=step,
            reference_invoice=invoices[ext],
            reference_external_id=ext,
            date=today - timedelta(days=20),
            status="executed",
            channel=channel,
            mode="auto",
            customer_facing=True,
        )
    Payment.objects.create(
        company=world.alpha,
        customer=world.customers["dupont"],
        external_id="P1",
        invoice=invoices["I1"],
        date=today - timedelta(days=17),
        currency="EUR",
        amount=Decimal("625.00"),
    )
    allocation.reallocate([world.customers["dupont"].pk])


def test_effectiveness_labels_are_words_with_a_totals_row_in_english(world):
    _two_steps_ran(world)
    page = world.client("controller").get("/analytics/").content.decode()
    assert (
        '<strong>Payment reminder</strong> <span class="muted">Standard B2B · Email</span>' in page
    )
    assert (
        '<strong>Account owner call</strong> <span class="muted">Standard B2B · Call</span>' in page
    )
    assert "standard ·" not in page
    assert "· email" not in page
    total = page.split("<tfoot>")[1].split("</tfoot>")[0]
    assert "Total" in total
    assert ">2<" in total  # two steps ran
    assert "€1,550.00" in total  # 1,250 + 300 owed when they ran
    assert "€625.00" in total


def test_effectiveness_in_french_and_by_owner_by_name(world):
    _two_steps_ran(world)
    controller = world.users["controller"]
    controller.first_name, controller.last_name = "Claire", "Martin"
    controller.save()
    world.customers["dupont"].owner = controller
    world.customers["dupont"].save()
    page = world.client("controller", "fr").get("/analytics/").content.decode()
    assert "<strong>Payment reminder</strong>" in page  # the step's own name, as written
    assert "1\u202f550,00\xa0€" in page.split("<tfoot>")[1]
    by_owner = world.client("controller", "fr").get("/analytics/", {"by": "owner"})
    text = by_owner.content.decode()
    assert "<strong>Claire Martin</strong>" in text
    assert "controller@ar.test" not in text
