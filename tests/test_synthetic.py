"""A generated project (the benchmarks' synthetic history), proven by execution.

Foreign keys across many apps, fields added, altered, renamed and removed,
indexes, check constraints and Python steps in between: handmig's plan run
by the shell client on one database, Django's migrate on a twin, the same
schema and records after. It is the history the scaling benchmark measures,
so every shortcut taken for speed is held to migrate's result here.
"""

import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connections

from tests.projects import ROOT, environment, plan_both_ways
from tests.schema import create_database, selected_backends

SIZE = 120  # migrations over four apps: every kind of operation several times


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "project"
    generator = ROOT / "benchmarks" / "synthetic.py"
    subprocess.run([sys.executable, str(generator), str(SIZE), str(root)], check=True)
    return root


@pytest.mark.parametrize("backend", selected_backends())
def test_synthetic_history_from_a_midpoint_then_the_rest(backends, backend, project):
    def env(backend, role):
        return environment(
            backend, role, "synthetic_settings", "HANDMIG_BENCH", path=[project]
        )

    for role in ("tp_a", "tp_b"):
        connections[f"{backend}_{role}"].close()
        create_database(backend, settings.DATABASES[f"{backend}_{role}"]["NAME"])
    # app002 up to its tenth migration (and what that depends on in other
    # apps) first, then all that is left: a pending plan across every app.
    _, rows = plan_both_ways(backend, ("app002", "0010"), env)
    assert ("app002", "0010_remove") in rows and len(rows) < SIZE
    _, rows = plan_both_ways(backend, (), env)
    assert len(rows) == SIZE
