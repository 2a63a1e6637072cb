"""Whole plans, proven by execution like single migrations: the runbook of
``handmig plan`` run by the vendor's shell client leaves the same schema and
django_migrations rows as ``manage.py migrate`` with the same arguments.
"""

import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.exceptions import IrreversibleError

from handmig import bookkeeping, render
from handmig.errors import IrreversibleMigration, ShadowFailed, ShadowNeeded
from handmig.runbook import build_plan
from tests.schema import (
    create_database,
    django_commands,
    dump_schema,
    migration_rows,
    run_parts,
    run_script,
    selected_backends,
)
from tests.walk import history

BACKENDS = selected_backends()


def _fresh(backend):
    for role in ("a", "b"):
        alias = f"{backend}_{role}"
        connections[alias].close()
        create_database(backend, settings.DATABASES[alias]["NAME"])
    return f"{backend}_a", f"{backend}_b"


def _step(backend, args, shadow="auto"):
    """Run one plan both ways and compare; return the runbook."""
    a, b = f"{backend}_a", f"{backend}_b"
    runbook = build_plan(*args, database_alias=a, shadow=shadow)
    connections[a].close()
    run_parts(
        backend,
        connections[a].settings_dict,
        render(runbook, format="sql"),
        django_commands(a),
    )
    call_command("migrate", *args, database=b, verbosity=0, interactive=False)
    _assert_same(a, b)
    return runbook


def _assert_same(a, b):
    assert migration_rows(connections[a]) == migration_rows(connections[b])
    assert dump_schema(connections[a]) == dump_schema(connections[b])
    connections[a].close()
    connections[b].close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_whole_history_then_back_to_zero(backends, backend):
    _fresh(backend)
    _, order = history()
    a = f"{backend}_a"
    if backend == "sqlite":
        runbook = _step(backend, ())
    else:
        # shop.0012 drops a constraint of a table that shop.0007 creates in the
        # same plan: its name is not in the database yet.
        with pytest.raises(ShadowNeeded, match="shop.0012.*--shadow"):
            build_plan(database_alias=a)
        runbook = _step(backend, (), shadow="always")
    # On SQLite the shadow is taken without asking.
    assert runbook.header.resolved_against.startswith("a shadow database")
    assert [(m.app, m.name) for m in runbook.migrations] == order

    _step(backend, ("inventory", "zero"))

    # reports.0002 cannot be reversed: both refuse, naming it.
    b = f"{backend}_b"
    with pytest.raises(
        IrreversibleMigration, match="reports.0002_report_note_backfill"
    ):
        build_plan("shop", "zero", database_alias=a)
    with pytest.raises(IrreversibleError):
        call_command("migrate", "shop", "zero", database=b, verbosity=0)
    _fake_back(backend, "reports", "0002_report_note_backfill", "0001")

    if backend != "sqlite":
        # A step asks for constraint names that an earlier step of the same
        # runbook changes: unapplying shop.0014 after shop.0015 (PostgreSQL),
        # or shop.0008 after shop.0012 recreates its unique constraint.
        stale = r"shop.0014.*shop.0015|shop.0008.*shop.0012"
        with pytest.raises(ShadowNeeded, match=stale):
            build_plan("shop", "zero", database_alias=a)
    runbook = _step(
        backend, ("shop", "zero"), shadow="auto" if backend == "sqlite" else "always"
    )
    names = [f"{m.app}.{m.name}" for m in runbook.migrations]
    assert "reports.0001_initial" in names and names[-1] == "shop.0001_initial"
    _step(backend, ("contenttypes", "zero"))
    assert migration_rows(connections[a]) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_pending_plan_from_a_midpoint(backends, backend):
    _fresh(backend)
    _step(backend, ("shop", "0005"))
    _step(backend, ("inventory",))
    runbook = _step(backend, (), shadow="always")
    assert runbook.migrations[0].app != "inventory"


@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_to_a_target_inside_an_app(backends, backend):
    _fresh(backend)
    _step(backend, ("shop", "0011"))
    runbook = _step(backend, ("shop", "0004"))
    assert runbook.direction == "backward"
    assert [m.name[:4] for m in runbook.migrations] == [
        "0011", "0010", "0009", "0008", "0007", "0006", "0005",
    ]  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
def test_whole_history_on_a_shadow(backends, backend):
    _fresh(backend)
    runbook = _step(backend, ("inventory",), shadow="always")
    assert runbook.header.resolved_against.startswith("a shadow database")
    runbook = _step(backend, ("shop", "0003"), shadow="always")
    assert runbook.direction == "backward"
    assert "inventory.0004_stock_quantity_location_idx" in [
        f"{m.app}.{m.name}" for m in runbook.migrations
    ]
    if backend != "sqlite":
        with connections[f"{backend}_a"]._nodb_cursor() as cursor:
            if backend == "postgresql":
                cursor.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'handmig_shadow_%'"
                )
            else:
                cursor.execute("SHOW DATABASES LIKE 'handmig\\_shadow\\_%'")
            assert list(cursor.fetchall()) == [], "the scratch database was not dropped"


def _fake_back(backend, app, name, target):
    """Record a migration as unapplied: by hand on A, with --fake on B."""
    a, b = f"{backend}_a", f"{backend}_b"
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connections[a], ignore_no_migrations=True)
    # migrate --fake un-records the migration and what depends on it.
    for key in loader.graph.backwards_plan((app, name)):
        if key not in loader.applied_migrations:
            continue
        migration = loader.graph.nodes[key]
        record = bookkeeping.record(connections[a], migration, backwards=True)
        connections[a].close()
        run_script(backend, connections[a].settings_dict, record.statements[0].sql)
    call_command("migrate", app, target, database=b, fake=True, verbosity=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_configured_shadow_database(backends, backend):
    _fresh(backend)
    scratch = f"{backend}_scratch"
    connections[scratch].close()
    create_database(backend, settings.DATABASES[scratch]["NAME"])
    a, b = f"{backend}_a", f"{backend}_b"
    runbook = build_plan("shop", database_alias=a, shadow_database=scratch)
    assert f"database alias '{scratch}'" in runbook.header.resolved_against
    connections[a].close()
    run_parts(
        backend,
        connections[a].settings_dict,
        render(runbook, format="sql"),
        django_commands(a),
    )
    call_command("migrate", "shop", database=b, verbosity=0)
    _assert_same(a, b)
    # It is left empty for the next time.
    assert connections[scratch].introspection.table_names() == []
    connections[scratch].close()
    # A shadow that is not empty, or is the target, is refused.
    with pytest.raises(ShadowFailed, match="not empty"):
        build_plan("shop", "zero", database_alias=b, shadow_database=a)
    with pytest.raises(ShadowFailed, match="must not be the target"):
        build_plan("shop", "zero", database_alias=a, shadow_database=a)


@pytest.mark.skipif(
    "postgresql" not in BACKENDS, reason="needs HANDMIG_TEST_DATABASES=...postgresql"
)
def test_ctrl_c_drops_the_scratch_database(backends):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    _fresh("postgresql")
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "HANDMIG_SAMPLE_DB": "postgresql",
        "HANDMIG_SAMPLE_DB_NAME": settings.DATABASES["postgresql_a"]["NAME"],
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "handmig",
            "--pythonpath",
            str(root / "samples"),
            "--settings",
            "sampleproject.settings",
            "plan",
            "--shadow",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 60
    while not seen and time.monotonic() < deadline and process.poll() is None:
        seen = _scratch_databases(process.pid)
        time.sleep(0.05)
    assert seen, "the scratch database never appeared"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert out == "" and "Traceback" not in err
    assert _scratch_databases(process.pid) == []


def _scratch_databases(pid):
    """Return the scratch databases of process ``pid`` (their names carry it)."""
    with connections["postgresql_a"]._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            [f"handmig\\_shadow\\_%\\_{pid}\\_%"],
        )
        return [row[0] for row in cursor.fetchall()]
