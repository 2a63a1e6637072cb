"""Safety rules per statement, on the vendor where each applies: a sample
migration that triggers it, and one that must not."""

import django
import pytest
from django.apps import apps as global_apps
from django.db import connections

from handmig import build_runbook, render, timeouts
from handmig.errors import ConfigurationError
from tests.schema import migration_rows, run_parts, selected_backends
from tests.test_runbook_model import _scratch_at

BACKENDS = selected_backends()


def _rules(alias, app, name, backwards=False, **kwargs):
    runbook = build_runbook(
        app, name, backwards=backwards, database_alias=alias, **kwargs
    )
    connections[alias].close()
    section = runbook.migrations[0]
    found = {}
    for group in [op.statements for op in section.operations] + [section.deferred]:
        for statement in group:
            for rule in statement.rules:
                found.setdefault(rule, []).append(statement)
    return found


@pytest.mark.parametrize("backend", BACKENDS)
def test_rules_on_existing_tables(backends, backend):
    alias = _scratch_at(backend, ("shop", "0005"))
    found = _rules(alias, "shop", "0006")
    postgresql = backend == "postgresql"
    assert ("pg-create-index-lock" in found) is postgresql
    assert ("pg-add-check-validate" in found) is postgresql
    assert ("pg-unique-constraint-lock" in found) is postgresql

    alias = _scratch_at(backend, ("shop", "0002"))
    found = _rules(alias, "shop", "0003")
    assert ("pg-alter-column-type" in found) is postgresql
    # A longer varchar is a metadata change on MariaDB (ALGORITHM=INSTANT).
    assert "mysql-table-copy" not in found

    alias = _scratch_at(backend, ("shop", "0013"))
    found = _rules(alias, "shop", "0014")
    mysql = backend == "mysql"
    # integer to unsigned smallint with a check: a copy on MySQL/MariaDB.
    assert ("mysql-table-copy" in found) is mysql
    assert ("pg-alter-column-type" in found) is postgresql
    assert ("pg-set-not-null" in found) is postgresql
    if backend != "sqlite":  # SQLite rebuilds the table instead
        narrowed = next(s for group in found.values() for s in group)
        assert "percent" in narrowed.sql and narrowed.destructive
    # Silenced on request.
    quiet = _rules(
        alias, "shop", "0014", ignore=("pg-alter-column-type", "mysql-table-copy")
    )
    assert "pg-alter-column-type" not in quiet and "mysql-table-copy" not in quiet

    alias = _scratch_at(backend, ("shop", "0014"))
    found = _rules(alias, "shop", "0015")
    assert ("pg-add-foreign-key-validate" in found) is postgresql
    assert ("pg-create-index-lock" in found) is postgresql
    # Nothing of the sort on the table the same runbook creates.
    alias = _scratch_at(backend, ("shop", "0012"))
    found = _rules(alias, "shop", "0013")
    assert not found


@pytest.mark.parametrize("backend", BACKENDS)
def test_statements_are_classified(backends, backend):
    alias = _scratch_at(backend, ("shop", "0013"))
    runbook = build_runbook("shop", "0014", database_alias=alias)
    connections[alias].close()
    statements = [s for op in runbook.migrations[0].operations for s in op.statements]
    kinds = {s.kind for s in statements}
    assert {"alter", "index"} <= kinds
    assert all(
        s.table in ("shop_promotion", "new__shop_promotion") or s.kind == "session"
        for s in statements
    )
    update = next(s for s in statements if s.verb in ("UPDATE", "INSERT"))
    assert update.kind == "data" and not update.destructive
    index = next(s for s in statements if s.verb == "CREATE INDEX")
    expected = {
        "postgresql": "SHARE:",
        "mysql": "ALGORITHM=INPLACE:",
        "sqlite": "the database's write lock",
    }[backend]
    assert index.lock.startswith(expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_lock_rules_on_a_table_the_runbook_creates(backends, backend):
    alias = _scratch_at(backend)
    found = _rules(alias, "shop", "0001")
    # Indexes and foreign keys of brand new tables lock nothing anyone waits on.
    assert not set(found) - {"rename-in-use"}
    assert "rename-in-use" not in found


@pytest.mark.parametrize("backend", BACKENDS)
def test_renames_and_drops_with_their_backup(backends, backend):
    alias = _scratch_at(backend, ("shop", "0003"))
    assert "rename-in-use" in _rules(alias, "shop", "0004")

    alias = _scratch_at(backend, ("shop", "0004"))
    dropped = _rules(alias, "shop", "0005")["drop-column"][0]
    assert "subtitle" in dropped.backup and "shop_book" in dropped.backup
    assert dropped.flags[0].level == "danger"

    alias = _scratch_at(backend, ("shop", "0007"))
    found = _rules(alias, "shop", "0007", backwards=True)
    assert "shop_review" in found["drop-table"][0].backup
    if backend == "postgresql":
        assert "pg-drop-index-lock" not in found  # the table goes anyway

    alias = _scratch_at(backend, ("shop", "0006"))
    found = _rules(alias, "shop", "0006", backwards=True)
    assert ("pg-drop-index-lock" in found) is (backend == "postgresql")
    # A SQLite table rebuild drops the old table after copying it: no loss.
    assert "drop-table" not in found


@pytest.mark.parametrize("backend", BACKENDS)
def test_timeouts_run_in_the_shell_client(backends, backend):
    alias = _scratch_at(backend, ("shop", "0005"))
    runbook = build_runbook(
        "shop",
        "0006",
        database_alias=alias,
        lock_timeout=5000,
        statement_timeout=120000,
    )
    section = runbook.migrations[0]
    verbs = [s.sql.split(" = ")[0] for s in section.timeouts]
    expected = {
        "postgresql": ["SET LOCAL lock_timeout", "SET LOCAL statement_timeout"],
        "mysql": ["SET SESSION lock_wait_timeout", "SET SESSION max_statement_time"],
        "sqlite": ["PRAGMA busy_timeout"],
    }[backend]
    assert verbs == expected
    assert section.timeout_advice
    connections[alias].close()
    # The script with its timeouts runs as is, and does the migration.
    run_parts(backend, connections[alias].settings_dict, render(runbook, format="sql"))
    assert ("shop", "0006_book_indexes_constraints") in migration_rows(
        connections[alias]
    )
    connections[alias].close()


def test_durations():
    assert timeouts.parse("500ms") == 500
    assert timeouts.parse("5s") == 5000
    assert timeouts.parse("2min") == 120000
    assert timeouts.parse("3") == 3000
    with pytest.raises(ConfigurationError, match="500ms, 5s or 2min"):
        timeouts.parse("soon")


def _add_field_sql(alias, field):
    """Return the SQL Django writes to add ``field`` to shop.Book on ``alias``."""
    from django.db.migrations.state import ProjectState

    state = ProjectState.from_apps(global_apps)
    book = state.apps.get_model("shop", "Book")
    field.set_attributes_from_name("token")
    field.model = book
    with connections[alias].schema_editor(collect_sql=True, atomic=False) as editor:
        editor.add_field(book, field)
    return editor.collected_sql


@pytest.mark.skipif(django.VERSION < (5, 0), reason="db_default needs Django 5.0")
@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"])
def test_volatile_default_rewrites_the_table(backends, backend):
    from django.contrib.postgres.functions import RandomUUID
    from django.db import models
    from django.db.models.functions import Now

    from handmig import rules

    alias = _scratch_at(backend, ("shop", "0015"))
    volatile = _add_field_sql(alias, models.UUIDField(db_default=RandomUUID()))
    assert any(
        "pg-volatile-default" in rules.check(sql, "postgresql", set())
        for sql in volatile
    ), volatile
    # now() is evaluated once: PostgreSQL 11+ stores it without a rewrite.
    stable = _add_field_sql(alias, models.DateTimeField(db_default=Now()))
    assert not any(
        "pg-volatile-default" in rules.check(sql, "postgresql", set()) for sql in stable
    ), stable
    connections[alias].close()
