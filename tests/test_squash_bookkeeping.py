"""Squashed migrations recorded as migrate records them at the end of a run.

``MigrationExecutor.check_replacements`` records a squashed migration once
every migration it replaces is recorded, at the end of every run, even one
with nothing else to do. And rows of replaced migrations are bookkeeping,
never orphans, whether or not their files are still there.
"""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from handmig import render
from handmig.runbook import build_plan
from handmig.status import status
from tests.schema import (
    create_database,
    django_commands,
    dump_schema,
    migration_rows,
    run_parts,
    selected_backends,
)

SQUASH = ("inventory", "0001_squashed_0003_stock_location")
REPLACED = ("0001_initial", "0002_stock", "0003_stock_location")


def _pair(backend):
    pair = (f"{backend}_a", f"{backend}_b")
    for alias in pair:
        connections[alias].close()
        create_database(backend, settings.DATABASES[alias]["NAME"])
    return pair


def _forget_the_squash(alias):
    """Delete the squash's own row: a database migrated before it existed."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = %s AND name = %s", SQUASH
        )
    connections[alias].close()


def _apply_replaced(alias, names):
    """Apply replaced migrations one by one, as migrate did before the squash."""
    executor = MigrationExecutor(connections[alias])
    state = executor._create_project_state(with_applied_migrations=True)
    for name in names:
        migration = executor.loader.disk_migrations[("inventory", name)]
        state = executor.apply_migration(state, migration)
    connections[alias].close()


def _run_plan(backend, a, *args):
    runbook = build_plan(*args, database_alias=a)
    connections[a].close()
    run_parts(
        backend,
        connections[a].settings_dict,
        render(runbook, format="sql"),
        django_commands(a),
    )
    return runbook


@pytest.mark.parametrize("backend", selected_backends())
def test_nothing_to_migrate_still_records_the_squash(backends, backend):
    a, b = _pair(backend)
    for alias in (a, b):
        call_command("migrate", "inventory", database=alias, verbosity=0)
        _forget_the_squash(alias)
    runbook = _run_plan(backend, a, "inventory")
    assert runbook.migrations == []
    assert runbook.title == "Record 1 squashed migration(s), as migrate would"
    call_command("migrate", "inventory", database=b, verbosity=0)
    assert SQUASH in migration_rows(connections[a])
    assert migration_rows(connections[a]) == migration_rows(connections[b])
    connections[a].close()
    connections[b].close()


@pytest.mark.parametrize("backend", selected_backends())
def test_the_rest_of_a_partly_applied_squash_records_the_squash_too(backends, backend):
    a, b = _pair(backend)
    for alias in (a, b):
        call_command("migrate", "shop", "0001", database=alias, verbosity=0)
        _apply_replaced(alias, REPLACED[:2])
    runbook = _run_plan(backend, a, "inventory")
    # The graph runs the replaced migration left, then records the squash.
    names = [f"{m.app}.{m.name}" for m in runbook.migrations]
    assert (
        "inventory.0003_stock_location" in names
        and "inventory.0001_squashed" not in str(names)
    )
    assert runbook.after and SQUASH[1] in runbook.after[0].statements[0].sql
    call_command("migrate", "inventory", database=b, verbosity=0)
    assert SQUASH in migration_rows(connections[a])
    assert migration_rows(connections[a]) == migration_rows(connections[b])
    assert dump_schema(connections[a]) == dump_schema(connections[b])
    connections[a].close()
    connections[b].close()


@pytest.mark.parametrize("backend", selected_backends())
def test_rows_of_replaced_migrations_without_files_are_not_orphans(
    backends, backend, monkeypatch
):
    a, _ = _pair(backend)
    call_command("migrate", "inventory", database=a, verbosity=0)
    connections[a].close()
    load_disk = MigrationLoader.load_disk

    def without_the_replaced_files(self):
        # As after the squash is released: the replaced files are deleted.
        load_disk(self)
        for name in REPLACED:
            self.disk_migrations.pop(("inventory", name), None)

    monkeypatch.setattr(MigrationLoader, "load_disk", without_the_replaced_files)
    found = status("inventory", database_alias=a)
    assert [p for p in found.problems if p.kind == "orphan"] == []
    # A row that no file and no squash names is still one.
    with connections[a].cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('inventory', '0009_gone', CURRENT_TIMESTAMP)"
        )
    connections[a].close()
    found = status("inventory", database_alias=a)
    assert [p.message.split(" ")[0] for p in found.problems if p.kind == "orphan"] == [
        "inventory.0009_gone"
    ]
    connections[a].close()
