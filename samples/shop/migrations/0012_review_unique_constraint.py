from django.db import migrations, models


class Migration(migrations.Migration):
    # unique_together gives way to a named UniqueConstraint. Dropping the old
    # constraint needs its name, which Django reads from the database.
    dependencies = [
        ("shop", "0011_book_isbn"),
    ]

    operations = [
        migrations.AlterUniqueTogether(
            name="review",
            unique_together=set(),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.UniqueConstraint(
                fields=("book", "reviewer"), name="shop_review_book_reviewer_uniq"
            ),
        ),
    ]
