"""Projects other than the sample, planned in processes of their own.

Each side runs with its database as "default": some third-party Python steps
use the default database whatever alias the migration runs on. handmig's
plan runs through the vendor's shell client on one database, Django's
migrate on a twin, and the schema and django_migrations rows must match.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from tests.schema import dump_schema, migration_rows, run_parts

ROOT = Path(__file__).resolve().parent.parent


def require(modules, flag, extra):
    """Skip the calling test module without ``modules``; fail if ``flag`` is 1.

    ``flag`` names the variable that says the ``extra`` was meant to be
    installed, as CI sets it.
    """
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if not missing:
        return
    why = (
        f"{', '.join(missing)} not installed: "
        f"pip install -e '.[test,{extra}]' runs these tests"
    )
    if os.environ.get(flag) == "1":
        pytest.fail(f"{flag}=1 but {why}", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def environment(backend, role, settings_module, prefix="HANDMIG_TP", path=()):
    """Return the environment of a process whose default database is the test
    database ``<backend>_<role>``, given to the settings as ``<prefix>_*``."""
    db = settings.DATABASES[f"{backend}_{role}"]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([*map(str, path), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": settings_module,
        f"{prefix}_ENGINE": db["ENGINE"],
        f"{prefix}_NAME": str(db["NAME"]),
        f"{prefix}_HOST": db.get("HOST", ""),
        f"{prefix}_PORT": str(db.get("PORT", "")),
        f"{prefix}_USER": db.get("USER", ""),
        f"{prefix}_PASSWORD": db.get("PASSWORD", ""),
    }


def run(argv, env):
    """Run Python with ``argv``; return its standard output, asserting success."""
    result = subprocess.run(
        [sys.executable, *argv], env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def plan_both_ways(backend, args, env_for, shadow=True):
    """Apply one plan by hand on tp_a and with migrate on tp_b; compare.

    ``env_for(backend, role)`` gives each process its environment. Return
    the runbook (an SQL script) and the rows recorded.
    """
    flags = ["--shadow"] if shadow and backend != "sqlite" else []
    plan = ["-m", "handmig", "plan", *args, "--format", "sql", *flags]
    script = run(plan, env_for(backend, "tp_a"))
    a, b = f"{backend}_tp_a", f"{backend}_tp_b"
    connections[a].close()

    def migrate(command):
        # The script hands Python steps over to Django: manage.py migrate.
        words = command.split()
        assert words[:3] == ["python", "manage.py", "migrate"], command
        run(["-m", "django", *words[2:], "--noinput", "-v0"], env_for(backend, "tp_a"))

    run_parts(backend, connections[a].settings_dict, script, migrate)
    run(
        ["-m", "django", "migrate", *args, "--noinput", "-v0"], env_for(backend, "tp_b")
    )
    rows = migration_rows(connections[a])
    assert rows == migration_rows(connections[b])
    assert dump_schema(connections[a]) == dump_schema(connections[b])
    connections[a].close()
    connections[b].close()
    return script, rows
