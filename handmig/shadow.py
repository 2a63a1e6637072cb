"""Shadow databases: a scratch copy of the target's schema to run a plan on.

Some SQL can only be written by asking the database for the names of
objects (constraints, indexes). When a plan creates an object and a later
step alters it, the target cannot answer: the object does not exist there
yet. The plan then runs for real on a shadow, a scratch database with the
target's schema and django_migrations rows (no other data), and the
statements it executes become the runbook.

- SQLite: a copy of the database file in a temporary directory.
- PostgreSQL, MySQL/MariaDB: a database handmig creates next to the target,
  filled with pg_dump/mysqldump of the target's schema, and always drops;
  or a database alias the user configured for the purpose, which must be
  empty and is emptied again afterwards.

The target is only read (the dump tools read; the copy opens it read-only).
"""

from __future__ import annotations

import contextlib
import copy
import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import load_backend

from handmig.errors import ShadowFailed


@contextlib.contextmanager
def shadow(connection, configured_alias: str | None = None):
    """Yield a connection to a shadow of ``connection``'s database.

    While the shadow is in use, ``connections[alias]`` of the target's alias
    points at it, so that database routers, ``transaction.atomic(alias)`` and
    RunPython functions using ``schema_editor.connection.alias`` all land on
    the shadow and see the alias the runbook is for.
    """
    alias = connection.alias
    with contextlib.ExitStack() as stack:
        if configured_alias:
            wrapper, described = stack.enter_context(
                _configured(connection, configured_alias)
            )
        elif connection.vendor == "sqlite":
            wrapper, described = stack.enter_context(_sqlite_copy(connection))
        elif connection.vendor in ("postgresql", "mysql"):
            wrapper, described = stack.enter_context(_server_copy(connection))
        else:
            raise ShadowFailed(
                f"handmig cannot make a shadow of a {connection.vendor} database; "
                "give one with --shadow-database ALIAS."
            )
        original = connections[alias]
        connections[alias] = wrapper
        try:
            yield wrapper, described
        finally:
            wrapper.close()
            connections[alias] = original


def _wrapper(connection, settings_dict):
    """Return a new connection object for ``settings_dict`` under the target's alias."""
    backend = load_backend(settings_dict["ENGINE"])
    return backend.DatabaseWrapper(settings_dict, connection.alias)


@contextlib.contextmanager
def _sqlite_copy(connection):
    name = str(connection.settings_dict["NAME"])
    directory = tempfile.mkdtemp(prefix="handmig-shadow-")
    path = os.path.join(directory, "shadow.sqlite3")
    _sqlite_into(connection, path)
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict["NAME"] = path
    described = f"a copy of {name}" if os.path.exists(name) else "an empty database"
    wrapper = _wrapper(connection, settings_dict)
    # A scratch copy need not survive a power cut: no waiting on the disk
    # at every commit.
    wrapper.ensure_connection()
    wrapper.connection.execute("PRAGMA synchronous = OFF")
    try:
        yield wrapper, described
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def _server_copy(connection):
    name = f"handmig_shadow_{secrets.token_hex(4)}"
    quote = connection.ops.quote_name
    like = _like(connection)
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict["NAME"] = name
    if connection.vendor == "postgresql":
        # A scratch database need not survive a crash: commits do not wait
        # for the write-ahead log to reach the disk.
        options = settings_dict.setdefault("OPTIONS", {})
        options["options"] = (
            options.get("options", "") + " -c synchronous_commit=off"
        ).strip()
    wrapper = _wrapper(connection, settings_dict)
    # Everything from CREATE on is inside the try: an interrupt at any point
    # still drops the database (DROP IF EXISTS, should it not exist yet).
    dump = None
    try:
        # The dump of the target reads while the server makes the database.
        dump = _start_dump(connection)
        _server_execute(connection, f"CREATE DATABASE {quote(name)}{like}")
        _load_dump(connection, dump, settings_dict)
        _copy_rows(connection, wrapper)
        yield (
            wrapper,
            (
                f"scratch database {name}, made from the schema of "
                f"{connection.settings_dict['NAME']}"
            ),
        )
    finally:
        if dump is not None and dump.poll() is None:
            dump.kill()
            dump.wait()
        wrapper.close()
        drop = f"DROP DATABASE IF EXISTS {quote(name)}"
        if connection.vendor == "postgresql":
            drop += " WITH (FORCE)"
        _server_execute(connection, drop)


def _like(connection) -> str:
    """Return CREATE DATABASE options giving the target's encoding and collation.

    Tables the plan creates take the database's defaults; a different
    collation on the shadow breaks comparisons between old and new tables.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("SELECT @@character_set_database, @@collation_database")
            charset, collation = cursor.fetchone()
            return f" CHARACTER SET {charset} COLLATE {collation}"
        cursor.execute(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype "
            "FROM pg_database WHERE datname = current_database()"
        )
        encoding, collate, ctype = cursor.fetchone()
        return (
            f" TEMPLATE template0 ENCODING '{encoding}' "
            f"LC_COLLATE '{collate}' LC_CTYPE '{ctype}'"
        )


@contextlib.contextmanager
def _configured(connection, alias):
    try:
        wrapper = connections[alias]
    except Exception as exc:  # noqa: BLE001 - ConnectionDoesNotExist and kin
        raise ShadowFailed(f"No database alias '{alias}': {exc}") from None
    if wrapper.vendor != connection.vendor:
        raise ShadowFailed(
            f"The shadow database '{alias}' is {wrapper.vendor}, the target is "
            f"{connection.vendor}; use one of the same kind."
        )
    if alias == connection.alias or (
        wrapper.settings_dict.get("NAME") == connection.settings_dict.get("NAME")
        and wrapper.settings_dict.get("HOST") == connection.settings_dict.get("HOST")
    ):
        raise ShadowFailed("The shadow database must not be the target database.")
    try:
        existing = wrapper.introspection.table_names()
    except Exception as exc:  # noqa: BLE001 - any failure to reach it
        raise ShadowFailed(
            f"Cannot reach the shadow database '{alias}': {exc}"
        ) from None
    if existing:
        raise ShadowFailed(
            f"The shadow database '{alias}' is not empty ({len(existing)} tables); "
            "give an empty one."
        )
    settings_dict = copy.deepcopy(wrapper.settings_dict)
    shadow_wrapper = _wrapper(connection, settings_dict)
    try:
        if connection.vendor == "sqlite":
            _sqlite_into(connection, settings_dict["NAME"])
        else:
            _copy_schema(connection, settings_dict, shadow_wrapper)
        yield shadow_wrapper, f"database alias '{alias}'"
    finally:
        shadow_wrapper.close()
        _empty(wrapper)


def _sqlite_into(connection, path):
    """Copy the target's SQLite file into ``path``, opening it read-only."""
    name = str(connection.settings_dict["NAME"])
    try:
        target = sqlite3.connect(f"file:{name}?mode=ro", uri=True)
        copy_ = sqlite3.connect(path)
        try:
            target.backup(copy_)
        finally:
            target.close()
            copy_.close()
    except sqlite3.Error:
        # No file yet: the target is an empty database, and so is the shadow.
        pass


def _empty(wrapper):
    """Drop every table of a configured shadow so that it can be used again."""
    with wrapper.cursor() as cursor:
        if wrapper.vendor == "postgresql":
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
            return
        if wrapper.vendor == "mysql":
            cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        for table in wrapper.introspection.table_names(cursor):
            cursor.execute(f"DROP TABLE {wrapper.ops.quote_name(table)}")
    wrapper.close()


def _server_execute(connection, sql):
    """Run ``sql`` on the target's server, outside the target database."""
    try:
        with connection._nodb_cursor() as cursor:
            cursor.execute(sql)
    except Exception as exc:  # noqa: BLE001 - the message says what failed
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
        raise ShadowFailed(
            f"Cannot create or drop the shadow database ({first}); grant the user "
            "CREATEDB (or CREATE on MySQL), or give one with --shadow-database ALIAS."
        ) from None


def _copy_schema(connection, into, wrapper):
    """Copy the target's schema and django_migrations rows into ``into``.

    One dump of the schema through the shell client; the rows through the
    connections (a second dump and load would cost as much as the first).
    """
    _load_dump(connection, _start_dump(connection), into)
    _copy_rows(connection, wrapper)


def _start_dump(connection) -> subprocess.Popen:
    """Start dumping the target's schema; _load_dump() reads it."""
    source = connection.settings_dict
    if connection.vendor == "postgresql":
        argv = _pg_args(
            source, ["pg_dump", "--schema-only", "--no-owner", "--no-privileges"]
        )
        env = {**os.environ, "PGPASSWORD": str(source.get("PASSWORD") or "")}
    else:
        dumper = (
            shutil.which("mariadb-dump") or shutil.which("mysqldump") or "mysqldump"
        )
        argv = _my_args(
            source, [dumper, "--no-data", "--skip-comments", "--single-transaction"]
        )
        env = {**os.environ, "MYSQL_PWD": str(source.get("PASSWORD") or "")}
    _need_client(argv[0])
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )


def _load_dump(connection, dump: subprocess.Popen, into) -> None:
    """Load the schema ``dump`` produces into the shadow ``into``."""
    if connection.vendor == "postgresql":
        argv = _pg_args(into, ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"])
        env = {**os.environ, "PGPASSWORD": str(into.get("PASSWORD") or "")}
    else:
        client = shutil.which("mariadb") or shutil.which("mysql") or "mysql"
        argv = _my_args(into, [client])
        env = {**os.environ, "MYSQL_PWD": str(into.get("PASSWORD") or "")}
    _need_client(argv[0])
    schema, errors = dump.communicate()
    if dump.returncode != 0:
        program = os.path.basename(str(dump.args[0]))  # type: ignore[index]
        raise ShadowFailed(
            f"{program} could not read the target's schema: {_first(errors)}"
        )
    loaded = subprocess.run(
        argv, input=schema, capture_output=True, env=env, check=False
    )
    if loaded.returncode != 0:
        raise ShadowFailed(
            f"{argv[0]} could not load the schema into the shadow: "
            f"{_first(loaded.stderr)}"
        )


def _need_client(program: str) -> None:
    if not shutil.which(program):
        raise ShadowFailed(
            f"{program} is needed to copy the schema; install the database's "
            "client tools, or give --shadow-database ALIAS."
        )


def _copy_rows(connection, wrapper):
    """Copy the target's django_migrations rows into the shadow's."""
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return
    rows = recorder.migration_qs.order_by("id").values_list("app", "name", "applied")
    adapt = wrapper.ops.adapt_datetimefield_value
    values = [(app, name, adapt(applied)) for app, name, applied in rows]
    if not values:
        return
    q = wrapper.ops.quote_name
    table = q(MigrationRecorder.Migration._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({q('app')}, {q('name')}, {q('applied')}) "
        "VALUES (%s, %s, %s)"
    )
    try:
        with wrapper.cursor() as cursor:
            cursor.executemany(sql, values)
    except Exception as exc:  # noqa: BLE001 - the message says what failed
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
        raise ShadowFailed(
            f"Cannot copy {MigrationRecorder.Migration._meta.db_table} into the "
            f"shadow database ({first})."
        ) from None


def _pg_args(settings_dict, argv):
    extra = []
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if settings_dict.get(key):
            extra += [flag, str(settings_dict[key])]
    return argv + extra + ["-d", str(settings_dict["NAME"])]


def _my_args(settings_dict, argv):
    extra = []
    for flag, key in (("-h", "HOST"), ("-P", "PORT"), ("-u", "USER")):
        if settings_dict.get(key):
            extra += [flag, str(settings_dict[key])]
    return argv + extra + [str(settings_dict["NAME"])]


def _first(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else "no message"
