"""Broadcasts (campaigns), their waves and recipients."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("relance", "0011_company_figures"),
    ]

    operations: list[migrations.operations.base.Operation] = []
