"""MySQL/MariaDB: the ALTER algorithm each statement claims, checked on the
server with ALGORITHM=, and ALTERs run through pt-online-schema-change (for
real) and gh-ost (their --alter, as SQL) compared with migrate."""

import shlex
import shutil
import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from handmig import build_plan, build_runbook
from handmig.errors import ConfigurationError
from tests.schema import (
    create_database,
    dump_schema,
    migration_rows,
    selected_backends,
)
from tests.test_runbook_model import _scratch_at

MYSQL = ["mysql"] if "mysql" in selected_backends() else []
ORDER = ("INSTANT", "INPLACE", "COPY")
# MariaDB's "ALGORITHM=... is not supported" errors.
NOT_SUPPORTED = {1845, 1846}


def _fresh(alias, *targets, rows=False):
    connections[alias].close()
    create_database("mysql", settings.DATABASES[alias]["NAME"])
    for app, name in targets:
        call_command("migrate", app, name, database=alias, verbosity=0)
    if rows:
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "INSERT INTO shop_promotion (code, percent, starts) VALUES "
                "('A', 10, NULL), ('B', 20, '2021-05-01'), ('C', 30, NULL)"
            )
    connections[alias].close()


def _statements(runbook):
    """Every statement of the runbook, in the order the person runs them."""
    for step in runbook.before:
        yield from step.statements
    for section in runbook.migrations:
        yield from section.timeouts
        for operation in section.operations:
            yield from operation.statements
        yield from section.deferred
        yield from section.record.statements


def _execute(alias, sql):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)


def _promotions(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT code, percent, starts FROM shop_promotion ORDER BY code")
        return cursor.fetchall()


def _same_as_migrate(a, b, target):
    call_command("migrate", *target, database=b, verbosity=0)
    assert dump_schema(connections[a]) == dump_schema(connections[b])
    assert migration_rows(connections[a]) == migration_rows(connections[b])
    assert _promotions(a) == _promotions(b)


@pytest.mark.parametrize("backend", MYSQL)
def test_every_alter_algorithm_claim_holds_on_the_server(backends, backend):
    alias = "mysql_a"
    _fresh(alias)
    runbook = build_plan(database_alias=alias, shadow="always")
    connections[alias].close()
    claims = 0
    for statement in _statements(runbook):
        claim = statement.lock.split(":")[0].removeprefix("ALGORITHM=")
        if claim not in ORDER:
            _execute(alias, statement.sql)
            continue
        claims += 1
        sql = statement.sql.rstrip().rstrip(";")
        glue = ", " if statement.verb.startswith("ALTER TABLE") else " "
        # Every cheaper algorithm is refused by the server ...
        for cheaper in ORDER[: ORDER.index(claim)]:
            with pytest.raises(Exception) as refused:
                _execute(alias, f"{sql}{glue}ALGORITHM={cheaper}")
            code = refused.value.args[0] if refused.value.args else None
            assert code in NOT_SUPPORTED, (statement.sql, cheaper, refused.value)
        # ... and the claimed one does the job.
        _execute(alias, f"{sql}{glue}ALGORITHM={claim}")
    assert claims > 30
    b = "mysql_b"
    _fresh(b)
    call_command("migrate", database=b, verbosity=0)
    assert dump_schema(connections[alias]) == dump_schema(connections[b])
    connections[alias].close()
    connections[b].close()


@pytest.mark.parametrize("backend", MYSQL)
def test_pt_online_schema_change_matches_migrate(backends, backend):
    tool = shutil.which("pt-online-schema-change")
    assert tool, "pt-online-schema-change is missing: apt-get install percona-toolkit"
    a, b = "mysql_a", "mysql_b"
    for alias in (a, b):
        _fresh(alias, ("shop", "0013"), rows=True)
    runbook = build_plan("shop", "0015", database_alias=a, online="pt-osc")
    connections[a].close()
    online = [s for s in _statements(runbook) if s.online]
    # AlterField percent: MODIFY and ADD CONSTRAINT ... CHECK, one copy.
    assert [s.online.merged for s in online] == [2]
    assert all(s.online.tool == "pt-online-schema-change" for s in online)
    assert "mysql-table-copy" not in online[0].rules
    kept = [s for s in _statements(runbook) if s.online_note]
    assert any("INSTANT" in s.online_note for s in kept)
    # After that run the table has a CHECK constraint, which the tool would
    # rename: MODIFY starts stays SQL.
    assert any("CHECK constraints" in s.online_note for s in kept)
    # shop.0015 adds a foreign key: the tool would have to rebuild it.
    assert any("foreign key" in s.online_note and "book_id" in s.sql for s in kept)
    before = dump_schema(connections[a])
    for statement in _statements(runbook):
        if not statement.online:
            _execute(a, statement.sql)
            continue
        connections[a].close()  # the tool swaps tables: hold no metadata lock
        dry = subprocess.run(
            shlex.split(statement.online.dry_run), capture_output=True, text=True
        )
        assert dry.returncode == 0, dry.stdout + dry.stderr
        assert "Dry run complete" in dry.stdout
        run = subprocess.run(
            shlex.split(statement.online.execute), capture_output=True, text=True
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Successfully altered" in run.stdout
    assert dump_schema(connections[a]) != before
    _same_as_migrate(a, b, ("shop", "0015"))
    connections[a].close()
    connections[b].close()


@pytest.mark.parametrize("backend", MYSQL)
def test_gh_ost_commands_and_their_alter(backends, backend):
    a, b = "mysql_a", "mysql_b"
    for alias in (a, b):
        _fresh(alias, ("shop", "0013"), rows=True)
    runbook = build_runbook("shop", "0014", database_alias=a, online="gh-ost")
    connections[a].close()
    online = [s for s in _statements(runbook) if s.online]
    assert len(online) == 1
    for statement in online:
        dry, execute = (
            shlex.split(c) for c in (statement.online.dry_run, statement.online.execute)
        )
        assert dry[0] == "gh-ost" and "--execute" not in dry
        assert execute == dry + ["--execute"]
        assert f"--database={settings.DATABASES[a]['NAME']}" in dry
        assert "--table=shop_promotion" in dry
        (alter,) = [
            arg.removeprefix("--alter=") for arg in dry if arg.startswith("--alter=")
        ]
        assert alter == statement.online.alter
    # gh-ost is not packaged here: its --alter, run as SQL, must be the
    # migration's change.
    for statement in _statements(runbook):
        if statement.online:
            _execute(a, f"ALTER TABLE shop_promotion {statement.online.alter}")
        else:
            _execute(a, statement.sql)
    _same_as_migrate(a, b, ("shop", "0014"))
    connections[a].close()
    connections[b].close()


@pytest.mark.parametrize("backend", MYSQL)
@pytest.mark.parametrize("tool", ["pt-osc", "gh-ost"])
def test_tables_with_foreign_keys_stay_sql(backends, backend, tool):
    alias = _scratch_at(backend, ("inventory", "0001_squashed_0003_stock_location"))
    runbook = build_runbook("inventory", "0004", database_alias=alias, online=tool)
    connections[alias].close()
    modify = next(s for s in _statements(runbook) if "MODIFY" in s.sql)
    assert modify.online is None
    assert "mysql-table-copy" in modify.rules  # it still copies the table
    assert "inventory_warehouse" in modify.online_note
    assert "foreign keys" in modify.online_note


@pytest.mark.parametrize("backend", [b for b in selected_backends() if b != "mysql"])
def test_online_tools_are_for_mysql_only(backends, backend):
    alias = _scratch_at(backend, ("shop", "0013"))
    with pytest.raises(ConfigurationError, match="--pt-osc is for MySQL/MariaDB"):
        build_runbook("shop", "0014", database_alias=alias, online="pt-osc")
    connections[alias].close()


def test_unknown_tool_is_refused():
    with pytest.raises(ConfigurationError, match="pt-osc, gh-ost"):
        build_runbook("shop", "0014", online="osc")
