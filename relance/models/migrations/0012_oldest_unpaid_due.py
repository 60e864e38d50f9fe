"""The due date of a customer's oldest invoice left to pay, kept with the allocations: the
customers list sorts and filters by how late customers are without reading every invoice."""

from django.db import migrations, models


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from relance.services.ledger import balances  # plain SQL: safe to run from a migration

    Customer = apps.get_model("relance", "Customer")
    balances.refresh(Customer.objects.values_list("pk", flat=True))


class Migration(migrations.Migration):
    dependencies = [
        ("relance", "0011_priority_parts"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="oldest_unpaid_due",
            field=models.DateField(
                blank=True,
                db_index=True,
                editable=False,
                help_text="Due date of the oldest invoice left to pay (kept by services.balances)",
                null=True,
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
