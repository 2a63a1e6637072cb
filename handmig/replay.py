"""Run a plan's statements on a shadow database when something reads it there.

On a shadow the SQL is collected as on the target, statement by statement,
and each statement is queued to run on the shadow too. The queue runs when
something needs the shadow to be where the plan has got to: Django reading
the catalog (the names of constraints it is about to drop), or a Python step
using the database. Python steps that never touch the database then cost no
DDL at all; running every statement as it comes would, and on SQLite each
table rename rewrites the whole schema, which makes a long history cost time
quadratic in its length.

The shadow runs the very text the runbook shows, so it also proves that text
executes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable


class Replay:
    """The statements (and bookkeeping) a shadow has yet to run, in order."""

    def __init__(self, connection):
        self.connection = connection
        self.label = ""  # the migration whose statements are being queued
        self._pending: list[tuple[str, str | Callable[[], object]]] = []

    def queue(self, item: str | Callable[[], object]) -> None:
        """Queue SQL text, or a function that writes to the shadow itself."""
        self._pending.append((self.label, item))

    def flush(self) -> None:
        """Run everything queued, in order.

        An error names the migration the failing statement came from, as
        ``label`` on the exception: it may be an earlier one than the
        migration that caused the flush.
        """
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        # The class's cursor: touching() may have replaced the instance's.
        with type(self.connection).cursor(self.connection) as cursor:
            for label, item in pending:
                try:
                    if callable(item):
                        item()
                    else:
                        cursor.execute(item)
                except Exception as exc:
                    exc.label = label  # type: ignore[attr-defined]
                    raise

    @contextlib.contextmanager
    def touching(self):
        """While a Python step runs, catch the shadow up before it uses it."""
        connection = self.connection
        kind = type(connection)

        def cursor(*args, **kwargs):
            self.flush()
            return kind.cursor(connection, *args, **kwargs)

        def chunked_cursor(*args, **kwargs):
            self.flush()
            return kind.chunked_cursor(connection, *args, **kwargs)

        connection.cursor = cursor
        connection.chunked_cursor = chunked_cursor
        try:
            yield
        finally:
            del connection.cursor
            del connection.chunked_cursor
