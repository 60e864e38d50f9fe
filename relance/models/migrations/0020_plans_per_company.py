"""Plans belong to one company: codes unique per company; plans without a company become the
library, copied into each company.

Every company gets its own copy of every plan that was shared (unless it already has a plan of
that code), and its customers, campaigns and step executions are moved from the shared plan and
its steps to the copy, step by step name, so no history is lost and nothing runs twice.
"""

from django.db import migrations, models

PLAN_FIELDS = (
    "code",
    "name",
    "min_contact_delay_days",
    "repeat_last_every_days",
    "repeat_last_max",
    "tolerance",
    "definition",
)
STEP_FIELDS = ("position", "name", "trigger_days", "trigger_from", "channel", "mode", "active")


def copy_shared_plans(apps, schema_editor):
    Company = apps.get_model("relance", "Company")
    Plan = apps.get_model("relance", "Plan")
    Step = apps.get_model("relance", "Step")
    Customer = apps.get_model("relance", "Customer")
    Campaign = apps.get_model("relance", "Campaign")
    Execution = apps.get_model("relance", "Execution")
    for shared in Plan.objects.filter(company__isnull=True):
        steps = list(Step.objects.filter(plan=shared))
        for company in Company.objects.all():
            if Plan.objects.filter(company=company, code=shared.code).exists():
                continue
            copy = Plan.objects.create(
                company=company, **{f: getattr(shared, f) for f in PLAN_FIELDS}
            )
            for step in steps:
                new = Step.objects.create(plan=copy, **{f: getattr(step, f) for f in STEP_FIELDS})
                Execution.objects.filter(company=company, step=step).update(step=new)
            Customer.objects.filter(company=company, plan=shared).update(plan=copy)
            Campaign.objects.filter(company=company, plan=shared).update(plan=copy)
            Execution.objects.filter(company=company, plan=shared).update(plan=copy)


class Migration(migrations.Migration):
    dependencies = [
        ("relance", "0019_ab_variants"),
    ]

    operations = [
        migrations.AlterField(
            model_name="plan",
            name="code",
            field=models.SlugField(max_length=50),
        ),
        migrations.AlterField(
            model_name="plan",
            name="company",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty: the library, copied into each new company",
                null=True,
                on_delete=models.deletion.CASCADE,
                related_name="plans",
                to="relance.company",
            ),
        ),
        migrations.AddConstraint(
            model_name="plan",
            constraint=models.UniqueConstraint(
                fields=("company", "code"), name="plan_code_per_company"
            ),
        ),
        migrations.AddConstraint(
            model_name="plan",
            constraint=models.UniqueConstraint(
                condition=models.Q(company__isnull=True),
                fields=("code",),
                name="library_plan_code",
            ),
        ),
        migrations.RunPython(copy_shared_plans, migrations.RunPython.noop),
    ]
