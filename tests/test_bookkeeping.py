"""The django_migrations rows: as migrate writes them, and safe to paste twice."""

import pytest
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from handmig import bookkeeping
from tests.schema import create_database, run_script, selected_backends


@pytest.mark.parametrize("backend", selected_backends())
def test_insert_twice_records_one_row(backends, backend):
    from django.conf import settings

    alias = f"{backend}_scratch"
    connections[alias].close()
    create_database(backend, settings.DATABASES[alias]["NAME"])
    connection = connections[alias]
    migration = MigrationLoader(None, ignore_no_migrations=True).graph.nodes[
        ("inventory", "0001_squashed_0003_stock_location")
    ]
    create = bookkeeping.create_table(connection)
    record = bookkeeping.record(connection, migration, backwards=False)
    script = "\n".join(s.sql for s in create + record.statements + record.statements)
    connection.close()
    run_script(backend, connection.settings_dict, script)

    rows = MigrationRecorder.Migration.objects.using(alias).values_list("app", "name")
    assert sorted(rows) == [
        ("inventory", "0001_initial"),
        ("inventory", "0001_squashed_0003_stock_location"),
        ("inventory", "0002_stock"),
        ("inventory", "0003_stock_location"),
    ]
    # Django reads back the timestamp the vendor expression wrote.
    applied = MigrationRecorder(connection).applied_migrations()
    assert all(row.applied is not None for row in applied.values())

    delete = bookkeeping.record(connection, migration, backwards=True)
    connection.close()
    run_script(backend, connection.settings_dict, delete.statements[0].sql)
    assert MigrationRecorder.Migration.objects.using(alias).count() == 0
    connection.close()
