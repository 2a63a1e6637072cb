"""Collect the SQL of one migration, operation by operation, without running it.

This walks the operations the way ``Migration.apply`` and
``Migration.unapply`` do, with a schema editor in collect mode (as
``sqlmigrate`` does), but keeps the SQL of each operation apart so the
runbook can put every statement under the operation that produced it.
Deferred SQL (indexes and foreign keys Django creates at the end of the
migration) is traced back to the operation that queued it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from django.db import transaction

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


@dataclass
class CollectedOperation:
    number: int  # 1-based position in Migration.operations
    operation: object
    chunks: list[str] = field(default_factory=list)
    introspected: bool = False


@dataclass
class CollectedMigration:
    operations: list[CollectedOperation]  # in execution order
    deferred: list[tuple[int | None, str]]  # (origin operation number, SQL)
    state_before: object  # ProjectState before the operations ran
    state_after: object  # ProjectState after them


def collect(connection, migration, state, backwards=False) -> CollectedMigration:
    """Collect the SQL of ``migration`` applied (or unapplied) from ``state``.

    ``state`` must be the project state right before the migration, computed
    as the executor computes it; it is not modified.
    """
    # The executor renders the state before running a migration, and the
    # order in which states are rendered decides the field order of tables
    # SQLite rebuilds (sqlmigrate skips this and can get it wrong).
    state.apps  # noqa: B018 - rendering is the point
    with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        if backwards:
            steps, end_state = _backward_steps(migration, state)
        else:
            end_state = state.clone()
            steps = _forward_steps(migration, end_state)
        origins: dict[int, int] = {}
        queued: list[object] = []  # keeps queued statements alive for id()
        collected = []
        for number, operation, from_state, to_state in steps:
            item = CollectedOperation(number, operation)
            collected.append(item)
            if not operation.reduces_to_sql:
                # migrate runs it as Python; there is no SQL to collect.
                continue
            start = len(editor.collected_sql)
            with _watch_introspection(connection) as seen:
                _run(migration, operation, editor, from_state, to_state, backwards)
            item.chunks = list(editor.collected_sql[start:])
            item.introspected = bool(seen)
            for sql in editor.deferred_sql:
                if id(sql) not in origins:
                    origins[id(sql)] = number
                    queued.append(sql)
        pending = [origins.get(id(sql)) for sql in editor.deferred_sql]
        before_exit = len(editor.collected_sql)
    # Leaving the editor executed (collected) the deferred SQL, one entry per
    # queued statement, in queue order.
    deferred_sql = editor.collected_sql[before_exit:]
    deferred = list(zip(pending, deferred_sql, strict=True))
    if backwards:
        return CollectedMigration(collected, deferred, end_state, state)
    return CollectedMigration(collected, deferred, state, end_state)


def _forward_steps(migration, state):
    """Yield the steps of Migration.apply, progressing one state in place.

    Like Migration.apply, each operation sees the state mutated by the ones
    before it, so the steps are produced lazily, one operation at a time.
    """
    for number, operation in enumerate(migration.operations, 1):
        before = state.clone()
        operation.state_forwards(migration.app_label, state)
        yield number, operation, before, state


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


def _run(migration, operation, editor, from_state, to_state, backwards):
    """Run one operation's database method the way the Migration class does."""
    method = operation.database_backwards if backwards else operation.database_forwards
    atomic_operation = operation.atomic or (
        migration.atomic and operation.atomic is not False
    )
    if not editor.atomic_migration and atomic_operation:
        # Migration.apply forces a transaction here on backends without
        # transactional DDL; some operations look at in_atomic_block.
        with transaction.atomic(editor.connection.alias):
            method(migration.app_label, editor, from_state, to_state)
    else:
        method(migration.app_label, editor, from_state, to_state)


@contextlib.contextmanager
def _watch_introspection(connection):
    """Record calls to the connection's introspection methods while active."""
    introspection = connection.introspection
    seen: list[str] = []
    originals = {}
    for name in _INTROSPECTION_METHODS:
        original = getattr(introspection, name, None)
        if original is None:
            continue
        originals[name] = original
        setattr(introspection, name, _recording(original, name, seen))
    try:
        yield seen
    finally:
        for name in originals:
            # Drop the instance attribute so the class method shows through.
            delattr(introspection, name)


def _recording(method, name, seen):
    def wrapper(*args, **kwargs):
        seen.append(name)
        return method(*args, **kwargs)

    return wrapper
