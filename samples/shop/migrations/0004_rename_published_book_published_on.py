from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0003_alter_title_author_name"),
    ]

    operations = [
        migrations.RenameField(
            model_name="book",
            old_name="published",
            new_name="published_on",
        ),
    ]
