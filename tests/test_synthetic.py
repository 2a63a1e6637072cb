"""A generated project (the benchmarks' synthetic history), proven by execution.

Foreign keys across many apps, fields added, altered, renamed and removed,
indexes, check constraints and Python steps in between: handmig's plan run
by the shell client on one database, Django's migrate on a twin, the same
schema and records after. It is the history the scaling benchmark measures,
so every shortcut taken for speed is held to migrate's result here.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from tests.schema import (
    create_database,
    dump_schema,
    migration_rows,
    run_script,
    selected_backends,
)

ROOT = Path(__file__).resolve().parent.parent
SIZE = 120  # migrations over four apps: every kind of operation several times


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "project"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "synthetic.py"),
            str(SIZE),
            str(root),
        ],
        check=True,
    )
    return root


def _env(project, backend, role):
    db = settings.DATABASES[f"{backend}_{role}"]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(project), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "synthetic_settings",
        "HANDMIG_BENCH_ENGINE": db["ENGINE"],
        "HANDMIG_BENCH_NAME": str(db["NAME"]),
        "HANDMIG_BENCH_HOST": db.get("HOST", ""),
        "HANDMIG_BENCH_PORT": str(db.get("PORT", "")),
        "HANDMIG_BENCH_USER": db.get("USER", ""),
        "HANDMIG_BENCH_PASSWORD": db.get("PASSWORD", ""),
    }


def _run(argv, env):
    result = subprocess.run(
        [sys.executable, *argv], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _step(project, backend, *args):
    """Apply one plan both ways and compare; return the rows recorded."""
    shadow = [] if backend == "sqlite" else ["--shadow"]
    a_env, b_env = _env(project, backend, "tp_a"), _env(project, backend, "tp_b")
    script = _run(["-m", "handmig", "plan", *args, "--format", "sql", *shadow], a_env)
    a, b = f"{backend}_tp_a", f"{backend}_tp_b"
    connections[a].close()
    run_script(backend, connections[a].settings_dict, script)
    _run(["-m", "django", "migrate", *args, "--noinput", "-v0"], b_env)
    rows = migration_rows(connections[a])
    assert rows == migration_rows(connections[b])
    assert dump_schema(connections[a]) == dump_schema(connections[b])
    connections[a].close()
    connections[b].close()
    return rows


@pytest.mark.parametrize("backend", selected_backends())
def test_synthetic_history_from_a_midpoint_then_the_rest(backends, backend, project):
    for role in ("tp_a", "tp_b"):
        connections[f"{backend}_{role}"].close()
        create_database(backend, settings.DATABASES[f"{backend}_{role}"]["NAME"])
    # app002 up to its tenth migration (and what that depends on in other
    # apps) first, then all that is left: a pending plan across every app.
    rows = _step(project, backend, "app002", "0010")
    assert ("app002", "0010_remove") in rows and len(rows) < SIZE
    rows = _step(project, backend)
    assert len(rows) == SIZE
