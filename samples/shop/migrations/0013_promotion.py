from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0012_review_unique_constraint"),
    ]

    operations = [
        migrations.CreateModel(
            name="Promotion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("code", models.CharField(max_length=20)),
                ("percent", models.IntegerField()),
                ("starts", models.DateField(null=True)),
            ],
        ),
    ]
