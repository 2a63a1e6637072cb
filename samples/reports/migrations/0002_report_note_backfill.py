from django.db import migrations, models


def report_every_book(apps, schema_editor):
    Book = apps.get_model("shop", "Book")
    Report = apps.get_model("reports", "Report")
    alias = schema_editor.connection.alias
    Report.objects.using(alias).bulk_create(
        Report(book=book) for book in Book.objects.using(alias).all()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="note",
            field=models.CharField(default="", max_length=100),
        ),
        # No reverse: once written, these reports cannot be told apart from
        # the ones users created.
        migrations.RunPython(report_every_book),
    ]
