"""What a person must know before running each step, as flags and messages.

The rules look at Django's operations (not at SQL text): non-SQL steps are
found with ``reduces_to_sql`` and irreversible ones with ``reversible``, as
the migration executor itself decides.
"""

from __future__ import annotations

import inspect
import os

from django.apps import apps as installed_apps
from django.db.migrations.operations import RunPython

from handmig.errors import IrreversibleMigration
from handmig.model import Flag, PythonCode


def check_reversible(migrations) -> None:
    """Raise IrreversibleMigration naming every operation that has no reverse."""
    blocked = [
        (migration, number, operation)
        for migration in migrations
        for number, operation in enumerate(migration.operations, 1)
        if not operation.reversible
    ]
    if not blocked:
        return
    listed = "; ".join(
        f"{m.app_label}.{m.name} operation {number} ({_name(operation)})"
        for m, number, operation in blocked
    )
    what = "it has" if len(blocked) == 1 else "they have"
    raise IrreversibleMigration(
        f"Cannot reverse: {listed}: {what} no reverse. Add reverse code to the "
        "migration, or restore from a backup.",
        [(f"{m.app_label}.{m.name}", n, _name(o)) for m, n, o in blocked],
    )


def python_code(function) -> PythonCode | None:
    """Describe a callable by dotted path and source location."""
    if function is None:
        return None
    name = getattr(function, "__qualname__", None) or repr(function)
    module = getattr(function, "__module__", None)
    dotted = f"{module}.{name}" if module else name
    try:
        file = display_path(inspect.getsourcefile(function) or "") or None
        line = inspect.getsourcelines(function)[1]
    except (OSError, TypeError):
        file, line = None, None
    return PythonCode(
        callable=dotted, file=file, line=line, noop=function is RunPython.noop
    )


def non_sql_flag(
    operation, code: PythonCode | None, command: str, ran: bool = False
) -> Flag:
    """Return the flag for an operation that migrate runs as Python."""
    what = _describe(operation)
    if code is not None and code.noop:
        return Flag(
            "python-noop",
            "info",
            f"{what}: RunPython.noop in this direction, nothing to run.",
        )
    if code is not None:
        location = f" ({code.file}:{code.line})" if code.file else ""
        what = f"{code.callable}{location}"
    return Flag(
        "python-step",
        "danger",
        f"NOT SQL: this step runs Python, {what}, and no statement of this "
        f"runbook does what it does. If it must change this database's data, "
        f"apply this migration with '{command}' instead of by hand; if it has "
        "nothing to do here, go on without it. "
        + (
            "It ran on the shadow database: any SQL it issued itself is listed here."
            if ran
            else "SQL it issues itself shows only with --shadow."
        ),
    )


def introspection_flag(resolved: str) -> Flag:
    """Return the flag for SQL whose object names were read from a database."""
    return Flag(
        "introspected-names",
        "warning",
        f"Object names in this SQL were read from {resolved} when the runbook "
        "was generated; on any other database (staging, a restored copy) they "
        "may differ: regenerate it there.",
    )


def python_sql_flag(code: PythonCode | None) -> Flag:
    """Return the flag for SQL that a Python step issued itself (shadow mode)."""
    who = code.callable if code is not None else "the Python code"
    return Flag(
        "python-sql",
        "warning",
        f"{who} issued these statements through schema_editor.execute() when it "
        "ran on the shadow database; run them by hand here. What it did through "
        "the ORM is not replayed.",
    )


def data_loss_flag(table: str, column: str | None, holds_data: bool | None) -> Flag:
    """Return the flag for a step that drops a table or a column.

    ``holds_data`` is None when the probe could not tell in time.
    """
    what = f"column {table}.{column}" if column else f"table {table}"
    if holds_data is None:
        return Flag(
            "data-loss",
            "danger",
            f"This step drops {what}; whether it holds data on this database "
            "could not be told within the probe's time limit: assume it does, "
            "and back it up first if you may need it again.",
        )
    if holds_data:
        return Flag(
            "data-loss",
            "danger",
            f"This step drops {what}, which holds data on this database: back it "
            "up first if you may need it again.",
        )
    return Flag(
        "data-loss", "info", f"This step drops {what}, which is empty on this database."
    )


def transaction_flag(count: int) -> Flag | None:
    """Return the seed-003 note that a lone statement needs no BEGIN/COMMIT."""
    if count != 1:
        return None
    return Flag(
        "single-statement",
        "info",
        "There is a single statement: you may drop BEGIN and COMMIT to hold "
        "schema locks for slightly less time; the bookkeeping row then goes in "
        "its own transaction right after it.",
    )


def post_migrate_models(before, after) -> tuple[list[str], list[str], list[str]]:
    """Return models added, models removed and the permissions post_migrate adds."""
    added = sorted(set(after.models) - set(before.models))
    removed = sorted(set(before.models) - set(after.models))
    permissions = []
    if installed_apps.is_installed("django.contrib.auth"):
        for key in added:
            options = after.models[key].options
            for action in options.get(
                "default_permissions", ("add", "change", "delete", "view")
            ):
                permissions.append(f"{key[0]}.{action}_{key[1]}")
    return (
        [f"{app}.{after.models[(app, model)].name}" for app, model in added],
        [f"{app}.{before.models[(app, model)].name}" for app, model in removed],
        permissions,
    )


def display_path(path: str) -> str:
    """Return ``path`` relative to the working directory when it is inside it."""
    if not path:
        return ""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def description(operation) -> str:
    """Return what a person reads as the operation's title."""
    code = getattr(operation, "code", None)
    if not operation.reduces_to_sql and callable(code):
        return f"Run Python: {getattr(code, '__qualname__', repr(code))}"
    return _describe(operation)


def _name(operation) -> str:
    """Return the operation's description, with the function it runs if any."""
    code = python_code(getattr(operation, "code", None))
    if code is not None:
        return f"{type(operation).__name__} {code.callable}"
    return _describe(operation)


def _describe(operation) -> str:
    try:
        return operation.describe()
    except Exception:  # noqa: BLE001 - third-party describe() may fail
        return type(operation).__name__


def python_route_flag(migrate_command: str, fake_command: str) -> Flag:
    """Return the flag on a migration whose Python must run against real data."""
    return Flag(
        "run-with-django",
        "danger",
        "This migration runs Python that SQL cannot replace (see the STOP "
        f"steps). Apply the whole migration with Django at this point instead "
        f"of this section: '{migrate_command}' (it runs the SQL and the Python "
        "and records the migration; the migrations before it must be "
        "recorded, as this runbook does), and go on only once it is recorded. "
        "The SQL script stops here and hands it over the same way. If you "
        "have already run this section's SQL by hand, run the functions from "
        f"'python manage.py shell' and then record the migration with "
        f"'{fake_command}' instead of the bookkeeping step.",
    )
