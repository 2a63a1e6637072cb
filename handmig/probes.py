"""Probes of the target's rows, each bounded in time.

The catalog says which tables and columns a plan drops, not whether they
hold data; only a query on the table itself can. On a big, mostly empty
column that query is a scan of a production table, so each probe runs under
a statement timeout and answers "unknown" when it fires; ``data_probes=False``
(``--no-data-probes``) leaves the rows alone altogether.
"""

from __future__ import annotations

import contextlib
import time

from django.db import DatabaseError

# How long one probe may run on the target before it answers "unknown".
TIMEOUT_MS = 2000


def holds_data(connection, table: str, column: str | None) -> bool | None:
    """Return whether ``table`` (or its ``column``) holds data; None if unknown.

    The caller checks first that the table and column exist.
    """
    q = connection.ops.quote_name
    where = f" WHERE {q(column)} IS NOT NULL" if column is not None else ""
    sql = f"SELECT 1 FROM {q(table)}{where} LIMIT 1"
    try:
        with _bounded(connection, sql) as bounded, connection.cursor() as cursor:
            cursor.execute(bounded)
            return cursor.fetchone() is not None
    except DatabaseError:
        # Cancelled by the timeout (or refused): the answer is not known.
        return None


@contextlib.contextmanager
def _bounded(connection, sql: str):
    """Yield ``sql`` made to stop after TIMEOUT_MS on the target's vendor."""
    vendor = connection.vendor
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {TIMEOUT_MS}")
        try:
            yield sql
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
    elif vendor == "mysql":
        if getattr(connection, "mysql_is_mariadb", False):
            yield f"SET STATEMENT max_statement_time = {TIMEOUT_MS / 1000:g} FOR {sql}"
        else:
            yield sql.replace(
                "SELECT", f"SELECT /*+ MAX_EXECUTION_TIME({TIMEOUT_MS}) */", 1
            )
    elif vendor == "sqlite":
        connection.ensure_connection()
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        # SQLite calls this every N virtual machine steps; a true answer
        # interrupts the statement.
        connection.connection.set_progress_handler(
            lambda: time.monotonic() > deadline, 10_000
        )
        try:
            yield sql
        finally:
            connection.connection.set_progress_handler(None, 0)
    else:
        yield sql
