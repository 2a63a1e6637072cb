import inspect

from django.db import migrations, models

# CheckConstraint's "check" became "condition" in Django 5.1 and the old
# name is gone in 6.0: use whichever this Django has.
_CHECK = (
    "condition"
    if "condition" in inspect.signature(models.CheckConstraint).parameters
    else "check"
)


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0005_remove_book_subtitle"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="book",
            index=models.Index(
                fields=["published_on", "pages"], name="shop_book_pub_pages_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="book",
            constraint=models.CheckConstraint(
                **{_CHECK: models.Q(pages__gte=0)}, name="shop_book_pages_gte_0"
            ),
        ),
        migrations.AddConstraint(
            model_name="book",
            constraint=models.UniqueConstraint(
                fields=("author", "title"), name="shop_book_author_title_uniq"
            ),
        ),
    ]
