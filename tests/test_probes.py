"""Data probes on the target: bounded in time, and read-only."""

import pytest
from django.conf import settings
from django.db import connections

from handmig import database, probes
from tests.schema import create_database, selected_backends

ROWS = 300_000


def _big_empty_column(backend):
    """Make a table whose column is NULL in every one of ROWS rows."""
    alias = f"{backend}_scratch"
    connections[alias].close()
    create_database(backend, settings.DATABASES[alias]["NAME"])
    with connections[alias].cursor() as cursor:
        cursor.execute("CREATE TABLE probed (id integer, note varchar(20))")
        if backend == "postgresql":
            cursor.execute(
                f"INSERT INTO probed SELECT g, NULL FROM generate_series(1, {ROWS}) g"
            )
        else:
            if backend == "mysql":
                variable = (
                    "max_recursive_iterations"
                    if connections[alias].mysql_is_mariadb
                    else "cte_max_recursion_depth"
                )
                cursor.execute(f"SET SESSION {variable} = 1000000")
            cursor.execute(
                "INSERT INTO probed WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                f"SELECT i + 1 FROM n WHERE i < {ROWS}) SELECT i, NULL FROM n"
            )
    connections[alias].close()
    return alias


@pytest.mark.parametrize("backend", selected_backends())
def test_a_probe_that_runs_too_long_answers_unknown(backends, backend, monkeypatch):
    alias = _big_empty_column(backend)
    with database.read_only(alias) as (connection, _):
        # In time, the scan finds no value; cut short, it cannot say.
        assert probes.holds_data(connection, "probed", "note") is False
        monkeypatch.setattr(probes, "TIMEOUT_MS", 1)
        assert probes.holds_data(connection, "probed", "note") is None
        # The timeout does not outlive the probe.
        monkeypatch.setattr(probes, "TIMEOUT_MS", 60_000)
        assert probes.holds_data(connection, "probed", "id") is True
    connections[alias].close()
