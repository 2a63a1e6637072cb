from django.db import models


class Report(models.Model):
    book = models.ForeignKey("shop.Book", models.CASCADE)
    created = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=100, default="")
