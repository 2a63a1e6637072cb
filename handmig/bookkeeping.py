"""The django_migrations rows migrate writes, and SQL to write and check them.

``migrate`` records each applied migration in django_migrations. A squashed
migration is recorded as each migration it replaces, and its own name is
added by ``check_replacements`` once all of those are there; unapplying one
deletes the replaced rows and its own. The table has no unique key on
(app, name), so a pasted INSERT run twice would duplicate the row: every
INSERT here is guarded with NOT EXISTS.
"""

from __future__ import annotations

from django.conf import settings
from django.db.migrations.recorder import MigrationRecorder

from handmig import statements
from handmig.model import Bookkeeping, Check, MigrationRow, Statement

TABLE = MigrationRecorder.Migration._meta.db_table


def rows(migration) -> list[MigrationRow]:
    """Return the rows migrate leaves for ``migration`` once it is applied."""
    keys = list(migration.replaces or []) + [(migration.app_label, migration.name)]
    return [MigrationRow(app, name) for app, name in keys]


def record(connection, migration, backwards: bool) -> Bookkeeping:
    """Return the INSERTs (forward) or the DELETE (backward) for ``migration``."""
    recorded = rows(migration)
    if backwards:
        return Bookkeeping("delete", recorded, [delete(connection, recorded)])
    return Bookkeeping("insert", recorded, [insert(connection, r) for r in recorded])


def insert(connection, row: MigrationRow) -> Statement:
    """Return the guarded INSERT that records ``row`` once, however often run."""
    return statements.make(_insert(connection, row))


def delete(connection, recorded: list[MigrationRow]) -> Statement:
    """Return the DELETE of ``recorded`` rows."""
    where = match(connection, recorded)
    return statements.make(f"DELETE FROM {quoted_table(connection)} WHERE {where};")


def select_rows(connection, keys: list[MigrationRow]) -> str:
    """Return a query listing which of ``keys`` are recorded."""
    q = connection.ops.quote_name
    return (
        f"SELECT {q('app')}, {q('name')}, {q('applied')} "
        f"FROM {quoted_table(connection)} "
        f"WHERE {match(connection, keys)} ORDER BY {q('id')};"
    )


def presence_check(connection, keys, present: bool, title: str) -> Check:
    """Return a Check that ``keys`` are all recorded, or none of them is."""
    if present:
        listed = ", ".join(f"{row.app}.{row.name}" for row in keys)
        expect = f"{len(keys)} row(s): {listed}"
    else:
        expect = "no rows"
    return Check(title=title, sql=select_rows(connection, keys), expect=expect)


def table_check(connection) -> Check:
    """Return a Check that django_migrations does not exist yet."""
    schema = "DATABASE()" if connection.vendor == "mysql" else "current_schema()"
    if connection.vendor == "sqlite":
        sql = (
            f"SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{TABLE}';"
        )
    else:
        sql = (
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = {schema} AND table_name = '{TABLE}';"
        )
    return Check(
        title=f"Confirm that {TABLE} does not exist yet.", sql=sql, expect="no rows"
    )


def create_table(connection) -> list[Statement]:
    """Return the SQL migrate's recorder runs to create django_migrations."""
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        editor.create_model(MigrationRecorder.Migration)
    return statements.split_all(editor.collected_sql, vendor=connection.vendor)


def current_timestamp(connection) -> str:
    """Return the SQL for "now" as Django would store it in ``applied``.

    Django writes ``timezone.now()``: UTC when USE_TZ is on, local time when
    it is off. PostgreSQL stores a timestamptz, so its clock is right either
    way; SQLite and MySQL store the naive value.
    """
    utc = settings.USE_TZ
    if connection.vendor == "postgresql":
        return "CURRENT_TIMESTAMP"
    if connection.vendor == "sqlite":
        modifier = "" if utc else ", 'localtime'"
        return f"STRFTIME('%Y-%m-%d %H:%M:%f', 'now'{modifier})"
    if connection.vendor == "mysql":
        return "UTC_TIMESTAMP(6)" if utc else "CURRENT_TIMESTAMP(6)"
    return "CURRENT_TIMESTAMP"


def _insert(connection, row: MigrationRow) -> str:
    q = connection.ops.quote_name
    # MySQL and Oracle want a FROM clause before WHERE; DUAL is their no-table.
    dual = " FROM DUAL" if connection.vendor in ("mysql", "oracle") else ""
    return (
        f"INSERT INTO {quoted_table(connection)} "
        f"({q('app')}, {q('name')}, {q('applied')}) "
        f"SELECT {literal(row.app)}, {literal(row.name)}, "
        f"{current_timestamp(connection)}{dual} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quoted_table(connection)} "
        f"WHERE {match(connection, [row])});"
    )


def quoted_table(connection) -> str:
    """Return django_migrations' name, quoted for ``connection``."""
    return connection.ops.quote_name(TABLE)


def match(connection, keys: list[MigrationRow]) -> str:
    """Return the WHERE condition that selects the rows of ``keys``."""
    q = connection.ops.quote_name
    terms = [
        f"({q('app')} = {literal(row.app)} AND {q('name')} = {literal(row.name)})"
        for row in keys
    ]
    return terms[0][1:-1] if len(terms) == 1 else " OR ".join(terms)


def literal(value: str) -> str:
    """Return ``value`` as an SQL string literal."""
    # App labels and migration names are Python identifiers and module names,
    # so doubling quotes is all the escaping they can need on every vendor.
    return "'" + value.replace("'", "''") + "'"
