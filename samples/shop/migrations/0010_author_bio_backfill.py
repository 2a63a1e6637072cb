from django.db import migrations, models


def add_unknown_author(apps, schema_editor):
    Author = apps.get_model("shop", "Author")
    Author.objects.using(schema_editor.connection.alias).get_or_create(
        email="unknown@example.com", defaults={"name": "Unknown"}
    )


def remove_unknown_author(apps, schema_editor):
    Author = apps.get_model("shop", "Author")
    Author.objects.using(schema_editor.connection.alias).filter(
        email="unknown@example.com", books__isnull=True
    ).delete()


def fill_bios(apps, schema_editor):
    Author = apps.get_model("shop", "Author")
    Author.objects.using(schema_editor.connection.alias).filter(bio="").update(
        bio="No biography yet."
    )


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0009_seed_tags"),
    ]

    operations = [
        migrations.RunPython(add_unknown_author, reverse_code=remove_unknown_author),
        migrations.AddField(
            model_name="author",
            name="bio",
            field=models.TextField(blank=True, default=""),
        ),
        # Nothing to undo: the bios go away with the column.
        migrations.RunPython(fill_bios, reverse_code=migrations.RunPython.noop),
    ]
