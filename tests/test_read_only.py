"""handmig never writes to the database it generates for."""

import pytest
from django.core.management import call_command
from django.db import connections

from handmig import build_runbook, database
from tests.schema import dump_schema, migration_rows, selected_backends
from tests.walk import history


def _reversible(migration):
    return all(operation.reversible for operation in migration.operations)


@pytest.mark.skipif(
    "postgresql" not in selected_backends(),
    reason="needs HANDMIG_TEST_DATABASES to include postgresql",
)
def test_every_runbook_through_a_role_that_can_only_read(backends):
    scratch = connections["postgresql_scratch"]
    # Half the history applied: some runbooks go forward, some backward.
    call_command("migrate", "shop", "0006", database="postgresql_scratch", verbosity=0)
    with scratch.cursor() as cursor:
        cursor.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles "
            "WHERE rolname = 'handmig_reader') THEN CREATE ROLE handmig_reader LOGIN; "
            "END IF; END $$"
        )
        cursor.execute(
            "ALTER ROLE handmig_reader SET default_transaction_read_only = on"
        )
        cursor.execute("GRANT USAGE ON SCHEMA public TO handmig_reader")
        cursor.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO handmig_reader")
    schema_before = dump_schema(scratch)
    rows_before = migration_rows(scratch)
    applied = set(rows_before)

    loader, order = history()
    generated = 0
    for key in order:
        migration = loader.graph.nodes[key]
        backwards = key in applied
        if backwards and not _reversible(migration):
            continue
        runbook = build_runbook(
            *key, backwards=backwards, database_alias="postgresql_reader"
        )
        assert runbook.migrations[0].name == key[1]
        generated += 1
    connections["postgresql_reader"].close()

    assert generated == len(order)
    assert dump_schema(scratch) == schema_before
    assert migration_rows(scratch) == rows_before
    with scratch.cursor() as cursor:
        # The role really cannot write: the proof above would be empty otherwise.
        cursor.execute(
            "SELECT has_table_privilege('handmig_reader', "
            "'django_migrations', 'INSERT')"
        )
        assert cursor.fetchone()[0] is False
    scratch.close()


def test_a_write_to_the_target_is_refused(backends):
    alias = f"{selected_backends()[0]}_scratch"
    with database.read_only(alias) as (connection, _):
        with pytest.raises(database.WriteRefused):
            with connection.cursor() as cursor:
                cursor.execute("CREATE TABLE handmig_must_not_exist (a integer)")
    assert (
        "handmig_must_not_exist" not in connections[alias].introspection.table_names()
    )
    connections[alias].close()
