"""What the customers list needs to know of a customer's balance without reading their invoices:
the due date of their oldest invoice left to pay (Customer.oldest_unpaid_due).

It changes only when invoices, payments or credit notes do, so it is kept where those changes
end: services.allocation.reallocate and the ledger import. How late a customer is follows from
it and today's date, so nothing goes stale as days pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from django.db import connection

from relance.models.documents import amount_due_sql, still_owed_sql

BATCH = 1000

# Plain SQL (both databases); the migration that first filled the column keeps its own copy.
_REFRESH = f"""
UPDATE relance_customer SET oldest_unpaid_due = (
    SELECT MIN(i.due_date) FROM relance_invoice i
    WHERE i.customer_id = relance_customer.id AND i.status = 'open'
      AND {still_owed_sql(amount_due_sql("i"))}
)
WHERE id IN ({{marks}})
"""


def refresh(customer_ids: Iterable[int]) -> None:
    """Recompute these customers' oldest unpaid due date, a thousand customers per statement."""
    ids = iter(sorted(set(customer_ids)))
    with connection.cursor() as cursor:
        while chunk := list(islice(ids, BATCH)):
            cursor.execute(_REFRESH.format(marks=", ".join(["%s"] * len(chunk))), chunk)
