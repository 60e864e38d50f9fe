"""Stored allocations equal the domain's replay of each customer's ledger, on a realistic ledger."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from relance.demo.generator import KINDS, demo_specs, write_csvs
from relance.domain.ledger import allocate, position
from relance.models import Allocation, Customer, Invoice
from relance.services.ledger.allocation import customer_position, load_ledgers
from relance.services.ledger.imports import import_file

TODAY = date(2026, 11, 23)


def test_generated_ledger_allocations_match_the_domain(company, tmp_path):
    spec = dataclasses.replace(demo_specs(TODAY)[0], company="default", customers=40)
    files = write_csvs(spec, tmp_path)
    for kind in KINDS:
        assert import_file(kind, files[kind], company).ok
    assert Allocation.objects.exists()

    ledgers = load_ledgers(list(Customer.objects.values_list("pk", flat=True)))
    expected: dict[int, Decimal] = defaultdict(Decimal)
    for invoices, settlements in ledgers.values():
        for a in allocate(invoices, settlements):
            expected[a.invoice_id] += a.amount
    stored = dict(
        Allocation.objects.values("invoice_id")
        .annotate(s=Sum("amount"))
        .values_list("invoice_id", "s")
    )
    assert stored == dict(expected)

    # amount_due(as_of) from the database equals the domain's position on a past date too
    as_of = date(2026, 6, 30)
    for customer in Customer.objects.all()[:10]:
        invoices, settlements = ledgers[customer.pk]
        expected_pos = position(invoices, settlements, as_of)
        pos, _ = customer_position(customer, as_of)
        assert pos.amount_due == expected_pos.amount_due
        assert dict(pos.credit) == dict(expected_pos.credit)
        for inv in Invoice.objects.filter(customer=customer, issue_date__lte=as_of)[:5]:
            assert inv.amount_due(as_of) == expected_pos.amount_due[inv.pk]
