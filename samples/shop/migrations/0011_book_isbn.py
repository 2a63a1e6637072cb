from django.db import migrations, models


class Migration(migrations.Migration):
    # Large tables get their indexes outside a transaction; each operation
    # commits on its own.
    atomic = False

    dependencies = [
        ("shop", "0010_author_bio_backfill"),
    ]

    operations = [
        migrations.AddField(
            model_name="book",
            name="isbn",
            field=models.CharField(max_length=13, null=True),
        ),
        migrations.AddIndex(
            model_name="book",
            index=models.Index(fields=["isbn"], name="shop_book_isbn_idx"),
        ),
        migrations.RunSQL(
            "UPDATE shop_book SET isbn = NULL WHERE isbn = ''",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
