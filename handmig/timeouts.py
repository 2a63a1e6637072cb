"""Lock and statement timeouts, as each vendor sets them for a session.

A migration that waits for a lock on a busy table queues every query behind
it; a lock timeout makes it give up instead. PostgreSQL scopes the setting
to the transaction with SET LOCAL where there is one.
"""

from __future__ import annotations

import re

from handmig import statements
from handmig.errors import ConfigurationError
from handmig.model import Statement

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*$")
_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, None: 1000}


def parse(value: str | None) -> int | None:
    """Return a duration like "5s", "500ms" or "2min" in milliseconds."""
    if value is None:
        return None
    match = _DURATION.match(value)
    if not match:
        raise ConfigurationError(
            f"Cannot read the duration {value!r}; write it like 500ms, 5s or 2min."
        )
    return int(float(match.group(1)) * _MS[match.group(2)])


def settings(connection, lock_ms, statement_ms, in_transaction) -> list[Statement]:
    """Return the statements that set the timeouts for what follows."""
    found = []
    vendor = connection.vendor
    if vendor == "postgresql":
        scope = "SET LOCAL" if in_transaction else "SET"
        if lock_ms is not None:
            found.append(f"{scope} lock_timeout = '{lock_ms}ms';")
        if statement_ms is not None:
            found.append(f"{scope} statement_timeout = '{statement_ms}ms';")
    elif vendor == "mysql":
        if lock_ms is not None:
            # Metadata locks are what DDL waits for; the unit is seconds.
            found.append(f"SET SESSION lock_wait_timeout = {max(1, lock_ms // 1000)};")
        if statement_ms is not None and getattr(connection, "mysql_is_mariadb", False):
            found.append(f"SET SESSION max_statement_time = {statement_ms / 1000:g};")
    elif vendor == "sqlite" and lock_ms is not None:
        found.append(f"PRAGMA busy_timeout = {lock_ms};")
    return [statements.make(sql) for sql in found]


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
