"""What an action item's priority is made of, shown in the Actions inbox (domain.priority)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("relance", "0010_fewer_cycle_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="actionitem",
            name="priority_parts",
            field=models.JSONField(
                blank=True, default=dict, help_text="What the priority is made of (domain.priority)"
            ),
        ),
    ]
