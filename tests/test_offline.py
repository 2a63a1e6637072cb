"""--offline: the same SQL without a database connection, or a clear refusal."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.schema import create_database, drop_database, selected_backends

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def handmig(*args, env):
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    full.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "handmig",
            "--pythonpath",
            str(SAMPLES),
            "--settings",
            "sampleproject.settings",
            *args,
        ],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _statements(text):
    doc = json.loads(text)
    return [
        [s["sql"] for op in m["operations"] for s in op["statements"]]
        + [s["sql"] for s in m["deferred"]]
        for m in doc["migrations"]
    ]


@pytest.mark.parametrize("vendor", [v for v in selected_backends() if v != "mysql"])
def test_offline_plan_is_the_online_plan(tmp_path, vendor):
    online_env = {"HANDMIG_SAMPLE_DB": vendor}
    if vendor == "sqlite":
        online_env["HANDMIG_SAMPLE_DB_NAME"] = str(tmp_path / "empty.sqlite3")
    else:
        create_database(vendor, "handmig_offline")
        online_env["HANDMIG_SAMPLE_DB_NAME"] = "handmig_offline"
    online = handmig(
        "plan", "shop", "0011", "--format", "json", "--no-shadow", env=online_env
    )
    assert online.returncode == 0, online.stderr
    # Offline, even an unreachable server is fine: nothing connects.
    offline_env = {**online_env, "HANDMIG_SAMPLE_DB_PORT": "1"}
    offline = handmig(
        "plan", "shop", "0011", "--format", "json", "--offline", env=offline_env
    )
    assert offline.returncode == 0, offline.stderr
    assert _statements(offline.stdout) == _statements(online.stdout)
    assert "offline" in json.loads(offline.stdout)["header"]["server_version"]

    # shop.0012 needs a constraint's name from the catalog: a clear refusal.
    whole = handmig("plan", "--offline", env=offline_env)
    assert whole.returncode == 9 and whole.stdout == ""
    assert "shop.0012_review_unique_constraint" in whole.stderr
    assert len(whole.stderr.strip().splitlines()) == 1
    if vendor != "sqlite":
        drop_database(vendor, "handmig_offline")


def test_offline_with_the_applied_migrations_of_a_database(tmp_path):
    env = {"HANDMIG_SAMPLE_DB_NAME": str(tmp_path / "db.sqlite3")}
    manage_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    manage_env.pop("DJANGO_SETTINGS_MODULE", None)
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "shop", "0005", "-v0"],
        cwd=SAMPLES,
        env=manage_env,
        capture_output=True,
        text=True,
    )
    assert migrated.returncode == 0, migrated.stderr
    status = handmig("status", "--format", "json", env=env)
    applied = tmp_path / "applied.json"
    applied.write_text(status.stdout)
    online = handmig("plan", "shop", "0011", "--format", "json", "--no-shadow", env=env)
    elsewhere = {"HANDMIG_SAMPLE_DB_NAME": str(tmp_path / "not-there.sqlite3")}
    offline = handmig(
        "plan",
        "shop",
        "0011",
        "--format",
        "json",
        "--offline",
        "--applied",
        str(applied),
        env=elsewhere,
    )
    assert offline.returncode == 0, offline.stderr
    names = [m["name"] for m in json.loads(offline.stdout)["migrations"]]
    assert names[0] == "0006_book_indexes_constraints"
    assert names == [m["name"] for m in json.loads(online.stdout)["migrations"]]
    assert _statements(offline.stdout) == _statements(online.stdout)
    assert not (tmp_path / "not-there.sqlite3").exists()


@pytest.mark.skipif(
    "mysql" not in selected_backends(),
    reason="needs HANDMIG_TEST_DATABASES to include mysql (and mysqlclient)",
)
def test_offline_is_refused_for_mysql():
    refused = handmig("plan", "--offline", env={"HANDMIG_SAMPLE_DB": "mysql"})
    assert refused.returncode == 9 and "MySQL/MariaDB" in refused.stderr


def test_bad_applied_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = handmig("plan", "--offline", "--applied", str(bad), env={})
    assert result.returncode == 2 and "status --format json" in result.stderr
    alone = handmig("plan", "--applied", str(bad), env={})
    assert alone.returncode == 2 and "--offline" in alone.stderr
