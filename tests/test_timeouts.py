"""--lock-timeout and --statement-timeout: read exactly, set exactly.

A duration that PostgreSQL would read as "no timeout" (zero, under 1ms), a
value the vendor would round (1500ms as whole seconds) or could not hold
(99999999h) is refused with the fix, before the script reaches BEGIN. The
statements are run on the real servers too, which report the value back.
"""

import sqlite3
from decimal import Decimal
from types import SimpleNamespace

import pytest

from handmig import timeouts
from handmig.errors import ConfigurationError
from tests.schema import BACKENDS, _server, selected_backends

POSTGRESQL = SimpleNamespace(vendor="postgresql")
MARIADB = SimpleNamespace(vendor="mysql", mysql_is_mariadb=True)
MYSQL = SimpleNamespace(vendor="mysql", mysql_is_mariadb=False)
SQLITE = SimpleNamespace(vendor="sqlite")
VENDORS = {
    "postgresql": POSTGRESQL,
    "mariadb": MARIADB,
    "mysql": MYSQL,
    "sqlite": SQLITE,
}


@pytest.mark.parametrize(
    "value,ms",
    [
        ("5", 5000),  # a bare number is seconds
        ("5s", 5000),
        ("500ms", 500),
        ("2min", 120_000),
        ("1h", 3_600_000),
        (" 5 s ", 5000),
        (".5s", 500),
        ("1.5s", 1500),
        ("1e3", 1_000_000),
        ("1.5e3ms", 1500),
        ("1ms", 1),
        ("2147483647ms", 2_147_483_647),
        ("2147483648ms", 2_147_483_648),  # the vendor decides: see below
        ("99999999h", 359_999_996_400_000),
        (None, None),
    ],
)
def test_parse(value, ms):
    assert timeouts.parse(value) == ms


@pytest.mark.parametrize(
    "value,fix",
    [
        (
            "0",
            "is zero, which PostgreSQL reads as no timeout at all; write at least 1ms",
        ),
        ("0ms", "is zero"),
        ("-0", "is zero"),
        ("-1", "is negative"),
        ("-5s", "is negative"),
        ("0.4ms", "is under 1ms, which PostgreSQL rounds to 0"),
        ("0.0001s", "is under 1ms"),
        ("1e-999999999", "is under 1ms"),
        ("1.5ms", "is not a whole number of milliseconds; write 1ms or 2ms"),
        ("1.0005s", "write 1000ms or 1001ms"),
        ("inf", "is not a finite number"),
        ("-inf", "is not a finite number"),
        ("Infinity", "is not a finite number"),
        ("nan", "is not a finite number"),
        ("1e999999999", "longer than any database's timeout can be"),
        ("soon", "write it like 500ms, 5s or 2min (a bare number is seconds)"),
        ("5 sec", "Cannot read the duration"),
        ("", "Cannot read the duration"),
    ],
)
def test_parse_refuses(value, fix):
    with pytest.raises(ConfigurationError) as info:
        timeouts.parse(value)
    message = str(info.value)
    assert fix in message
    assert "\n" not in message and message.endswith(".")


def _sql(statements):
    return [statement.sql for statement in statements]


@pytest.mark.parametrize(
    "vendor,lock,statement,in_transaction,expected",
    [
        (
            "postgresql",
            "5s",
            "2min",
            True,
            [
                "SET LOCAL lock_timeout = '5000ms';",
                "SET LOCAL statement_timeout = '120000ms';",
            ],
        ),
        ("postgresql", "1500ms", None, False, ["SET lock_timeout = '1500ms';"]),
        (
            "postgresql",
            "2147483647ms",
            "2147483647ms",
            True,
            [
                "SET LOCAL lock_timeout = '2147483647ms';",
                "SET LOCAL statement_timeout = '2147483647ms';",
            ],
        ),
        ("postgresql", "1ms", None, True, ["SET LOCAL lock_timeout = '1ms';"]),
        (
            "mariadb",
            "2000ms",
            "1500ms",
            False,
            [
                "SET SESSION lock_wait_timeout = 2;",
                "SET SESSION max_statement_time = 1.5;",
            ],
        ),
        ("mariadb", "5", None, False, ["SET SESSION lock_wait_timeout = 5;"]),
        ("mariadb", "1e3", None, False, ["SET SESSION lock_wait_timeout = 1000;"]),
        (
            "mariadb",
            "8760h",
            "8760h",
            False,
            [
                "SET SESSION lock_wait_timeout = 31536000;",
                "SET SESSION max_statement_time = 31536000;",
            ],
        ),
        # Exact to the millisecond, not rounded to six digits.
        (
            "mariadb",
            None,
            "1234567ms",
            False,
            ["SET SESSION max_statement_time = 1234.567;"],
        ),
        ("mariadb", None, "1ms", False, ["SET SESSION max_statement_time = 0.001;"]),
        (
            "mariadb",
            None,
            "2147483648ms",
            False,
            ["SET SESSION max_statement_time = 2147483.648;"],
        ),
        ("mysql", "5s", None, False, ["SET SESSION lock_wait_timeout = 5;"]),
        ("sqlite", "500ms", None, False, ["PRAGMA busy_timeout = 500;"]),
        ("sqlite", "2147483647ms", None, False, ["PRAGMA busy_timeout = 2147483647;"]),
        # SQLite has no statement timeout: documented as ignored.
        ("sqlite", "5s", "2min", False, ["PRAGMA busy_timeout = 5000;"]),
        ("sqlite", None, "2min", False, []),
    ],
)
def test_settings(vendor, lock, statement, in_transaction, expected):
    found = timeouts.settings(
        VENDORS[vendor],
        timeouts.parse(lock),
        timeouts.parse(statement),
        in_transaction,
    )
    assert _sql(found) == expected


@pytest.mark.parametrize(
    "vendor,lock,statement,fix",
    [
        (
            "postgresql",
            "2147483648ms",
            None,
            "PostgreSQL's lock_timeout is at most 2147483647ms (about 24 days); "
            "give --lock-timeout a shorter duration.",
        ),
        (
            "postgresql",
            None,
            "99999999h",
            "PostgreSQL's statement_timeout is at most 2147483647ms",
        ),
        ("postgresql", "99999999h", None, "give --lock-timeout a shorter duration"),
        (
            "mariadb",
            "1500ms",
            None,
            "MariaDB's lock_wait_timeout counts whole seconds; use 1s or 2s.",
        ),
        (
            "mariadb",
            "500ms",
            None,
            "MariaDB's lock_wait_timeout counts whole seconds; use 1s.",
        ),
        ("mariadb", "2147483648ms", None, "use 2147483s or 2147484s"),
        (
            "mariadb",
            "99999999h",
            None,
            "MariaDB's lock_wait_timeout is at most 31536000s (365 days); "
            "give --lock-timeout a shorter duration.",
        ),
        (
            "mariadb",
            None,
            "99999999h",
            "MariaDB's max_statement_time is at most 31536000s (365 days); "
            "give --statement-timeout a shorter duration.",
        ),
        ("mysql", "1500ms", None, "MySQL's lock_wait_timeout counts whole seconds"),
        ("mysql", "99999999h", None, "MySQL's lock_wait_timeout is at most 31536000s"),
        (
            "mysql",
            None,
            "2min",
            "MySQL has no timeout for DDL statements (its max_execution_time "
            "stops only SELECT); leave out --statement-timeout.",
        ),
        (
            "sqlite",
            "2147483648ms",
            None,
            "SQLite's busy_timeout is at most 2147483647ms",
        ),
        ("sqlite", "99999999h", None, "give --lock-timeout a shorter duration"),
    ],
)
def test_settings_refuse(vendor, lock, statement, fix):
    with pytest.raises(ConfigurationError) as info:
        timeouts.settings(
            VENDORS[vendor], timeouts.parse(lock), timeouts.parse(statement), True
        )
    message = str(info.value)
    assert fix in message
    assert "\n" not in message


# What the server reports back for each setting, in milliseconds.
_REPORTED = {
    "lock_timeout": "SELECT setting FROM pg_settings WHERE name = 'lock_timeout'",
    "statement_timeout": (
        "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'"
    ),
    "lock_wait_timeout": "SELECT @@session.lock_wait_timeout * 1000",
    "max_statement_time": "SELECT @@session.max_statement_time * 1000",
    "busy_timeout": "PRAGMA busy_timeout",
}

# Valid values each server must hold exactly: (lock ms, statement ms).
_VALUES = {
    "postgresql": [(1, 1), (1500, 1234567), (2_147_483_647, 2_147_483_647)],
    "mysql": [(1000, 1), (2000, 1500), (31_536_000_000, 31_536_000_000)],
    "sqlite": [(1, None), (1500, None), (2_147_483_647, None)],
}


def _connect(backend):
    """Return (DB-API connection, fake Django connection) for ``backend``."""
    if backend == "sqlite":
        return sqlite3.connect(":memory:"), SQLITE
    server = _server(backend)
    if backend == "postgresql":
        import psycopg

        conn = psycopg.connect(
            host=server["HOST"],
            port=server["PORT"],
            user=server["USER"],
            password=server["PASSWORD"],
            dbname="postgres",
            connect_timeout=10,
        )
        return conn, POSTGRESQL
    import MySQLdb

    conn = MySQLdb.connect(
        host=server["HOST"],
        port=int(server["PORT"]),
        user=server["USER"],
        password=server["PASSWORD"],
        connect_timeout=10,
    )
    cursor = conn.cursor()
    cursor.execute("SELECT VERSION()")
    mariadb = "mariadb" in cursor.fetchone()[0].lower()
    return conn, (MARIADB if mariadb else MYSQL)


@pytest.mark.parametrize("backend", BACKENDS)
def test_servers_hold_the_values_exactly(backend):
    # Not selected: skipped. Selected and unreachable: the connect fails.
    if backend not in selected_backends():
        pytest.skip(f"{backend} is not in HANDMIG_TEST_DATABASES")
    conn, vendor = _connect(backend)
    try:
        cursor = conn.cursor()
        for lock_ms, statement_ms in _VALUES[backend]:
            if vendor is MYSQL:
                statement_ms = None  # refused, see test_settings_refuse
            # PostgreSQL: SET LOCAL inside the open transaction, as in a
            # transactional section; the DB-API opened one already.
            found = timeouts.settings(vendor, lock_ms, statement_ms, True)
            assert len(found) == 1 + (statement_ms is not None)
            for statement in found:
                cursor.execute(statement.sql)
                setting = statement.sql.split(" = ")[0].split()[-1]
                cursor.execute(_REPORTED[setting])
                reported = Decimal(str(cursor.fetchone()[0]))
                asked = (
                    lock_ms if "lock" in setting or "busy" in setting else statement_ms
                )
                assert reported == asked, statement.sql
        conn.rollback()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "connection,in_transaction,expected",
    [
        (POSTGRESQL, True, []),
        (POSTGRESQL, False, ["RESET lock_timeout;", "RESET statement_timeout;"]),
        (
            MARIADB,
            False,
            [
                "SET SESSION lock_wait_timeout = DEFAULT;",
                "SET SESSION max_statement_time = DEFAULT;",
            ],
        ),
        (SQLITE, True, ["PRAGMA busy_timeout = 0;"]),
    ],
)
def test_session_timeouts_are_taken_back_after_the_section(
    connection, in_transaction, expected
):
    reset = timeouts.reset(connection, 5000, 60000, in_transaction)
    assert [s.sql for s in reset] == expected
