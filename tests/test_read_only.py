"""handmig never writes to the database it generates for."""

import pytest
from django.core.management import call_command
from django.db import connections

from handmig import build_runbook, database
from handmig.errors import ShadowNeeded
from handmig.runbook import build_plan
from tests.schema import dump_schema, migration_rows, selected_backends
from tests.walk import history


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
    graph = loader.graph
    generated = []
    for key in order:
        node = graph.node_map[key]
        if key in applied:
            # Next to reverse: nothing applied depends on it.
            if any(child.key in applied for child in node.children):
                continue
            backwards = True
        elif all(parent.key in applied for parent in node.parents):
            backwards = False  # next to apply
        else:
            continue
        runbook = build_runbook(
            *key, backwards=backwards, database_alias="postgresql_reader"
        )
        assert runbook.migrations[0].name == key[1]
        generated.append(key)
    plans = [
        build_plan("shop", "0002", database_alias="postgresql_reader"),
        build_plan("inventory", database_alias="postgresql_reader"),
    ]
    # A plan whose SQL needs a shadow says so; it does not fall back to the
    # target (and this role could not create a scratch database anyway).
    with pytest.raises(ShadowNeeded):
        build_plan(database_alias="postgresql_reader")
    connections["postgresql_reader"].close()

    assert ("shop", "0006_book_indexes_constraints") in generated  # backward
    assert ("shop", "0007_review") in generated  # forward
    assert ("contenttypes", "0001_initial") in generated
    assert plans[0].direction == "backward" and len(plans[0].migrations) == 4
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


@pytest.mark.parametrize(
    "sql,refused",
    [
        ("SET STATEMENT max_statement_time = 2 FOR SELECT 1 FROM t LIMIT 1", False),
        ("SET STATEMENT max_statement_time = 2 FOR DELETE FROM t", True),
        ("RESET statement_timeout", False),
        ("SET statement_timeout = 2000", False),
        ("UPDATE t SET a = 1", True),
    ],
)
def test_the_read_only_guard_reads_the_statement_a_setting_wraps(sql, refused):
    """The data probes' timeouts pass the guard; a write behind them does not."""
    ran = []

    def execute(sql, params, many, context):
        ran.append(sql)

    if refused:
        with pytest.raises(database.WriteRefused):
            database._refuse_writes(execute, sql, None, False, {})
        assert ran == []
    else:
        database._refuse_writes(execute, sql, None, False, {})
        assert ran == [sql]
