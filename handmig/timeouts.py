"""Lock and statement timeouts, as each vendor sets them for a session.

A migration that waits for a lock on a busy table queues every query behind
it; a lock timeout makes it give up instead. PostgreSQL scopes the setting
to the transaction with SET LOCAL where there is one.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

from handmig import statements
from handmig.errors import ConfigurationError
from handmig.model import Statement

_DURATION = re.compile(
    r"^\s*((?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?i:[+-]?(?:inf(?:inity)?|nan)))\s*(ms|s|min|h)?\s*$"
)
_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, None: 1000}
_EXAMPLES = "500ms, 5s or 2min (a bare number is seconds)"

# The largest value each setting holds: PostgreSQL's and SQLite's are C ints
# of milliseconds, MariaDB's and MySQL's a year of seconds.
_INT_MAX = 2_147_483_647
_YEAR_S = 31_536_000


def parse(value: str | None) -> int | None:
    """Return a duration like "5s", "500ms" or "2min" in milliseconds."""
    if value is None:
        return None
    match = _DURATION.match(value)
    if not match:
        raise ConfigurationError(
            f"Cannot read the duration {value!r}; write it like {_EXAMPLES}."
        )
    number = Decimal(match.group(1))
    if not number.is_finite():
        raise ConfigurationError(
            f"The duration {value!r} is not a finite number; write it like {_EXAMPLES}."
        )
    if number.is_signed() and number:
        raise ConfigurationError(
            f"The duration {value!r} is negative; write it like {_EXAMPLES}."
        )
    if not number:
        # Zero is how PostgreSQL spells "no timeout".
        raise ConfigurationError(
            f"The duration {value!r} is zero, which PostgreSQL reads as no "
            "timeout at all; write at least 1ms."
        )
    if number.adjusted() > 20:
        # Longer than any database holds (and a huge integer to build).
        raise ConfigurationError(
            f"The duration {value!r} is longer than any database's timeout "
            "can be; write at most 365 days (24 days on PostgreSQL and SQLite)."
        )
    # Next to nothing is under 1ms; Fraction would build a huge integer.
    tiny = number.adjusted() < -20
    ms = Fraction(0) if tiny else Fraction(number) * _MS[match.group(2)]
    if ms < 1:
        raise ConfigurationError(
            f"The duration {value!r} is under 1ms, which PostgreSQL rounds to "
            "0, no timeout at all; write at least 1ms."
        )
    if ms.denominator != 1:
        # No setting counts below a millisecond: truncating would change it.
        low = math.floor(ms)
        raise ConfigurationError(
            f"The duration {value!r} is not a whole number of milliseconds; "
            f"write {low}ms or {low + 1}ms."
        )
    return int(ms)


def settings(connection, lock_ms, statement_ms, in_transaction) -> list[Statement]:
    """Return the statements that set the timeouts for what follows.

    A value the vendor cannot hold exactly is refused: rounded, a timeout
    is not the one asked for, and out of range it fails mid-script.
    """
    found = []
    vendor = connection.vendor
    if vendor == "postgresql":
        scope = "SET LOCAL" if in_transaction else "SET"
        if lock_ms is not None:
            _check_ms("PostgreSQL's lock_timeout", "--lock-timeout", lock_ms)
            found.append(f"{scope} lock_timeout = '{lock_ms}ms';")
        if statement_ms is not None:
            _check_ms(
                "PostgreSQL's statement_timeout", "--statement-timeout", statement_ms
            )
            found.append(f"{scope} statement_timeout = '{statement_ms}ms';")
    elif vendor == "mysql":
        mariadb = getattr(connection, "mysql_is_mariadb", False)
        name = "MariaDB" if mariadb else "MySQL"
        if lock_ms is not None:
            # Metadata locks are what DDL waits for; the unit is seconds.
            seconds = _whole_seconds(f"{name}'s lock_wait_timeout", lock_ms)
            found.append(f"SET SESSION lock_wait_timeout = {seconds};")
        if statement_ms is not None and mariadb:
            _check_seconds(
                "MariaDB's max_statement_time", "--statement-timeout", statement_ms
            )
            found.append(
                f"SET SESSION max_statement_time = {_decimal_seconds(statement_ms)};"
            )
        elif statement_ms is not None:
            raise ConfigurationError(
                "MySQL has no timeout for DDL statements (its max_execution_time "
                "stops only SELECT); leave out --statement-timeout."
            )
    elif vendor == "sqlite" and lock_ms is not None:
        _check_ms("SQLite's busy_timeout", "--lock-timeout", lock_ms)
        found.append(f"PRAGMA busy_timeout = {lock_ms};")
    return [statements.make(sql) for sql in found]


def reset(connection, lock_ms, statement_ms, in_transaction) -> list[Statement]:
    """Return the statements that take back what settings() set for the session.

    SET LOCAL ends with its transaction; a session-wide SET would stay in
    force for whatever the operator runs next in the same console.
    """
    found = []
    vendor = connection.vendor
    if vendor == "postgresql" and not in_transaction:
        if lock_ms is not None:
            found.append("RESET lock_timeout;")
        if statement_ms is not None:
            found.append("RESET statement_timeout;")
    elif vendor == "mysql":
        if lock_ms is not None:
            found.append("SET SESSION lock_wait_timeout = DEFAULT;")
        if statement_ms is not None and getattr(connection, "mysql_is_mariadb", False):
            found.append("SET SESSION max_statement_time = DEFAULT;")
    elif vendor == "sqlite" and lock_ms is not None:
        # The sqlite3 shell waits this long by default.
        found.append("PRAGMA busy_timeout = 0;")
    return [statements.make(sql) for sql in found]


def _check_ms(setting: str, option: str, ms: int) -> None:
    if not 1 <= ms <= _INT_MAX:
        raise ConfigurationError(
            f"{setting} is at most {_INT_MAX}ms (about 24 days); "
            f"give {option} a shorter duration."
        )


def _check_seconds(setting: str, option: str, ms: int) -> None:
    if not 1 <= ms <= _YEAR_S * 1000:
        raise ConfigurationError(
            f"{setting} is at most {_YEAR_S}s (365 days); "
            f"give {option} a shorter duration."
        )


def _whole_seconds(setting: str, ms: int) -> int:
    _check_seconds(setting, "--lock-timeout", ms)
    seconds, rest = divmod(ms, 1000)
    if rest:
        choices = f"{seconds}s or {seconds + 1}s" if seconds else "1s"
        raise ConfigurationError(f"{setting} counts whole seconds; use {choices}.")
    return seconds


def _decimal_seconds(ms: int) -> str:
    """Return ``ms`` in seconds, written exactly ("1.5", not 1.5 rounded)."""
    seconds, rest = divmod(ms, 1000)
    return f"{seconds}.{rest:03d}".rstrip("0").rstrip(".")


def advice(connection, in_transaction) -> str:
    """Return what to do when a timeout fires."""
    if connection.vendor == "postgresql" and in_transaction:
        return (
            "If a statement stops with 'canceling statement due to lock timeout' "
            "(or statement timeout), the transaction is aborted and nothing of "
            "this migration is applied: run ROLLBACK, find what holds the lock "
            "(pg_stat_activity, pg_locks), and start this section again later."
        )
    if connection.vendor == "sqlite":
        return (
            "If a statement stops with 'database is locked', another connection "
            "holds a write lock: ROLLBACK, and start this section again later."
        )
    return (
        "If a statement stops on a timeout, it changed nothing, but the "
        "statements before it are already committed (no transaction wraps "
        "them here): find what holds the lock, then go on from the statement "
        "that failed."
    )
