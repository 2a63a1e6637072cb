"""Scripts as each vendor's shell client reads them: statements that hold ';'
inside them run whole (MariaDB compound statements through DELIMITER)."""

import pytest
from django.conf import settings
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from handmig import bookkeeping, guards, render, statements
from handmig.model import MigrationRow
from tests.schema import create_database, run_parts, selected_backends
from tests.test_html import _one_statement_runbook

TRIGGER = """
CREATE TABLE handmig_counted (id integer PRIMARY KEY, hits integer NOT NULL DEFAULT 0);
CREATE TRIGGER handmig_count BEFORE INSERT ON handmig_counted FOR EACH ROW
BEGIN
    IF NEW.hits < 0 THEN
        SET NEW.hits = 0;
    END IF;
    SET NEW.hits = NEW.hits + 1;
END;
INSERT INTO handmig_counted (id, hits) VALUES (1, -5), (2, 4);
"""


@pytest.mark.skipif(
    "mysql" not in selected_backends(), reason="needs HANDMIG_TEST_DATABASES=...mysql"
)
def test_a_compound_statement_runs_whole_in_the_mariadb_client(backends):
    alias = "mysql_scratch"
    connections[alias].close()
    create_database("mysql", settings.DATABASES[alias]["NAME"])
    connection = connections[alias]
    MigrationRecorder(connection).ensure_schema()
    split = statements.split_all([TRIGGER], vendor="mysql")
    assert [s.verb.split()[0] for s in split] == ["CREATE", "CREATE", "INSERT"]
    runbook = _one_statement_runbook(split[0])
    section = runbook.migrations[0]
    section.operations[0].statements = split
    row = MigrationRow("shop", "0001_initial")
    section.record.statements = [bookkeeping.insert(connection, row)]
    section.guard = guards.fail_when(
        connection, guards.recorded_any(connection, [row]), "shop.0001 is recorded"
    )
    script = render(runbook, format="sql")
    assert "DELIMITER" in script
    connection.close()
    run_parts("mysql", connection.settings_dict, script)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, hits FROM handmig_counted ORDER BY id")
        assert cursor.fetchall() == ((1, 1), (2, 5))
    assert ("shop", "0001_initial") in MigrationRecorder(
        connection
    ).applied_migrations()
    connection.close()


NESTED = """/* a /* b ; */ c ; */
CREATE TABLE handmig_nested (id integer);
INSERT INTO handmig_nested VALUES (1); /* after ; */
"""


@pytest.mark.skipif(
    "postgresql" not in selected_backends(),
    reason="needs HANDMIG_TEST_DATABASES=...postgresql",
)
def test_a_nested_comment_stays_whole_in_psql(backends):
    alias = "postgresql_scratch"
    connections[alias].close()
    create_database("postgresql", settings.DATABASES[alias]["NAME"])
    connection = connections[alias]
    MigrationRecorder(connection).ensure_schema()
    split = statements.split_all([NESTED], vendor="postgresql")
    assert len(split) == 2 and split[0].sql.startswith("/* a /* b ; */ c ; */")
    runbook = _one_statement_runbook(split[0])
    runbook.header.vendor = "postgresql"
    section = runbook.migrations[0]
    section.operations[0].statements = split
    section.record.statements = [
        bookkeeping.insert(connection, MigrationRow("shop", "0001_initial"))
    ]
    connection.close()
    run_parts("postgresql", connection.settings_dict, render(runbook, format="sql"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM handmig_nested")
        assert cursor.fetchall() == [(1,)]
    connection.close()


@pytest.mark.parametrize("backend", selected_backends())
def test_the_command_in_the_header_runs_the_script(backends, backend):
    """The script's header says how to run it: that exact command works."""
    import os
    import shlex
    import subprocess

    from handmig.runbook import build_runbook

    alias = f"{backend}_scratch"
    connections[alias].close()
    create_database(backend, settings.DATABASES[alias]["NAME"])
    runbook = build_runbook("shop", "0001", database_alias=alias)
    connections[alias].close()
    script = render(runbook, format="sql")
    assert f"-- Run it:    {runbook.header.client} < SCRIPT.sql" in script
    password = connections[alias].settings_dict.get("PASSWORD") or ""
    result = subprocess.run(
        shlex.split(runbook.header.client),
        input=script,
        capture_output=True,
        text=True,
        env={**os.environ, "PGPASSWORD": password, "MYSQL_PWD": password},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    recorded = MigrationRecorder(connections[alias]).applied_migrations()
    assert ("shop", "0001_initial") in recorded
    connections[alias].close()
