"""Sales reps: signed links, digests, notices before firm steps."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("relance", "0012_campaigns"),
    ]

    operations: list[migrations.operations.base.Operation] = []
