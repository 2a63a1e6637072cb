import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # A foreign key added to a table that already holds rows.
    dependencies = [
        ("shop", "0014_promotion_percent_starts"),
    ]

    operations = [
        migrations.AddField(
            model_name="promotion",
            name="book",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                to="shop.book",
            ),
        ),
    ]
