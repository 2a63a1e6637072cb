import datetime
import inspect

from django.db import models

# CheckConstraint's "check" became "condition" in Django 5.1 and the old
# name is gone in 6.0: use whichever this Django has.
_CHECK = (
    "condition"
    if "condition" in inspect.signature(models.CheckConstraint).parameters
    else "check"
)


class Author(models.Model):
    name = models.CharField(max_length=100, db_index=True)
    email = models.EmailField(unique=True)
    bio = models.TextField(blank=True, default="")


class Tag(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=300)
    author = models.ForeignKey(Author, models.CASCADE, related_name="books")
    published_on = models.DateField(null=True)
    pages = models.PositiveIntegerField(default=0)
    tags = models.ManyToManyField(Tag)
    isbn = models.CharField(max_length=13, null=True)

    class Meta:
        indexes = [
            models.Index(fields=["title"], name="shop_book_title_idx"),
            models.Index(
                fields=["published_on", "pages"], name="shop_book_pub_pages_idx"
            ),
            models.Index(fields=["isbn"], name="shop_book_isbn_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                **{_CHECK: models.Q(pages__gte=0)}, name="shop_book_pages_gte_0"
            ),
            models.UniqueConstraint(
                fields=["author", "title"], name="shop_book_author_title_uniq"
            ),
        ]


class Review(models.Model):
    book = models.ForeignKey(Book, models.CASCADE)
    reviewer = models.CharField(max_length=100)
    rating = models.SmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["book", "reviewer"], name="shop_review_book_reviewer_uniq"
            ),
        ]


class Promotion(models.Model):
    # A table no foreign key points at: online schema change tools can take
    # its ALTERs (shop.0014), until shop.0015 gives it a foreign key.
    code = models.CharField(max_length=20)
    percent = models.PositiveSmallIntegerField()
    starts = models.DateField(default=datetime.date(2020, 1, 1))
    book = models.ForeignKey(Book, models.SET_NULL, null=True)

    class Meta:
        indexes = [models.Index(fields=["code"], name="shop_promo_code_idx")]
