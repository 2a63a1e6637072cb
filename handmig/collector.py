"""Collect the SQL of one migration, operation by operation.

This walks the operations the way ``Migration.apply`` and
``Migration.unapply`` do, and keeps the SQL of each operation apart so the
runbook can put every statement under the operation that produced it.
Deferred SQL (indexes and foreign keys Django creates at the end of the
migration) is traced back to the operation that queued it.

Two modes:
- collect: a schema editor in collect mode, as ``sqlmigrate`` uses; nothing
  runs, Python operations are skipped.
- execute: a real schema editor on a shadow database; everything runs,
  including Python operations, and every statement the schema editor
  executes is captured, also those a RunPython function issues through
  ``schema_editor.execute()``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from django.db import transaction

from handmig import classify
from handmig.errors import OfflineNeedsDatabase
from handmig.replay import Replay
from handmig.states import Progression, rendered_apps

# Introspection methods whose answers end up as object names in the SQL
# (constraint and index names, sequences): the SQL is only right for the
# database they were read from.
_INTROSPECTION_METHODS = (
    "get_constraints",
    "get_relations",
    "get_sequences",
    "get_primary_key_column",
    "get_primary_key_columns",
    "get_table_description",
    "get_table_list",
    "table_names",
    "sequence_list",
)
# Operations that keep data under a new name rather than dropping it.
_RENAMES = {"RenameField", "RenameModel", "RenameIndex"}


@dataclass
class CollectedOperation:
    number: int  # 1-based position in Migration.operations
    operation: object
    chunks: list[str] = field(default_factory=list)
    introspected: list[str] = field(default_factory=list)  # tables looked up
    # (table, kinds) of each constraint-name lookup: unique, index, check...
    lookups: list[tuple[str, set[str]]] = field(default_factory=list)
    ran_python: bool = False  # executed (shadow); its chunks came from Python
    dropped: list[tuple[str, str | None]] = field(default_factory=list)
    # The table the operation works on, as it was before: what its ALTERs
    # cost on MySQL/MariaDB, and whether online schema tools can take them.
    tables: dict[str, classify.Table] = field(default_factory=dict)


@dataclass
class CollectedMigration:
    operations: list[CollectedOperation]  # in execution order
    deferred: list[tuple[int | None, str]]  # (origin operation number, SQL)
    state_before: object  # ProjectState before the operations ran
    state_after: object  # ProjectState after them


def collect(
    connection,
    migration,
    state,
    backwards=False,
    *,
    replay: Replay | None = None,
    offline=False,
) -> CollectedMigration:
    """Collect the SQL of ``migration`` applied (or unapplied) from ``state``.

    ``state`` must be the project state right before the migration, computed
    as the executor computes it. Forwards it may be a Progression, which the
    migration then progresses (a plan carries one through all its
    migrations); a ProjectState is left alone. With ``replay``, the
    migration runs on ``connection``, which must be a shadow database:
    Python steps too, and its statements as soon as anything reads the
    shadow. ``offline`` never reaches the database: asking its catalog
    raises OfflineNeedsDatabase.
    """
    if backwards:
        # The executor renders the state before unapplying a migration, and
        # the order in which states are rendered decides the field order of
        # tables SQLite rebuilds (sqlmigrate skips this and can get it wrong).
        state.apps  # noqa: B018 - rendering is the point
        steps, end_state = _backward_steps(migration, state)
        start_state = state
    else:
        if isinstance(state, Progression):
            progression = state
        else:
            progression = Progression(state.clone())
        # The project state changes in place; keep what it was for the
        # runbook's post_migrate step.
        start_state = _ModelsOnly(dict(progression.state.models))
        end_state = progression.state
        steps = progression.steps(migration)
    # Offline there is no transaction to open; it changes no SQL collected.
    atomic = migration.atomic and not offline
    if replay is not None and not migration.atomic:
        # What runs outside a transaction (CREATE INDEX CONCURRENTLY) must
        # not be caught up inside another migration's.
        replay.flush()
    with connection.schema_editor(collect_sql=True, atomic=atomic) as editor:
        _quote_as_text(editor)
        sink = editor.collected_sql
        if replay is not None:
            _replaying(editor, replay)
        origins: dict[int, int] = {}
        queued: list[object] = []  # keeps queued statements alive for id()
        collected = []
        for number, operation, from_state, to_state in steps:
            item = CollectedOperation(number, operation)
            collected.append(item)
            if not operation.reduces_to_sql:
                if replay is None:
                    # migrate runs it as Python; there is no SQL to collect.
                    continue
                item.ran_python = True
            item.tables = _tables(
                connection, migration.app_label, operation, from_state
            )
            start = len(sink)
            with (
                _watch_introspection(connection, offline, replay) as seen,
                _watch_lookups(editor, refuse=offline) as lookups,
                _running_python(editor, replay, item.ran_python),
            ):
                _run(
                    migration,
                    operation,
                    editor,
                    from_state,
                    to_state,
                    backwards,
                    offline,
                )
            item.chunks = list(sink[start:])
            item.introspected = seen
            item.lookups = lookups
            if operation.reduces_to_sql:
                item.dropped = _dropped(migration, operation, from_state, to_state)
            for sql in editor.deferred_sql:
                if id(sql) not in origins:
                    origins[id(sql)] = number
                    queued.append(sql)
        pending = [origins.get(id(sql)) for sql in editor.deferred_sql]
        before_exit = len(sink)
    if replay is not None and not migration.atomic:
        replay.flush()
    # Leaving the editor executed (or collected) the deferred SQL, one entry
    # per queued statement, in queue order.
    deferred = list(zip(pending, sink[before_exit:], strict=True))
    if backwards:
        return CollectedMigration(collected, deferred, end_state, start_state)
    return CollectedMigration(collected, deferred, start_state, end_state)


@dataclass
class _ModelsOnly:
    """The model states of a project state, for comparing before and after."""

    models: dict


def _backward_steps(migration, state):
    """Return the steps of Migration.unapply: every intermediate state first."""
    to_run = []
    new_state = state
    for number, operation in enumerate(migration.operations, 1):
        new_state = new_state.clone()
        old_state = new_state.clone()
        operation.state_forwards(migration.app_label, new_state)
        # Unapplying goes from the state after the operation to the one before.
        to_run.insert(0, (number, operation, new_state, old_state))
    return to_run, new_state


def _tables(connection, app_label, operation, state) -> dict[str, classify.Table]:
    """Return the table of the model ``operation`` works on, as in ``state``."""
    name = getattr(operation, "model_name", None) or getattr(operation, "name", None)
    # Only a state that is rendered already: rendering one costs more than
    # the answer is worth.
    apps = rendered_apps(state)
    if not isinstance(name, str) or apps is None:
        return {}
    if (app_label, name.lower()) not in state.models:
        return {}
    model = apps.get_model(app_label, name)
    return {model._meta.db_table: classify.read_table(model, connection)}


def _run(migration, operation, editor, from_state, to_state, backwards, offline):
    """Run one operation's database method the way the Migration class does."""
    method = operation.database_backwards if backwards else operation.database_forwards
    atomic_operation = operation.atomic or (
        migration.atomic and operation.atomic is not False
    )
    if not editor.atomic_migration and atomic_operation and not offline:
        # Migration.apply forces a transaction here on backends without
        # transactional DDL; some operations look at in_atomic_block.
        with transaction.atomic(editor.connection.alias):
            method(migration.app_label, editor, from_state, to_state)
    else:
        method(migration.app_label, editor, from_state, to_state)


def _quote_as_text(editor) -> None:
    """Make the editor's quoted values text, as the SQL it collects must be.

    MySQLdb escapes some values to bytes (a UUID where MariaDB has a native
    UUID type), and Django puts those into the SQL as b'...'.
    """
    quote = editor.quote_value

    def quote_value(value):
        quoted = quote(value)
        return quoted.decode() if isinstance(quoted, bytes) else quoted

    editor.quote_value = quote_value


def _replaying(editor, replay) -> None:
    """Queue every statement the editor collects to run on the shadow.

    While a Python step runs (``editor.collect_sql`` off), what it executes
    through the editor runs at once, after the queue, and is collected too.
    """
    execute = editor.execute
    if hasattr(editor, "collected_table_renames"):
        # Collecting, Django (6.1+) points the catalog lookups that follow a
        # rename at the old table name, which the target still has. The
        # shadow runs the rename before any lookup: it has the new name.
        editor.collected_table_renames = _Ran()

    def replaying(sql, params=()):
        if editor.collect_sql:
            execute(sql, params)
            replay.queue(editor.collected_sql[-1])
            return None
        # Executing, the editor takes a cursor: touching() catches up first.
        text = str(sql)
        if params is not None:
            text = text % tuple(map(editor.quote_value, params))
        editor.collected_sql.append(text if text.rstrip().endswith(";") else text + ";")
        return execute(sql, params)

    # Django's schema editor and RunPython functions call self.execute().
    editor.execute = replaying


class _Ran(dict):
    """Table renames a shadow has run: nothing to redirect."""

    def __setitem__(self, key, value):
        pass


@contextlib.contextmanager
def _running_python(editor, replay, ran_python):
    """Let a Python step execute for real on the shadow, caught up on first use."""
    if replay is None or not ran_python:
        yield
        return
    editor.collect_sql = False
    try:
        with replay.touching():
            yield
    finally:
        editor.collect_sql = True


def _dropped(migration, operation, from_state, to_state):
    """Return (table, column or None) that the step removes, with their data."""
    if type(operation).__name__ in _RENAMES:
        return []
    dropped = []
    # Part of the project (states.SubState): stubs carry only some fields,
    # and a model may be left out of the state after while it still exists.
    stubs = getattr(from_state, "stubs", set()) | getattr(to_state, "stubs", set())
    exists = getattr(to_state, "exists", None)
    for key, model_state in from_state.models.items():
        if key[0] != migration.app_label or key in stubs:
            continue
        options = model_state.options
        if not options.get("managed", True) or options.get("proxy"):
            continue
        after = to_state.models.get(key)
        if after is None and exists is not None and exists(key):
            continue
        gone = (
            [name for name in model_state.fields if name not in after.fields]
            if after
            else []
        )
        if after is not None and not gone:
            # Only render a model that loses something: rendering is costly.
            continue
        model = from_state.apps.get_model(*key)
        table = model._meta.db_table
        if after is None:
            dropped.append((table, None))
            dropped.extend(_through_tables(model._meta.local_many_to_many))
            continue
        for name in gone:
            field = model._meta.get_field(name)
            if field.many_to_many:
                dropped.extend(_through_tables([field]))
            elif field.concrete:
                dropped.append((table, field.column))
    return dropped


def _through_tables(fields):
    return [
        (f.remote_field.through._meta.db_table, None)
        for f in fields
        if f.remote_field.through._meta.auto_created
    ]


@contextlib.contextmanager
def _watch_introspection(connection, refuse=False, replay=None):
    """Record the tables the connection's introspection is asked about.

    With ``refuse`` (offline), asking at all raises OfflineNeedsDatabase.
    With ``replay``, the shadow runs what is queued before it answers.
    """
    introspection = connection.introspection
    seen: list[str] = []
    patched = []
    for name in _INTROSPECTION_METHODS:
        original = getattr(introspection, name, None)
        if original is None:
            continue
        patched.append(name)
        setattr(introspection, name, _recording(original, seen, refuse, replay))
    try:
        yield seen
    finally:
        for name in patched:
            # Drop the instance attribute so the class method shows through.
            delattr(introspection, name)


_LOOKUP_KINDS = ("unique", "primary_key", "index", "foreign_key", "check")


@contextlib.contextmanager
def _watch_lookups(editor, refuse=False):
    """Record what the schema editor asks _constraint_names() to find."""
    lookups: list[tuple[str, set[str]]] = []
    original = editor._constraint_names

    def recording(model, *args, **kwargs):
        kinds = {kind for kind in _LOOKUP_KINDS if kwargs.get(kind)} or {"any"}
        if refuse:
            raise OfflineNeedsDatabase(
                f"it reads the names of constraints on {model._meta.db_table} "
                "from the database's catalog"
            )
        lookups.append((model._meta.db_table, kinds))
        return original(model, *args, **kwargs)

    editor._constraint_names = recording
    try:
        yield lookups
    finally:
        del editor._constraint_names


def _recording(method, seen, refuse=False, replay=None):
    def wrapper(*args, **kwargs):
        table = args[1] if len(args) > 1 else kwargs.get("table_name", "")
        if refuse:
            raise OfflineNeedsDatabase(
                f"it reads the names of objects on {table} from the database's catalog"
            )
        seen.append(str(table or ""))
        if replay is not None:
            replay.flush()
        return method(*args, **kwargs)

    return wrapper
