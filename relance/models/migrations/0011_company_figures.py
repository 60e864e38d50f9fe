"""Stored dashboard figures per company and currency (staff app: dashboard)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("relance", "0010_fewer_cycle_indexes"),
    ]

    operations: list[migrations.operations.base.Operation] = []
