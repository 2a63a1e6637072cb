import datetime

from django.db import migrations, models


class Migration(migrations.Migration):
    # Changes that lock or copy a busy table: a narrower type with a check
    # (MySQL/MariaDB copy the table; PostgreSQL rewrites it), NOT NULL on an
    # existing column, and an index.
    dependencies = [
        ("shop", "0013_promotion"),
    ]

    operations = [
        migrations.AlterField(
            model_name="promotion",
            name="percent",
            field=models.PositiveSmallIntegerField(),
        ),
        migrations.AlterField(
            model_name="promotion",
            name="starts",
            field=models.DateField(default=datetime.date(2020, 1, 1)),
        ),
        migrations.AddIndex(
            model_name="promotion",
            index=models.Index(fields=["code"], name="shop_promo_code_idx"),
        ),
    ]
