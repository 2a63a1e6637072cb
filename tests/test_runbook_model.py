"""What the runbook model says about one migration, on each backend."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from handmig import build_runbook
from tests.schema import create_database, selected_backends


def _scratch_at(backend, *targets):
    """Return the alias of a fresh scratch database migrated to ``targets``."""
    alias = f"{backend}_scratch"
    connections[alias].close()
    create_database(backend, settings.DATABASES[alias]["NAME"])
    for app, name in targets:
        call_command("migrate", app, name, database=alias, verbosity=0)
    connections[alias].close()
    return alias


def _flag_ids(items):
    return {flag.id for item in items for flag in item.flags}


@pytest.mark.parametrize("backend", selected_backends())
def test_deferred_sql_names_the_operation_that_queued_it(backends, backend):
    alias = _scratch_at(backend)
    section = build_runbook("shop", "0001", database_alias=alias).migrations[0]
    assert section.deferred, "CreateModel with an FK and an index defers SQL"
    book = next(
        op for op in section.operations if op.description == "Create model Book"
    )
    for statement in section.deferred:
        assert statement.origin in {op.number for op in section.operations}
        assert statement.origin_description
    assert any(
        s.origin == book.number and "shop_book_title_idx" in s.sql
        for s in section.deferred
    )


@pytest.mark.parametrize("backend", selected_backends())
def test_transaction_as_migrate_runs_it(backends, backend):
    alias = _scratch_at(backend, ("shop", "0010"))
    atomic = build_runbook("shop", "0002", database_alias=alias).migrations[0]
    non_atomic = build_runbook("shop", "0011", database_alias=alias).migrations[0]
    rolls_back_ddl = connections[alias].features.can_rollback_ddl
    assert atomic.transactional is rolls_back_ddl
    assert (atomic.begin is not None) is rolls_back_ddl
    assert non_atomic.transactional is False and non_atomic.begin is None


@pytest.mark.parametrize("backend", selected_backends())
def test_single_statement_may_drop_the_transaction(backends, backend):
    alias = _scratch_at(backend, ("shop", "0004"))
    section = build_runbook("shop", "0005", database_alias=alias).migrations[0]
    single = "single-statement" in _flag_ids([section])
    assert single is (section.transactional and section.statement_count == 1)
    if backend == "postgresql":
        assert single  # DROP COLUMN is one statement there


@pytest.mark.parametrize("backend", selected_backends())
def test_names_read_from_the_catalog_are_flagged(backends, backend):
    alias = _scratch_at(backend, ("shop", "0008"))
    forward_ops = build_runbook("shop", "0008", database_alias=alias).migrations[0]
    backward = build_runbook("shop", "0008", backwards=True, database_alias=alias)
    backward_ops = backward.migrations[0].operations
    # Adding unique_together needs no lookup; dropping it asks the database
    # for the constraint's name, on every backend.
    assert "introspected-names" not in _flag_ids(forward_ops.operations)
    assert "introspected-names" in _flag_ids(backward_ops)
    assert backward_ops[0].introspected_from == f"database '{alias}'"


@pytest.mark.parametrize("backend", selected_backends())
def test_python_steps_are_flagged_with_their_function(backends, backend):
    alias = _scratch_at(backend, ("shop", "0009"))
    section = build_runbook("shop", "0010", database_alias=alias).migrations[0]
    first, _, last = section.operations
    assert first.python.callable.endswith("0010_author_bio_backfill.add_unknown_author")
    assert first.python.line == 4
    assert [f.id for f in first.flags] == ["python-step"]
    assert last.reverse_python.noop
    alias = _scratch_at(backend, ("shop", "0010"))
    backward = build_runbook("shop", "0010", backwards=True, database_alias=alias)
    # Unapplying runs the operations in reverse, each with its reverse code.
    numbers = [op.number for op in backward.migrations[0].operations]
    assert numbers == [3, 2, 1]
    assert [f.id for f in backward.migrations[0].operations[0].flags] == ["python-noop"]


@pytest.mark.parametrize("backend", selected_backends())
def test_warnings_when_the_database_is_not_where_the_migration_starts(
    backends, backend
):
    alias = _scratch_at(backend, ("shop", "0002"))
    ahead = build_runbook("shop", "0004", database_alias=alias)
    assert any("0003_alter_title_author_name" in w for w in ahead.warnings)
    again = build_runbook("shop", "0002", database_alias=alias)
    assert any("already recorded as applied" in w for w in again.warnings)
    behind = build_runbook("shop", "0001", backwards=True, database_alias=alias)
    assert any("Reverse these applied migrations first" in w for w in behind.warnings)


@pytest.mark.parametrize("backend", selected_backends())
def test_sql_issued_by_python_is_in_the_runbook_with_a_shadow(backends, backend):
    alias = _scratch_at(backend, ("reports", "0002"))
    step = (
        build_runbook("reports", "0003", database_alias=alias, shadow="always")
        .migrations[0]
        .operations[0]
    )
    assert step.type == "RunPython"
    assert [s.verb for s in step.statements] == ["CREATE INDEX"]
    assert "reports_report_note_idx" in step.statements[0].sql
    assert {"python-step", "python-sql"} <= {f.id for f in step.flags}
    assert (
        "add_note_index" in next(f for f in step.flags if f.id == "python-sql").message
    )

    without = build_runbook("reports", "0003", database_alias=alias, shadow="never")
    blind = without.migrations[0].operations[0]
    assert blind.statements == []
    assert "only with --shadow" in blind.flags[0].message
    # The target itself was only read.
    assert "reports_report_note_idx" not in str(
        connections[alias].introspection.get_constraints(
            connections[alias].cursor(), "reports_report"
        )
    )
    connections[alias].close()
