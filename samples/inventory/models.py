from django.db import models


class Warehouse(models.Model):
    name = models.CharField(max_length=100)


class Stock(models.Model):
    warehouse = models.ForeignKey(Warehouse, models.CASCADE)
    book = models.ForeignKey("shop.Book", models.CASCADE)
    quantity = models.PositiveIntegerField(default=0)
    location = models.CharField(max_length=50, default="")

    class Meta:
        indexes = [models.Index(fields=["location"], name="inventory_stock_loc_idx")]
