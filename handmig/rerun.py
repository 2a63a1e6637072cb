"""Rerun an applied migration: fake back, run it, fake forward.

The recipe from the field (seeds 000, 001) with the real names filled in
from the graph and django_migrations, and the same done in SQL by hand.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS
from django.db.migrations.recorder import MigrationRecorder

from handmig import bookkeeping, database, guards, planner
from handmig.collector import collect
from handmig.errors import LookupFailed
from handmig.model import Bookkeeping, CommandStep, MigrationRow, Runbook
from handmig.runbook import _header, _post, _section


def build_rerun(
    app_label: str, migration_name: str, *, database_alias: str = DEFAULT_DB_ALIAS
) -> Runbook:
    """Return the runbook that runs an applied migration once more."""
    with database.read_only(database_alias) as (connection, notes):
        executor = planner.load(connection)
        loader = executor.loader
        migration = planner.resolve(loader, app_label, migration_name)
        key = (migration.app_label, migration.name)
        applied = {k for k in loader.applied_migrations if k in loader.graph.nodes}
        if key not in applied:
            raise LookupFailed(
                f"{key[0]}.{key[1]} is not applied, so there is nothing to rerun; "
                f"apply it with 'handmig runbook {key[0]} {key[1]}'."
            )
        graph = loader.graph
        # migrate --fake APP PREVIOUS un-records the migration and everything
        # applied that depends on it, in any app.
        faked = [k for k in graph.backwards_plan(key) if k in applied]
        later = [k for k in faked if k != key]
        parents = [p.key[1] for p in graph.node_map[key].parents if p.key[0] == key[0]]
        previous = parents[0] if parents else "zero"
        planned = planner.plan_one(executor, migration, False)
        # The SQL the migration runs, from the state before it.
        collected = collect(connection, migration, planned.state, False)
        section = _section(
            connection, planned, collected, False, f"database '{connection.alias}'"
        )
        alias = (
            ""
            if connection.alias == DEFAULT_DB_ALIAS
            else f" --database {connection.alias}"
        )
        restore = _latest_per_app(graph, later)
        commands = [
            CommandStep(
                "See the migration state before you start, to compare at the end.",
                f"python manage.py showmigrations{alias}",
            ),
            CommandStep(
                f"Fake back to {previous}.",
                f"python manage.py migrate --fake {key[0]} {previous}{alias}",
                "This removes the records of "
                + ", ".join(f"{a}.{n}" for a, n in faked)
                + "; nothing in the schema changes.",
            ),
            CommandStep(
                f"Run {key[1]} again.",
                f"python manage.py migrate {key[0]} {key[1]}{alias}",
            ),
        ]
        for app, name in restore:
            commands.append(
                CommandStep(
                    f"Fake forward {app} to {name}, where it was.",
                    f"python manage.py migrate --fake {app} {name}{alias}",
                )
            )
        commands.append(
            CommandStep(
                "Compare with the state you noted first.",
                f"python manage.py showmigrations{alias}",
            )
        )
        reversible = all(
            op.reversible for k in faked for op in graph.nodes[k].operations
        )
        warnings = notes + _cautions(migration, key, previous, later, alias, reversible)
        rows = [MigrationRow(a, n) for a, n in faked]
        again = section.record.rows + [MigrationRow(*k) for k in reversed(later)]
        # Fake back and forward in the migration's own transaction (where the
        # vendor has one): when the rerun fails, its records are still there.
        section.record = Bookkeeping(
            "rerun",
            again,
            [bookkeeping.delete(connection, rows)]
            + [bookkeeping.insert(connection, row) for row in again],
        )
        section.guard = _unchanged_guard(connection, key)
        return Runbook(
            title=f"Rerun {key[0]}.{key[1]}",
            kind="rerun",
            direction="forward",
            header=_header(connection),
            before=[],
            preflight=[
                bookkeeping.presence_check(
                    connection, rows, True, "Confirm that these are recorded now."
                )
            ],
            migrations=[section],
            after=[],
            verify=[
                bookkeeping.presence_check(
                    connection,
                    rows,
                    True,
                    "Confirm that all of them are recorded again.",
                )
            ],
            post=_post(
                connection, planner.Plan(False, [planned], None, [], ""), "runbook", []
            ),
            warnings=warnings,
            commands=commands,
        )


def _unchanged_guard(connection, key):
    """Return the guard that stops the script once the rerun has happened.

    The rerun deletes the migration's row and inserts it again, under a new
    id: a row with the id read now proves it has not run yet.
    """
    recorder = MigrationRecorder(connection)
    found = recorder.migration_qs.filter(app=key[0], name=key[1]).order_by("id")
    ids = list(found.values_list("id", flat=True))
    q = connection.ops.quote_name
    condition = guards.negate(
        f"EXISTS (SELECT 1 FROM {bookkeeping.quoted_table(connection)} WHERE "
        f"{bookkeeping.match(connection, [MigrationRow(*key)])} "
        f"AND {q('id')} = {ids[0] if ids else 0})"
    )
    return guards.fail_when(
        connection,
        condition,
        f"{key[0]}.{key[1]} was recorded again after this script was "
        "generated, so it was not rerun a second time; generate the rerun "
        "again if it must run once more.",
    )


def _latest_per_app(graph, keys):
    """Return, per app, the last of ``keys`` in the order migrate applies them."""
    latest: dict[str, str] = {}
    for app, name in reversed(keys):  # backwards_plan lists dependants first
        latest[app] = name
    return list(latest.items())


def _cautions(migration, key, previous, later, alias, reversible):
    cautions = []
    data = [
        op
        for op in migration.operations
        if type(op).__name__ in ("RunPython", "RunSQL")
    ]
    schema = [op for op in migration.operations if op not in data]
    if data:
        cautions.append(
            "Rerunning runs its data steps again: they must be idempotent "
            "(get_or_create, or delete and recreate), or you get duplicates."
        )
    if schema:
        cautions.append(
            "It also changes the schema; those steps fail on objects that already "
            "exist unless you undo them first. Rerunning is meant for data "
            "migrations."
        )
    if reversible:
        also = (
            " (this really reverses "
            + ", ".join(f"{a}.{n}" for a, n in later)
            + " too)"
            if later
            else ""
        )
        cautions.append(
            "It can be reversed, which avoids --fake: 'python manage.py migrate "
            f"{key[0]} {previous}{alias}' then 'python manage.py migrate {key[0]} "
            f"{key[1]}{alias}'{also}."
        )
    cautions.append(
        "--fake changes only the records; used wrongly it leaves django_migrations "
        "out of step with the schema, which then needs repair by hand."
    )
    return cautions
