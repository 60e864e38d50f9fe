"""What an import lets an onlooker see while its transaction is open: each chunk of rows before
it is written, and the end, before a check (dry run) rolls everything back.

The import jobs use it to tell which customers an import moves to another dunning plan
(services/dunning/plan_changes.py). The ledger may not import dunning (the service areas are
layered), so the onlooker is handed in, named by the setting RELANCE_IMPORT_PLAN_CHANGES.
"""

from __future__ import annotations

from typing import Any, Protocol


class ImportWatch(Protocol):
    """Told of one import's rows; nothing it does may write (a dry run must stay a dry run)."""

    def before_writing(self, rows: list[dict[str, Any]]) -> None:
        """A chunk of valid rows (model attribute names: `customer_id`, `plan_id`...) about to
        be written: the ledger is still as it was for the customers they concern."""

    def written(self) -> None:
        """Every row written and the allocations redone, in the import's transaction, before a
        dry run rolls it back."""
