"""Stored dashboard figures and forecast (staff app: dashboard, calendar)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("relance", "0010_fewer_cycle_indexes"),
    ]

    operations: list[migrations.operations.base.Operation] = []
