from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0008_review_unique_together"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                "INSERT INTO shop_tag (name) VALUES ('fiction')",
                "INSERT INTO shop_tag (name) VALUES ('poetry')",
                ("INSERT INTO shop_tag (name) VALUES (%s)", ["drama"]),
            ],
            reverse_sql=[
                ("DELETE FROM shop_tag WHERE name = %s", ["drama"]),
                "DELETE FROM shop_tag WHERE name IN ('fiction', 'poetry')",
            ],
        ),
        # Two statements in one string, as hand-written SQL often is: Django
        # splits it on SQLite and MySQL but sends it whole to PostgreSQL.
        migrations.RunSQL(
            sql="UPDATE shop_tag SET name = UPPER(name) WHERE name = 'poetry';\n"
            "UPDATE shop_tag SET name = LOWER(name) WHERE name = 'POETRY';",
            reverse_sql="UPDATE shop_tag SET name = name WHERE name = 'poetry';\n"
            "UPDATE shop_tag SET name = name WHERE name = 'fiction';",
        ),
    ]
