"""The proof: handmig's SQL, run by the vendor's shell client, leaves the same
schema and django_migrations rows as Django's migrate.

For every backend under test, the sample project's whole history (Django's
own contrib migrations included) is walked up one migration at a time and
then down to zero. At each step, database A gets the runbook's ``--format
sql`` script through sqlite3/psql/mariadb, twin database B gets ``migrate``,
and the two are compared.
"""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.loader import MigrationLoader

from handmig import bookkeeping, build_runbook, render
from handmig.errors import IrreversibleMigration
from tests.schema import (
    create_database,
    django_commands,
    dump_schema,
    migration_rows,
    run_parts,
    run_script,
    selected_backends,
)
from tests.walk import backward_target, steps

STEPS = steps()
_broken: dict[str, str] = {}


def _cases():
    for backend in selected_backends():
        for index, (direction, app, name) in enumerate(STEPS):
            yield pytest.param(
                backend,
                index,
                direction,
                app,
                name,
                id=f"{backend}-{index:02d}-{direction}-{app}.{name}",
            )


@pytest.mark.parametrize("backend,index,direction,app,name", list(_cases()))
def test_runbook_matches_migrate(backends, backend, index, direction, app, name):
    if backend in _broken:
        pytest.fail(f"the walk stopped at {_broken[backend]}; states differ from here")
    _broken[backend] = f"step {index}"
    a, b = f"{backend}_a", f"{backend}_b"
    if index == 0:
        # The walk starts from two empty databases, whatever ran before.
        for alias in (a, b):
            connections[alias].close()
            create_database(backend, settings.DATABASES[alias]["NAME"])
    backwards = direction == "backward"

    if backwards and not _reversible(app, name):
        with pytest.raises(IrreversibleMigration):
            build_runbook(app, name, backwards=True, database_alias=a)
        with pytest.raises(IrreversibleError):
            call_command(
                "migrate",
                app,
                backward_target(app, name),
                database=b,
                verbosity=0,
                interactive=False,
            )
        # Both refuse; record the reversal so the walk can go on: by hand on
        # A (migrate --fake would run post_migrate there), with --fake on B.
        migration = _migration(app, name)
        record = bookkeeping.record(connections[a], migration, backwards=True)
        connections[a].close()
        run_script(
            backend,
            connections[a].settings_dict,
            "\n".join(statement.sql for statement in record.statements),
        )
        call_command(
            "migrate",
            app,
            backward_target(app, name),
            database=b,
            fake=True,
            verbosity=0,
            interactive=False,
        )
    else:
        # Python steps run on a shadow, where SQL they issue themselves is
        # captured; SQLite does that unasked.
        shadow = "always" if _runs_python(app, name, backwards) else "auto"
        runbook = build_runbook(
            app, name, backwards=backwards, database_alias=a, shadow=shadow
        )
        script = render(runbook, format="sql")
        connections[a].close()
        run_parts(backend, connections[a].settings_dict, script, django_commands(a))
        target = backward_target(app, name) if backwards else name
        call_command("migrate", app, target, database=b, verbosity=0, interactive=False)

    assert migration_rows(connections[a]) == migration_rows(connections[b])
    assert dump_schema(connections[a]) == dump_schema(connections[b])
    for alias in (a, b):
        connections[alias].close()
    del _broken[backend]


def _migration(app, name):
    return MigrationLoader(None, ignore_no_migrations=True).graph.nodes[(app, name)]


def _reversible(app, name):
    return all(operation.reversible for operation in _migration(app, name).operations)


def _runs_python(app, name, backwards):
    for operation in _migration(app, name).operations:
        code = getattr(operation, "reverse_code" if backwards else "code", None)
        if callable(code) and code is not getattr(type(operation), "noop", None):
            return True
    return False
