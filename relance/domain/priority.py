"""How urgent a piece of manual work is: a score a credit controller can check by hand.

The Actions inbox sorts by it and shows its parts, so the order is never a mystery: how late the
oldest invoice is, how much is at stake, how risky the customer is, and whether they broke a
promise lately. Amounts of different currencies are never added or converted: the largest
amount of the step counts, by its order of magnitude in its own currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Final

#: Days late count one point each, up to a year.
MAX_DAYS: Final = 365
#: Ten points per power of ten above 100 (in the currency's major unit), up to 50.
AMOUNT_STEP: Final = 10
MAX_AMOUNT: Final = 50
RISK: Final[Mapping[str, int]] = {"high": 30, "medium": 15}
#: A promise broken in the last BROKEN_WINDOW_DAYS days.
BROKEN_PROMISE: Final = 40
BROKEN_WINDOW_DAYS: Final = 90


@dataclass(frozen=True, slots=True)
class Priority:
    days_late: int = 0
    amount: int = 0
    risk: int = 0
    broken_promise: int = 0

    @property
    def score(self) -> int:
        return self.days_late + self.amount + self.risk + self.broken_promise

    def parts(self) -> dict[str, int]:
        """The parts that count (not zero), for storage and display."""
        return {name: points for name, points in asdict(self).items() if points}


def amount_points(amount: Decimal) -> int:
    """€1,000 is 10 points, €10,000 20, €100,000 30…; €100 or less, none."""
    if amount <= 100:
        return 0
    magnitude = len(str(int(amount))) - 3  # 1000-9999 -> 1
    return min(MAX_AMOUNT, AMOUNT_STEP * magnitude)


def priority(
    days_late: int, totals: Mapping[str, Decimal], risk: str, broke_a_promise: bool
) -> Priority:
    return Priority(
        days_late=max(0, min(days_late, MAX_DAYS)),
        amount=max((amount_points(a) for a in totals.values()), default=0),
        risk=RISK.get(risk.strip().lower(), 0),
        broken_promise=BROKEN_PROMISE if broke_a_promise else 0,
    )
