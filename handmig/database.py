"""Reach the database a runbook is generated for, and only ever read it.

handmig reads django_migrations and the catalog; everything else goes
through a schema editor in collect mode. A guard on the connection rejects
any statement that could write, so a bug can never touch the target.
"""

from __future__ import annotations

import contextlib
import os
import shlex

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from handmig.errors import (
    ConfigurationError,
    DatabaseUnavailable,
    HandmigError,
    OfflineNeedsDatabase,
)

# Statements that read, or only change the session, never the database.
_READ_VERBS = (
    "SELECT",
    "SHOW",
    "PRAGMA",
    "WITH",
    "EXPLAIN",
    "DESCRIBE",
    "DESC",
    "SET",
    "RESET",
    "SAVEPOINT",
    "RELEASE",
    "ROLLBACK",
    "BEGIN",
    "COMMIT",
)
# PRAGMAs that change the database file rather than the session.
_WRITING_PRAGMAS = ("WRITABLE_SCHEMA", "USER_VERSION", "APPLICATION_ID", "JOURNAL_MODE")


class WriteRefused(HandmigError):
    """A statement that could write reached the target database."""


@contextlib.contextmanager
def read_only(alias: str = DEFAULT_DB_ALIAS):
    """Yield (connection, notes) for ``alias``, refusing every write to it."""
    connection = _connection(alias)
    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        if _is_missing_sqlite_file(connection):
            notes.append(
                f"The SQLite file {connection.settings_dict['NAME']} does not exist: "
                "the runbook is for an empty database."
            )
            stack.enter_context(_empty_sqlite(connection))
        try:
            connection.ensure_connection()
        except (DatabaseError, ImproperlyConfigured, OSError) as exc:
            raise DatabaseUnavailable(
                f"Cannot connect to database '{alias}' ({connection.vendor}): "
                f"{_first_line(exc)}. Check DATABASES['{alias}'] and that the "
                "server is running."
            ) from None
        stack.enter_context(connection.execute_wrapper(_refuse_writes))
        yield connection, notes


@contextlib.contextmanager
def offline(alias: str = DEFAULT_DB_ALIAS):
    """Yield (connection, notes) for ``alias`` without ever connecting to it.

    SQLite's schema editor needs a connection for its PRAGMAs: it gets a
    private in-memory database. Elsewhere any attempt to connect raises
    OfflineNeedsDatabase.
    """
    connection = _connection(alias)
    if connection.vendor == "mysql":
        raise OfflineNeedsDatabase(
            "--offline is not available for MySQL/MariaDB: Django writes their "
            "SQL from the server's version and settings; generate it with a "
            "connection (it only reads)."
        )
    notes = [
        "Generated offline, without connecting to the database: the migration "
        "state is the one given, and nothing was checked against the server."
    ]
    if connection.vendor == "sqlite":
        with _empty_sqlite(connection):
            connection.handmig_offline = True
            try:
                yield connection, notes
            finally:
                del connection.handmig_offline
        return

    def refuse(*args, **kwargs):
        raise OfflineNeedsDatabase(
            "this needs the database (to read its catalog or quote a value)"
        )

    connection.close()
    connection.ensure_connection = refuse
    connection.handmig_offline = True
    if connection.vendor == "postgresql":
        # Django merges parameters with a live cursor; psycopg can quote
        # without one.
        connection.ops.compose_sql = _compose_offline
    try:
        yield connection, notes
    finally:
        del connection.ensure_connection
        del connection.handmig_offline
        connection.ops.__dict__.pop("compose_sql", None)


def _compose_offline(sql, params):
    from psycopg import sql as psycopg_sql

    return sql % tuple(psycopg_sql.quote(value, None) for value in params or ())


def _connection(alias: str):
    try:
        return connections[alias]
    except (ImproperlyConfigured, KeyError) as exc:
        raise ConfigurationError(
            f"Database '{alias}' is not usable: {_first_line(exc)}. "
            "Check DATABASES in your settings and the database driver."
        ) from None


def is_offline(connection) -> bool:
    """Return whether ``connection`` stands for a database handmig must not reach."""
    return getattr(connection, "handmig_offline", False)


def server_version(connection) -> tuple[str, str]:
    """Return the vendor's display name and the server version."""
    if is_offline(connection):
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MySQL"}
        return names.get(connection.vendor, connection.vendor), "unknown (offline)"
    if connection.vendor == "sqlite":
        return "SQLite", connection.Database.sqlite_version
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return "PostgreSQL", cursor.fetchone()[0]
    if connection.vendor == "mysql":
        name = "MariaDB" if connection.mysql_is_mariadb else "MySQL"
        return name, connection.mysql_server_info
    return connection.display_name, ".".join(
        str(part) for part in getattr(connection, "get_database_version", lambda: ())()
    )


def client_command(connection) -> str:
    """Return the shell client command that runs a script read from stdin.

    No flag is needed for safety: the scripts make the client stop at the
    first error themselves. psql's -X keeps a ~/.psqlrc out of the run.
    """
    settings = connection.settings_dict
    name = str(getattr(connection, "handmig_name", None) or settings.get("NAME") or "")
    if connection.vendor == "sqlite":
        return f"sqlite3 {shlex.quote(name)}"
    if connection.vendor == "postgresql":
        flags = (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER"))
        program, database = ["psql", "-X"], ["-d", name]
    elif connection.vendor == "mysql":
        flags = (("-h", "HOST"), ("-P", "PORT"), ("-u", "USER"))
        mariadb = getattr(connection, "mysql_is_mariadb", False)
        # --skip-force: a "force" in an option file would have the client
        # go on past errors, and no script can turn that off.
        program = ["mariadb" if mariadb else "mysql", "--skip-force"]
        database = (["-p"] if settings.get("PASSWORD") else []) + [name]
    else:
        return ""
    where = [
        part
        for flag, key in flags
        if settings.get(key)
        for part in (flag, str(settings[key]))
    ]
    return " ".join(shlex.quote(part) for part in program + where + database)


def _refuse_writes(execute, sql, params, many, context):
    text = str(sql).lstrip()
    upper = text.upper()
    if upper.startswith("SET STATEMENT ") and " FOR " in upper:
        # MariaDB's per-statement settings: what counts is the statement.
        text = text[upper.index(" FOR ") + 5 :].lstrip()
    words = text.split(None, 2)
    verb = words[0].upper().rstrip(";") if words else ""
    pragma = words[1].upper() if verb == "PRAGMA" and len(words) > 1 else ""
    if verb not in _READ_VERBS or pragma.startswith(_WRITING_PRAGMAS):
        raise WriteRefused(
            "handmig refused to run a statement that could write to the target "
            f"database ({verb}); please report this as a bug."
        )
    return execute(sql, params, many, context)


def _is_missing_sqlite_file(connection) -> bool:
    if connection.vendor != "sqlite":
        return False
    name = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db() or name.startswith("file:"):
        return False
    return not os.path.exists(name)


@contextlib.contextmanager
def _empty_sqlite(connection):
    """Point the connection at a private in-memory database for a while.

    Opening a missing SQLite file creates it; generating a runbook must not.
    """
    original = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = "file:handmig-empty?mode=memory"
    # What the runbook is for, where it names the database.
    connection.handmig_name = original
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original
        del connection.handmig_name


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].rstrip(".")
