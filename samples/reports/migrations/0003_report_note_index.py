from django.db import migrations

INDEX = "reports_report_note_idx"


def add_note_index(apps, schema_editor):
    # Some apps issue DDL from Python, e.g. where the SQL depends on the
    # vendor. sqlmigrate never shows it; handmig does with --shadow.
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE INDEX {quote(INDEX)} ON {quote('reports_report')} ({quote('note')})"
    )


def drop_note_index(apps, schema_editor):
    quote = schema_editor.quote_name
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(f"DROP INDEX {quote(INDEX)} ON {quote('reports_report')}")
    else:
        schema_editor.execute(f"DROP INDEX {quote(INDEX)}")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_report_note_backfill"),
    ]

    operations = [
        # DDL inside a transaction is refused where DDL cannot be rolled
        # back (MySQL), so this step runs outside one.
        migrations.RunPython(add_note_index, drop_note_index, atomic=False),
    ]
