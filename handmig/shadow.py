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

Scratch databases and directories are named handmig_shadow_<host>_<pid>_<random>
(handmig-shadow-<host>-<pid>-... for directories): a run that makes one first
removes those of runs on this host that are gone (killed, say), and warns
about the ones it cannot remove or cannot tell are over. Removing one holds
SIGINT and SIGTERM until it is done, so that an impatient second Ctrl-C
cannot leave it behind.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import warnings

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import load_backend

from handmig.errors import (
    HandmigError,
    ScratchLeftovers,
    ShadowFailed,
    ShadowLeftBehind,
)

SERVER_PREFIX = "handmig_shadow_"
DIRECTORY_PREFIX = "handmig-shadow-"
# <host tag>_<pid>_<random>; names without them come from older versions.
_SERVER_NAME = re.compile(r"handmig_shadow_([0-9a-f]{6})_([0-9]+)_[0-9a-f]+")
# The same, dashed, and mkdtemp's random tail.
_DIRECTORY_NAME = re.compile(r"handmig-shadow-([0-9a-f]{6})-([0-9]+)-[0-9a-f]+-.+")
_HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# What this process made and has not removed yet: name -> the clean-up that
# removes it. Python checks for signals between any two bytecodes, so one
# can land as a clean-up's ``finally`` begins, before it holds signals;
# finish_clean_up() then does the job on the CLI's way out.
_PENDING: dict[str, functools.partial] = {}


@contextlib.contextmanager
def shadow(
    connection, configured_alias: str | None = None, notes: list[str] | None = None
):
    """Yield a connection to a shadow of ``connection``'s database.

    While the shadow is in use, ``connections[alias]`` of the target's alias
    points at it, so that database routers, ``transaction.atomic(alias)`` and
    RunPython functions using ``schema_editor.connection.alias`` all land on
    the shadow and see the alias the runbook is for.

    Scratch databases of other runs that are still there are described in
    ``notes``, or without it in a ScratchLeftovers warning.
    """
    alias = connection.alias
    with contextlib.ExitStack() as stack:
        if configured_alias:
            wrapper, described = stack.enter_context(
                _configured(connection, configured_alias)
            )
        elif connection.vendor == "sqlite":
            _report(_sweep_directories(), notes)
            wrapper, described = stack.enter_context(_sqlite_copy(connection))
        elif connection.vendor in ("postgresql", "mysql"):
            _report(_sweep_server(connection), notes)
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
    directory = tempfile.mkdtemp(prefix=scratch_name().replace("_", "-") + "-")
    _PENDING[directory] = functools.partial(_remove_copy, directory)
    # Everything after mkdtemp is inside the try: an interrupt while the
    # file is copied still removes the directory.
    try:
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
        yield wrapper, described
    finally:
        # Inline, not in a helper: see _server_copy.
        finished: list[bool] = []
        interrupted = None
        while not finished:
            try:
                _run_held(functools.partial(_remove_copy, directory), finished)
            except KeyboardInterrupt as exc:
                interrupted = exc
        if interrupted is not None:
            raise interrupted


@contextlib.contextmanager
def _server_copy(connection):
    name = scratch_name()
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
    _PENDING[name] = functools.partial(_drop_copy, connection, name, None, wrapper)
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
        # The clean-up holds signals, but one that came the moment before can
        # still cut in before the hold begins (at the first call): then it
        # starts over, here in the same frame, as a helper's entry could be
        # cut short too. Later signals are held, or, from the CLI, ignored.
        finished: list[bool] = []
        interrupted = None
        while not finished:
            try:
                _run_held(
                    functools.partial(_drop_copy, connection, name, dump, wrapper),
                    finished,
                )
            except KeyboardInterrupt as exc:
                interrupted = exc
        if interrupted is not None:
            raise interrupted


def _run_held(clean_up, finished: list[bool]) -> None:
    """Run ``clean_up`` with signals held; note in ``finished`` that it ran."""
    with _signals_held():
        clean_up()
        # Before the hold ends: a signal delivered then is not a cut-short
        # clean-up to start over.
        finished.append(True)


def _remove_copy(directory: str) -> None:
    """Remove a SQLite shadow's directory, or say how to."""
    failure = _remove(directory)
    if not failure:
        _PENDING.pop(directory, None)
    if failure:
        raise ShadowLeftBehind(
            _left_behind(
                f"The scratch directory {directory} could not be removed "
                f"({failure}); remove it by hand: rm -r {directory}"
            ),
            directory,
        )


def _drop_copy(connection, name: str, dump, wrapper) -> None:
    """Stop the schema dump, close the shadow and drop it, or say how to."""
    if dump is not None and dump.poll() is None:
        dump.kill()
        dump.wait()
    wrapper.close()
    failure = _drop(connection, name)
    if not failure:
        _PENDING.pop(name, None)
    if failure:
        raise ShadowLeftBehind(
            _left_behind(
                f"The scratch database {name} could not be dropped ({failure}); "
                f"drop it by hand: {_drop_sql(connection, name)};"
            ),
            name,
        )


def finish_clean_up() -> list[str]:
    """Remove what a clean-up cut short left; return why anything stays.

    For the CLI, once a signal has unwound the run (later ones are ignored).
    """
    failures = []
    for key, clean_up in list(_PENDING.items()):
        try:
            with _signals_held():
                clean_up()
        except ShadowLeftBehind as exc:
            failures.append(str(exc))
        _PENDING.pop(key, None)
    return failures


def host_tag() -> str:
    """Return the few hex characters that stand for this host in scratch names."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def scratch_name() -> str:
    """Return a new scratch database name saying which host and process made it."""
    # At most 15 + 6 + 1 + 10 + 1 + 8 = 41 characters: within PostgreSQL's 63.
    return f"{SERVER_PREFIX}{host_tag()}_{os.getpid()}_{secrets.token_hex(4)}"


def _drop_sql(connection, name: str, if_exists: bool = False) -> str:
    sql = "DROP DATABASE IF EXISTS " if if_exists else "DROP DATABASE "
    sql += connection.ops.quote_name(name)
    # FORCE: sessions still open on it (a schema loader killed half-way, a
    # run killed outright) must not keep it alive.
    return sql + " WITH (FORCE)" if connection.vendor == "postgresql" else sql


def _drop(connection, name: str, attempts: int = 3) -> str | None:
    """Drop the scratch database ``name``; return why it could not be, or None."""
    drop = _drop_sql(connection, name, if_exists=True)
    failure = None
    interrupted = None
    with _signals_held():
        # Each try on a fresh connection: the one before may be what broke.
        for attempt in range(attempts):
            if attempt:
                time.sleep(0.2 * attempt)
            try:
                with connection._nodb_cursor() as cursor:
                    if connection.vendor == "mysql":
                        _end_sessions(cursor, name)
                    cursor.execute(drop)
            except KeyboardInterrupt as exc:
                # Should one get through the hold all the same (psycopg
                # raises it from its wait), the DROP is tried again.
                interrupted = exc
                failure = "interrupted"
            except Exception as exc:  # noqa: BLE001 - the message says what failed
                failure = _first_line(exc)
            else:
                failure = None
                break
    if interrupted is not None and failure is None:
        raise interrupted
    return failure


def _end_sessions(cursor, name: str) -> None:
    """End the other sessions using ``name``, as PostgreSQL's FORCE does."""
    # A session whose client was killed may still hold a metadata lock the
    # DROP would wait for; the wait is bounded in any case.
    cursor.execute("SET SESSION lock_wait_timeout = 30")
    cursor.execute(
        "SELECT ID FROM information_schema.PROCESSLIST "
        "WHERE DB = %s AND ID <> CONNECTION_ID()",
        [name],
    )
    for (session,) in cursor.fetchall():
        # Ended meanwhile, or another user's: the DROP says what is wrong.
        with contextlib.suppress(Exception):
            cursor.execute(f"KILL CONNECTION {int(session)}")


def _remove(directory: str) -> str | None:
    """Remove a scratch directory; return why it could not be, or None."""
    try:
        shutil.rmtree(directory)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _first_line(exc)
    return None


def _left_behind(message: str) -> str:
    """Return ``message``, after what was already going wrong, if anything."""
    in_flight = sys.exc_info()[1]
    if isinstance(in_flight, HandmigError):
        return f"{in_flight} Then: {message}"
    if isinstance(in_flight, KeyboardInterrupt):
        return f"Interrupted. {message}"
    return message


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM while the block runs; deliver them if it succeeds.

    Should the block fail, that failure ends the run anyway and is the one
    worth reporting: the signals are dropped.
    """
    received: list[int] = []
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in _HELD_SIGNALS:
            handler = signal.getsignal(signum)
            # None: a handler installed outside Python, which could not be
            # put back; the mask below still holds that signal.
            if handler is not None:
                previous[signum] = handler
                signal.signal(signum, lambda number, frame: received.append(number))
    # The mask keeps the signal from interrupting the driver's blocking call
    # (psycopg cancels the running statement on KeyboardInterrupt); the
    # handlers above catch one that reaches another thread.
    mask = None
    if hasattr(signal, "pthread_sigmask"):
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    completed = False
    try:
        yield
        completed = True
    finally:
        if mask is not None:
            # Signals that came meanwhile reach the handlers above now.
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if completed:
            for signum in dict.fromkeys(received):
                signal.raise_signal(signum)


def _alive(pid: int) -> bool:
    """Return whether process ``pid`` of this host may still be running."""
    # On Windows os.kill(pid, 0) sends CTRL_C_EVENT: nothing is judged gone.
    if pid <= 0 or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        # Another user's process, or not a pid at all: not ours to judge.
        return True
    return True


def _sort(name: str, pattern: re.Pattern) -> str:
    """Return "gone", "running" or why a scratch object may not be removed."""
    match = pattern.fullmatch(name)
    if not match:
        return "made by an older handmig"
    tag, pid = match.groups()
    if tag != host_tag():
        return "made on another host"
    return "running" if _alive(int(pid)) else "gone"


def _sweep_server(connection) -> list[str]:
    """Drop the scratch databases of finished runs; describe the others."""
    # LIKE's underscore matches any character: escaped.
    pattern = SERVER_PREFIX.replace("_", "\\_") + "%"
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s", [pattern]
                )
            else:
                cursor.execute(
                    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                    "WHERE SCHEMA_NAME LIKE %s",
                    [pattern],
                )
            names = sorted(row[0] for row in cursor.fetchall())
    except Exception as exc:  # noqa: BLE001 - a courtesy: the run goes on
        return [
            "Could not look for scratch databases that earlier handmig runs "
            f"left on the server ({_first_line(exc)})."
        ]
    others = []
    for name in names:
        why = _sort(name, _SERVER_NAME)
        if why == "gone":
            # One try: a database of another user's fails the same way again.
            failure = _drop(connection, name, attempts=1)
            if not failure:
                continue
            why = f"could not drop it: {failure}"
        if why != "running":
            others.append((name, why))
    if not others:
        return []
    listed = ", ".join(f"{name} ({why})" for name, why in others)
    hand = " ".join(f"{_drop_sql(connection, name)};" for name, _ in others)
    return [
        f"Scratch databases of other handmig runs are on the server: {listed}. "
        f"Once no handmig run uses them, drop them by hand: {hand}"
    ]


def _sweep_directories() -> list[str]:
    """Remove the scratch directories of finished runs; describe the others."""
    root = tempfile.gettempdir()
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return []
    others = []
    for entry in entries:
        if not entry.startswith(DIRECTORY_PREFIX):
            continue
        path = os.path.join(root, entry)
        why = _sort(entry, _DIRECTORY_NAME)
        if why == "made by an older handmig":
            # Unlike a database on a server, the system's to clear up in time;
            # nothing tells whether that run is over.
            continue
        if why == "gone":
            with _signals_held():
                failure = _remove(path)
            if not failure:
                continue
            why = f"could not remove it: {failure}"
        if why != "running":
            others.append(f"{path} ({why})")
    if not others:
        return []
    return [
        f"Scratch directories of other handmig runs are still there: "
        f"{', '.join(others)}. Once no handmig run uses them, remove them by hand."
    ]


def _report(leftovers: list[str], notes: list[str] | None) -> None:
    """Put what a sweep left in ``notes``, or warn about it."""
    if notes is not None:
        notes.extend(leftovers)
        return
    for message in leftovers:
        warnings.warn(message, ScratchLeftovers, stacklevel=3)


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
        raise ShadowFailed(
            f"Cannot create the shadow database ({_first_line(exc)}); grant the user "
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
