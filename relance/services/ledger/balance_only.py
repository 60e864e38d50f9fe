"""Balance-only exports (aged balances, open-invoice reports): the file gives each invoice's
total and what is still open, never the payments. The settled part (total - open) is recorded
as a payment `<invoice id>:settled` allocated to that invoice, so amounts due, reminders and
KPIs read right.

The payment is dated the import day unless the mapping names a column for it (`settled_date`);
a re-import that changes its amount dates it that day (or the column's date), one that does not
leaves it alone, so importing the same file again writes nothing. When nothing is settled any
more (open = total) the payment is deleted. These payments are not announced as
`payment.received` webhooks: nobody paid anything today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext

from relance.domain import ledger_fields as cell
from relance.domain.ledger_fields import FieldError
from relance.domain.mappings import OPEN_AMOUNT, SETTLED_DATE
from relance.domain.texts import N_
from relance.models import Company, Invoice, Payment
from relance.services.ledger.import_reading import ImportResult, Record

SUFFIX = ":settled"


@dataclass(frozen=True)
class Settled:
    invoice: str  # external id
    customer_id: int
    currency: str
    amount: Decimal
    date: date | None


def settled_part(rec: Record, fields: dict, result: ImportResult) -> Settled | bool | None:
    """What this invoice row says was settled: a Settled, None when the row gives no open
    amount, False after reporting a bad one."""
    raw = rec.extras.get(OPEN_AMOUNT)
    if raw is None:
        return None
    total, currency = fields["total"], fields["currency"]
    try:
        if not raw:
            raise FieldError(N_("is required: what is still owed on the invoice (0 when paid)"))
        open_amount = cell.amount(raw, currency, positive=False)
    except FieldError as exc:
        result.add_error(rec.row, OPEN_AMOUNT, str(exc))
        return False
    if open_amount > total:
        result.add_error(
            rec.row,
            OPEN_AMOUNT,
            gettext(
                "%(open_amount)s is still open but the invoice's total is %(total)s: the open "
                "amount cannot be more than the total"
            )
            % {"open_amount": open_amount, "total": total},
        )
        return False
    when = None
    if raw_date := rec.extras.get(SETTLED_DATE):
        try:
            when = cell.iso_date(raw_date)
        except FieldError as exc:
            result.add_error(rec.row, SETTLED_DATE, str(exc))
            return False
    return Settled(
        fields["external_id"], fields["customer_id"], currency, total - open_amount, when
    )


class SettledWriter:
    """Upserts the settled parts of one import's invoices, a chunk at a time."""

    def __init__(self, company: Company, today: date) -> None:
        self.company = company
        self.today = today
        self.touched_customers: set[int] = set()
        self.created = self.updated = self.deleted = 0

    def write(self, parts: list[Settled]) -> None:
        if not parts:
            return
        company = self.company
        ids = [p.invoice + SUFFIX for p in parts]
        existing = {
            ext: (pk, amount, when, cust, inv, cur)
            for ext, pk, amount, when, cust, inv, cur in Payment.objects.filter(
                company=company, external_id__in=ids
            ).values_list(
                "external_id", "pk", "amount", "date", "customer_id", "invoice_id", "currency"
            )
        }
        invoices = dict(
            Invoice.objects.filter(
                company=company, external_id__in=[p.invoice for p in parts]
            ).values_list("external_id", "pk")
        )
        new: list[Payment] = []
        changed: list[Payment] = []
        gone: list[int] = []
        for part in parts:
            ext = part.invoice + SUFFIX
            found = existing.get(ext)
            if part.amount <= 0:
                if found:
                    gone.append(found[0])
                    self.touched_customers.add(found[3])
                continue
            invoice_pk = invoices[part.invoice]
            if found is None:
                new.append(
                    Payment(
                        company=company,
                        customer_id=part.customer_id,
                        invoice_id=invoice_pk,
                        external_id=ext,
                        date=part.date or self.today,
                        currency=part.currency,
                        amount=part.amount,
                    )
                )
                self.touched_customers.add(part.customer_id)
                continue
            pk, amount, when, cust, inv, cur = found
            # without a date column, a settled part that grew or shrank is dated this import
            wanted_date = part.date or (when if amount == part.amount else self.today)
            if (amount, wanted_date, cust, inv, cur) == (
                part.amount,
                when,
                part.customer_id,
                invoice_pk,
                part.currency,
            ):
                continue
            changed.append(
                Payment(
                    pk=pk,
                    amount=part.amount,
                    date=wanted_date,
                    customer_id=part.customer_id,
                    invoice_id=invoice_pk,
                    currency=part.currency,
                )
            )
            self.touched_customers.update({cust, part.customer_id})
        if new:
            Payment.objects.bulk_create(new, batch_size=500)
        if changed:
            Payment.objects.bulk_update(
                changed, ["amount", "date", "customer_id", "invoice_id", "currency"], batch_size=500
            )
        if gone:
            Payment.objects.filter(pk__in=gone).delete()
        self.created += len(new)
        self.updated += len(changed)
        self.deleted += len(gone)
