"""Build the runbook model for one migration: plan, collect, split, advise.

This is the core the CLI and the management command call; it reads the
database, never writes to it, and never prints.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import sys

import django
from django.db import DEFAULT_DB_ALIAS
from django.db.migrations.recorder import MigrationRecorder

import handmig
from handmig import advice, bookkeeping, database, planner, statements
from handmig.collector import collect
from handmig.model import (
    Check,
    Header,
    MigrationSection,
    OperationStep,
    PostStep,
    Runbook,
    Step,
)


def build_runbook(
    app_label: str,
    migration_name: str,
    *,
    backwards: bool = False,
    database_alias: str = DEFAULT_DB_ALIAS,
) -> Runbook:
    """Return the runbook that applies (or reverses) one migration by hand.

    ``migration_name`` is a unique prefix of the name, as with sqlmigrate.
    """
    with database.read_only(database_alias) as (connection, notes):
        executor = planner.load(connection)
        migration = planner.resolve(executor.loader, app_label, migration_name)
        if backwards:
            advice.check_reversible(migration)
        planned = planner.plan_one(executor, migration, backwards)
        collected = collect(connection, migration, planned.state, backwards)
        section = _section(connection, migration, collected, backwards)
        has_table = MigrationRecorder(connection).has_table()
        return Runbook(
            title=_title(migration, backwards),
            direction="backward" if backwards else "forward",
            header=_header(connection),
            before=_before(connection, has_table, backwards),
            preflight=_preflight(connection, planned, has_table),
            migrations=[section],
            after=[],
            verify=_verify(connection, migration, backwards),
            post=_post(connection, planned, collected),
            warnings=notes + planned.warnings,
        )


def _title(migration, backwards: bool) -> str:
    verb = "Reverse" if backwards else "Apply"
    return f"{verb} {migration.app_label}.{migration.name}"


def _header(connection) -> Header:
    vendor_display, version = database.server_version(connection)
    return Header(
        handmig_version=handmig.__version__,
        django_version=django.get_version(),
        database=connection.alias,
        vendor=connection.vendor,
        vendor_display=vendor_display,
        server_version=version,
        settings=os.environ.get("DJANGO_SETTINGS_MODULE"),
        generated_at=datetime.datetime.now(datetime.timezone.utc)
        .replace(microsecond=0)
        .isoformat(),
    )


def _section(connection, migration, collected, backwards: bool) -> MigrationSection:
    command = _migrate_command(connection, migration.app_label, migration.name)
    operations = []
    for item in collected.operations:
        operation = item.operation
        code = getattr(operation, "reverse_code" if backwards else "code", None)
        undo = getattr(operation, "code" if backwards else "reverse_code", None)
        step = OperationStep(
            number=item.number,
            type=type(operation).__name__,
            description=advice.description(operation),
            writes_sql=operation.reduces_to_sql,
            reversible=operation.reversible,
            statements=statements.split_all(item.chunks),
            python=advice.python_code(code),
            reverse_python=advice.python_code(undo),
            introspected_from=connection.alias if item.introspected else None,
        )
        if not operation.reduces_to_sql:
            step.flags.append(advice.non_sql_flag(operation, step.python, command))
        if item.introspected and step.statements:
            step.flags.append(advice.introspection_flag(connection.alias))
        operations.append(step)

    by_number = {step.number: step for step in operations}
    deferred = []
    for origin, chunk in collected.deferred:
        described = by_number[origin].description if origin in by_number else None
        deferred.extend(
            statements.split_all([chunk], origin=origin, origin_description=described)
        )

    count = sum(len(step.statements) for step in operations) + len(deferred)
    # migrate wraps the migration in a transaction only where DDL can be
    # rolled back, and only for atomic migrations (trap 5).
    transactional = migration.atomic and connection.features.can_rollback_ddl
    module = sys.modules[type(migration).__module__]
    path = getattr(module, "__file__", None) or ""
    section = MigrationSection(
        app=migration.app_label,
        name=migration.name,
        file=advice.display_path(path),
        sha256=_sha256(path),
        atomic=migration.atomic,
        transactional=transactional,
        replaces=bookkeeping.rows(migration)[:-1],
        operations=operations,
        deferred=deferred,
        record=bookkeeping.record(connection, migration, backwards),
        begin=statements.make("BEGIN;") if transactional else None,
        commit=statements.make("COMMIT;") if transactional else None,
        statement_count=count,
    )
    if transactional:
        flag = advice.transaction_flag(count)
        if flag:
            section.flags.append(flag)
    return section


def _before(connection, has_table: bool, backwards: bool) -> list[Step]:
    steps = []
    if connection.vendor == "sqlite":
        steps.append(
            Step(
                title="Turn off foreign key enforcement for this session.",
                statements=[statements.make("PRAGMA foreign_keys = OFF;")],
                note="Django's SQLite schema editor does the same: tables are "
                "rebuilt while other tables still point at them. It has no "
                "effect inside a transaction, so run it first.",
            )
        )
    if not has_table and not backwards:
        steps.append(
            Step(
                title=f"Create {bookkeeping.TABLE}, as migrate does on a new database.",
                statements=bookkeeping.create_table(connection),
                note=f"{bookkeeping.TABLE} did not exist when the runbook was "
                "generated.",
            )
        )
    return steps


def _preflight(connection, planned, has_table: bool) -> list[Check]:
    migration = planned.migration
    own = bookkeeping.rows(migration)
    label = f"{migration.app_label}.{migration.name}"
    if not has_table:
        return [bookkeeping.table_check(connection)]
    if planned.backwards:
        checks = [
            bookkeeping.presence_check(
                connection, own, True, f"Confirm that {label} is recorded as applied."
            )
        ]
        if planned.children:
            checks.append(
                bookkeeping.presence_check(
                    connection,
                    [
                        bookkeeping.MigrationRow(app, name)
                        for app, name in planned.children
                    ],
                    False,
                    "Confirm that no migration depending on it is applied.",
                )
            )
        return checks
    checks = [
        bookkeeping.presence_check(
            connection, own, False, f"Confirm that {label} is not recorded yet."
        )
    ]
    if planned.parents:
        checks.append(
            bookkeeping.presence_check(
                connection,
                [bookkeeping.MigrationRow(app, name) for app, name in planned.parents],
                True,
                "Confirm that the migrations it depends on are applied.",
            )
        )
    return checks


def _verify(connection, migration, backwards: bool) -> list[Check]:
    label = f"{migration.app_label}.{migration.name}"
    checks = []
    if connection.vendor == "sqlite":
        checks.append(
            Check(
                title="Check that every foreign key still points at a row, as "
                "Django's SQLite schema editor does.",
                sql="PRAGMA foreign_key_check;",
                expect="no rows",
            )
        )
    title = (
        f"Confirm that {label} is no longer recorded."
        if backwards
        else f"Confirm that {label} is recorded as applied."
    )
    checks.append(
        bookkeeping.presence_check(
            connection, bookkeeping.rows(migration), not backwards, title
        )
    )
    return checks


def _post(connection, planned, collected) -> PostStep:
    migration = planned.migration
    if planned.backwards:
        parents = [name for app, name in planned.parents if app == migration.app_label]
        target = parents[0] if parents else "zero"
    else:
        target = migration.name
    command = _migrate_command(connection, migration.app_label, target)
    added, removed, permissions = advice.post_migrate_models(
        collected.state_before, collected.state_after
    )
    parts = [
        f"When convenient (usually with the next deploy), run '{command}'. It finds "
        "nothing to run, but sends post_migrate, whose handlers do what this "
        "runbook does not."
    ]
    if added:
        parts.append(
            "Content types and permissions appear then for: " + ", ".join(added) + "."
        )
    if removed:
        parts.append(
            "Content types and permissions of "
            + ", ".join(removed)
            + " stay behind; 'manage.py remove_stale_contenttypes' deletes them."
        )
    return PostStep(
        command=command,
        models_added=added,
        models_removed=removed,
        permissions_added=permissions,
        message=" ".join(parts),
    )


def _migrate_command(connection, app_label: str, target: str) -> str:
    command = f"python manage.py migrate {app_label} {target}"
    if connection.alias != DEFAULT_DB_ALIAS:
        command += f" --database {connection.alias}"
    return command


def _sha256(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return ""
