from __future__ import annotations

from django.db import models
from django.utils import timezone

from relance.models.company import Company
from relance.models.documents import amount_field
from relance.models.validators import validate_currency


class DailyFigures(models.Model):
    """A company's receivables in one currency at the end of one day (DESIGN §5): what the
    dashboard shows, stored because summing a million invoices per page view is too slow.

    Computed the first time the day's dashboard is asked for and by the daily tick, and
    forgotten when an import changes the ledger, so it is never older than the last change.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3, validators=[validate_currency])
    day = models.DateField()
    receivables = amount_field()
    current = amount_field()
    aging = models.JSONField(default=dict, help_text="Bucket (1-30, …, 120+) -> amount")
    credit_sales = amount_field()
    period_days = models.PositiveIntegerField(help_text="The period of credit_sales, to `day`")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "daily figures"
        ordering = ["company", "currency", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "currency", "day"], name="one_figure_per_company_currency_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.currency} {self.day}"
