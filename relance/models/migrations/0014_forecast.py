"""The stored forecast of the next 30 days (staff app: calendar, dashboard)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("relance", "0013_sales_reps"),
    ]

    operations: list[migrations.operations.base.Operation] = []
