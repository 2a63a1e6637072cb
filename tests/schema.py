"""Test databases: which backends, how to create them, how to run a script in
the vendor's shell client, and a canonical dump of a schema to compare two
databases that should be identical.
"""

import os
import re
import subprocess

BACKENDS = ("sqlite", "postgresql", "mysql")


def selected_backends():
    """Return the backends named in HANDMIG_TEST_DATABASES (default: sqlite)."""
    raw = os.environ.get("HANDMIG_TEST_DATABASES", "")
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown:
        raise ValueError(
            f"HANDMIG_TEST_DATABASES: unknown {', '.join(unknown)}; "
            f"use {', '.join(BACKENDS)}"
        )
    return names or ["sqlite"]


def _server(backend):
    prefix = "HANDMIG_TEST_PG_" if backend == "postgresql" else "HANDMIG_TEST_MYSQL_"
    port, user = ("5432", "postgres") if backend == "postgresql" else ("3306", "root")
    return {
        "HOST": os.environ.get(prefix + "HOST", "127.0.0.1"),
        "PORT": os.environ.get(prefix + "PORT", port),
        "USER": os.environ.get(prefix + "USER", user),
        "PASSWORD": os.environ.get(prefix + "PASSWORD", ""),
    }


def server_settings(backend, name):
    """Return a DATABASES entry for database ``name`` (a path for SQLite)."""
    if backend == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name}
    engine = {"postgresql": "postgresql", "mysql": "mysql"}[backend]
    return {
        "ENGINE": f"django.db.backends.{engine}",
        "NAME": name,
        **_server(backend),
        "TEST": {"NAME": name},
    }


def create_database(backend, name, collation="utf8mb4_unicode_ci"):
    """Create an empty database ``name``, dropping any earlier one.

    ``collation`` is MySQL/MariaDB's for the database.
    """
    drop_database(backend, name)
    if backend == "postgresql":
        _server_execute(backend, f'CREATE DATABASE "{name}"')
    elif backend == "mysql":
        _server_execute(
            backend,
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE {collation}",
        )


def drop_database(backend, name):
    """Drop database ``name`` if it exists."""
    if backend == "sqlite":
        if os.path.exists(name):
            os.remove(name)
    elif backend == "postgresql":
        _server_execute(backend, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        _server_execute(backend, f"DROP DATABASE IF EXISTS `{name}`")


def server_connection(backend):
    """Return a DB-API connection to the server, outside any test database.

    Autocommit on PostgreSQL (CREATE DATABASE refuses a transaction); the
    caller closes it.
    """
    server = _server(backend)
    if backend == "postgresql":
        import psycopg

        return psycopg.connect(
            host=server["HOST"],
            port=server["PORT"],
            user=server["USER"],
            password=server["PASSWORD"],
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        )
    import MySQLdb

    return MySQLdb.connect(
        host=server["HOST"],
        port=int(server["PORT"]),
        user=server["USER"],
        password=server["PASSWORD"],
        connect_timeout=10,
    )


def server_rows(backend, sql):
    """Return the rows ``sql`` gives on the server (outside any test database)."""
    conn = server_connection(backend)
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    finally:
        conn.close()


def _server_execute(backend, sql):
    server = _server(backend)
    where = f"{backend} at {server['HOST']}:{server['PORT']}"
    hint = "HANDMIG_TEST_PG_*" if backend == "postgresql" else "HANDMIG_TEST_MYSQL_*"
    try:
        server_rows(backend, sql)
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot reach"
        raise RuntimeError(
            f"Cannot reach {where} ({exc}); start the server or set {hint}."
        ) from exc


def shell_command(backend, settings_dict):
    """Return (argv, extra env) of the shell client that runs a script on stdin."""
    if backend == "sqlite":
        return ["sqlite3", "-bail", str(settings_dict["NAME"])], {}
    host, port = settings_dict["HOST"], str(settings_dict["PORT"])
    user, password = settings_dict["USER"], settings_dict["PASSWORD"]
    if backend == "postgresql":
        argv = [
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            host,
            "-p",
            port,
            "-U",
            user,
            "-d",
            settings_dict["NAME"],
        ]
        return argv, ({"PGPASSWORD": password} if password else {})
    argv = ["mariadb", "-h", host, "-P", port, "-u", user, settings_dict["NAME"]]
    return argv, ({"MYSQL_PWD": password} if password else {})


def readme_command(backend, settings_dict):
    """Return (argv, extra env) of the client as the README runs a script.

    No flag that makes it stop at an error: the scripts must do that
    themselves. mariadb's --skip-force is the README's too: it undoes a
    ``force`` in an option file, which no script can.
    """
    argv, env = shell_command(backend, settings_dict)
    drop = {"-bail", "-q"}
    plain = [arg for arg in argv if arg not in drop]
    if "ON_ERROR_STOP=1" in plain:
        at = plain.index("ON_ERROR_STOP=1")
        del plain[at - 1 : at + 1]
    if backend == "mysql":
        plain.insert(1, "--skip-force")
    return plain, env


def hostile_home(directory):
    """Fill ``directory`` as a home whose client settings go on past errors.

    The scripts must stop at the first error whatever the clients read from
    their option files: sqlite3's ~/.sqliterc, psql's ~/.psqlrc (the README
    starts it with -X), mariadb's ~/.my.cnf.
    """
    (directory / ".sqliterc").write_text(".bail off\n")
    (directory / ".psqlrc").write_text("\\set ON_ERROR_STOP off\n")
    (directory / ".my.cnf").write_text("[client]\nforce\n[mysql]\nforce\n")
    return {"HOME": str(directory)}


PART = re.compile(r"^-- Part (\d+) of (\d+)$", re.MULTILINE)


def script_parts(sql_text):
    """Return (text, commands) for each part of a script.

    ``commands`` are the shell commands its end hands over to (a Django
    migrate, an online schema change tool), in order.
    """
    starts = [m.start() for m in PART.finditer(sql_text)]
    bounds = [0, *starts[1:], len(sql_text)] if starts else [0, len(sql_text)]
    parts = []
    for begin, end in zip(bounds, bounds[1:], strict=False):
        text = sql_text[begin:end]
        commands = []
        if "\n-- STOP: " in text:
            tail = text.split("\n-- STOP: ", 1)[1]
            for line in tail.splitlines():
                if line.startswith(("-- Then run part", "-- Nothing follows")):
                    break
                if line.startswith("--   "):
                    commands.append(line[5:])
        parts.append((text, commands))
    return parts


def run_parts(backend, settings_dict, sql_text, on_command=None):
    """Run a rendered script part by part with the README's client command.

    Between parts, ``on_command(command)`` does what the script hands over
    (it must be given when the script has such steps).
    """
    output = []
    for text, commands in script_parts(sql_text):
        output.append(run_part(backend, settings_dict, text, bool(commands)))
        if commands:
            assert on_command is not None, f"the script hands over {commands}"
            for command in commands:
                on_command(command)
    return "".join(output)


def run_part(backend, settings_dict, text, hands_over):
    """Run one part of a script with the README's client command.

    A part that hands over to a shell step ends with a statement that always
    fails (so that a script piped whole stops there): that, and nothing
    before it, must stop it.
    """
    if not hands_over:
        return run_script(backend, settings_dict, text, readme=True)
    result = run_client(backend, settings_dict, text)
    # The first error the client reports (mariadb echoes the statement first).
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert result.returncode != 0 and errors and "ends here" in errors[0], (
        f"the part did not stop at its end: {result.stderr}\n--- part ---\n{text}"
    )
    return result.stdout


def django_commands(alias):
    """Return an on_command for run_parts that runs migrate on ``alias``."""
    from django.core.management import call_command
    from django.db import connections

    def run(command):
        words = command.split()
        assert words[:3] == ["python", "manage.py", "migrate"], command
        args, rest = [], iter(words[3:])
        for word in rest:
            if word == "--database":
                assert next(rest) == alias, command
            else:
                args.append(word)
        connections[alias].close()
        call_command("migrate", *args, database=alias, verbosity=0, interactive=False)
        connections[alias].close()

    return run


def run_client(backend, settings_dict, sql_text, readme=True, env=None):
    """Run ``sql_text`` with the vendor's shell client; return how it ended.

    ``readme``: start the client as the README does, with no flag that
    stops it at an error (for rendered scripts, which set that themselves).
    ``env``: more of the client's environment (a hostile_home()).
    """
    command = readme_command if readme else shell_command
    argv, extra = command(backend, settings_dict)
    return subprocess.run(
        argv,
        input=sql_text,
        capture_output=True,
        text=True,
        env={**os.environ, **extra, **(env or {})},
        timeout=600,
    )


def run_script(backend, settings_dict, sql_text, readme=False):
    """Run ``sql_text`` with the vendor's shell client; fail on any error.

    ``readme``: start the client as the README does, with no flag that
    stops it at an error (for rendered scripts, which set that themselves).
    """
    result = run_client(backend, settings_dict, sql_text, readme)
    if result.returncode != 0:
        raise AssertionError(
            f"{result.args[0]} failed ({result.returncode}): {result.stderr}\n"
            "--- script ---\n"
            f"{sql_text}"
        )
    return result.stdout


def migration_rows(connection):
    """Return the sorted (app, name) rows of django_migrations."""
    if "django_migrations" not in connection.introspection.table_names():
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return sorted(tuple(row) for row in cursor.fetchall())


def dump_schema(connection):
    """Return a canonical description of every table, column, index and
    constraint, leaving out data, counters and the database's own name."""
    dump = {"sqlite": _sqlite, "postgresql": _postgresql, "mysql": _mysql}
    with connection.cursor() as cursor:
        return dump[connection.vendor](cursor)


def _rows(cursor, sql, params=()):
    cursor.execute(sql, params)
    return [tuple(row) for row in cursor.fetchall()]


def _sqlite(cursor):
    schema = {}
    objects = _rows(
        cursor,
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )
    for kind, name, table, sql in objects:
        entry = {"table": table, "sql": " ".join((sql or "").split())}
        if kind == "table":
            entry["columns"] = _rows(cursor, f'PRAGMA table_xinfo("{name}")')
            entry["foreign_keys"] = _rows(cursor, f'PRAGMA foreign_key_list("{name}")')
            entry["indexes"] = [
                row[1:] + (_rows(cursor, f'PRAGMA index_xinfo("{row[1]}")'),)
                for row in _rows(cursor, f'PRAGMA index_list("{name}")')
            ]
            entry["indexes"].sort()
        schema[f"{kind}:{name}"] = entry
    return schema


def _postgresql(cursor):
    schema = {}
    columns = _rows(
        cursor,
        "SELECT table_name, column_name, ordinal_position, data_type, "
        "character_maximum_length, numeric_precision, numeric_scale, is_nullable, "
        "column_default, is_identity, identity_generation, collation_name "
        "FROM information_schema.columns WHERE table_schema = 'public' "
        "ORDER BY table_name, ordinal_position",
    )
    for row in columns:
        # A serial default names a sequence; its name is part of the schema.
        schema.setdefault(f"table:{row[0]}", {"columns": []})["columns"].append(row[1:])
    for name, definition in _rows(
        cursor,
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "ORDER BY indexname",
    ):
        schema[f"index:{name}"] = definition
    for name, table, kind, definition, deferrable, deferred in _rows(
        cursor,
        "SELECT c.conname, t.relname, c.contype, pg_get_constraintdef(c.oid), "
        "c.condeferrable, c.condeferred FROM pg_constraint c "
        "JOIN pg_class t ON t.oid = c.conrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = 'public' ORDER BY c.conname, t.relname",
    ):
        schema[f"constraint:{table}.{name}"] = (kind, definition, deferrable, deferred)
    for (name,) in _rows(
        cursor,
        "SELECT sequence_name FROM information_schema.sequences "
        "WHERE sequence_schema = 'public' ORDER BY sequence_name",
    ):
        schema[f"sequence:{name}"] = True
    return schema


def _mysql(cursor):
    schema = {}
    for (table,) in _rows(
        cursor,
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = DATABASE() ORDER BY table_name",
    ):
        created = _rows(cursor, f"SHOW CREATE TABLE `{table}`")[0][1]
        # The AUTO_INCREMENT=N table option counts rows, not schema.
        schema[f"table:{table}"] = re.sub(r" AUTO_INCREMENT=\d+", "", created)
    return schema
