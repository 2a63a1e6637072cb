"""Guards: statements that stop a script when the database is not as expected.

A runbook is pasted, piped and sometimes run twice. Each migration's section
begins with a guard that fails, naming the migration, when the migration is
already recorded (forward) or no longer recorded (backward), so a second run
changes nothing; each part of a script that resumes after a step SQL cannot
do begins with one that fails until that step is done. A failing statement
is all it takes: the scripts make every client stop at the first error.

No vendor has a portable "raise if" statement outside stored programs, so
each guard uses what every client executes as plain SQL:

- PostgreSQL: a DO block that raises the message.
- SQLite: a row rejected by a CHECK constraint whose name is the message
  (sqlite3 prints the constraint's name), in a temporary table.
- MySQL/MariaDB: two equal rows in a temporary table keyed by the message
  (the client prints the duplicate key), which needs no DELIMITER.

Temporary tables live in the session only; nothing is written to the
database itself.
"""

from __future__ import annotations

import hashlib

from handmig import bookkeeping, statements
from handmig.model import MigrationRow, Statement

# Prefix of every guard message, so an operator knows who stopped the script.
PREFIX = "handmig guard: "
# MySQL/MariaDB keys hold at most 3072 bytes: 700 four-byte characters.
_MYSQL_KEY_CHARS = 700


def fail_when(connection, condition: str, message: str) -> list[Statement]:
    """Return statements that raise ``message`` when ``condition`` (SQL) is true."""
    text = PREFIX + message
    vendor = connection.vendor
    if vendor == "postgresql":
        literal = bookkeeping.literal(text.replace("%", "%%"))
        return [
            statements.make(
                f"DO $handmig$ BEGIN IF {condition} THEN RAISE EXCEPTION {literal}; "
                "END IF; END $handmig$;"
            )
        ]
    if vendor == "sqlite":
        table = '"handmig_guard_' + hashlib.sha1(text.encode()).hexdigest()[:10] + '"'
        name = '"' + text.replace('"', '""') + '"'
        return [
            statements.make(
                f'CREATE TEMP TABLE IF NOT EXISTS {table} ("ok" integer '
                f'CONSTRAINT {name} CHECK ("ok"));'
            ),
            statements.make(f"INSERT INTO {table} SELECT NOT ({condition});"),
        ]
    if vendor == "mysql":
        text = text[:_MYSQL_KEY_CHARS]
        return [
            statements.make(
                "CREATE TEMPORARY TABLE IF NOT EXISTS `handmig_guard` "
                f"(`stop` varchar({_MYSQL_KEY_CHARS}) NOT NULL PRIMARY KEY);"
            ),
            statements.make(
                f"INSERT INTO `handmig_guard` SELECT {bookkeeping.literal(text)} FROM "
                "(SELECT 1 AS `n` UNION ALL SELECT 2) AS `twice` "
                f"WHERE {condition};"
            ),
        ]
    return []


def recorded_any(connection, keys: list[MigrationRow]) -> str:
    """Return SQL that is true when any of ``keys`` is in django_migrations."""
    return (
        f"EXISTS (SELECT 1 FROM {bookkeeping.quoted_table(connection)} "
        f"WHERE {bookkeeping.match(connection, keys)})"
    )


def recorded_all(connection, keys: list[MigrationRow]) -> str:
    """Return SQL that is true when every one of ``keys`` is in django_migrations."""
    q = connection.ops.quote_name
    distinct = {(row.app, row.name) for row in keys}
    return (
        f"(SELECT COUNT(*) FROM (SELECT DISTINCT {q('app')}, {q('name')} FROM "
        f"{bookkeeping.quoted_table(connection)} "
        f"WHERE {bookkeeping.match(connection, keys)}) {q('recorded')}) "
        f"= {len(distinct)}"
    )


def negate(condition: str) -> str:
    """Return SQL that is true when ``condition`` is false."""
    return f"NOT ({condition})"


def table_exists(connection, table: str) -> str:
    """Return SQL that is true when ``table`` exists in the current schema."""
    literal = bookkeeping.literal(table)
    if connection.vendor == "sqlite":
        return (
            "EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' "
            f"AND name = {literal})"
        )
    schema = "DATABASE()" if connection.vendor == "mysql" else "current_schema()"
    return (
        "EXISTS (SELECT 1 FROM information_schema.tables "
        f"WHERE table_schema = {schema} AND table_name = {literal})"
    )
