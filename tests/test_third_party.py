"""Plans of real third-party apps (django-cms, django-filer), proven by
execution like the sample's: handmig's SQL through the shell client on one
database, Django's migrate on a twin, the same schema and records after.

Each side runs in its own process with its database as "default", because
some of these apps' Python steps use the default database whatever alias
the migration runs on.
"""

import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connections

from tests.projects import environment, plan_both_ways, require
from tests.schema import create_database, selected_backends

# The apps come from the "thirdparty" extra, which not every supported Django
# can install (django-cms 5.1 needs Django 5.2). Without them this module is
# skipped, unless HANDMIG_TEST_THIRD_PARTY=1 says they were meant to be there.
require(
    ("cms", "menus", "filer", "easy_thumbnails"),
    "HANDMIG_TEST_THIRD_PARTY",
    "thirdparty",
)


def _env(backend, role):
    return environment(backend, role, "tests.thirdparty_settings")


def _step(backend, *args, shadow=True):
    """Apply one plan both ways and compare; return the runbook and the rows."""
    return plan_both_ways(backend, args, _env, shadow)


def _fresh(backend):
    for role in ("tp_a", "tp_b"):
        alias = f"{backend}_{role}"
        connections[alias].close()
        create_database(backend, settings.DATABASES[alias]["NAME"])


@pytest.mark.parametrize("backend", selected_backends())
def test_third_party_history_up_and_back(backends, backend):
    _fresh(backend)
    script, rows = _step(backend)
    apps = {app for app, _ in rows}
    assert {"cms", "filer", "menus", "easy_thumbnails"} <= apps
    assert len(rows) > 60
    # The squashed migrations are recorded as migrate records them.
    assert ("cms", "0001_initial_squashed_0022_auto_20180620_1551") in rows
    assert ("filer", "0004_auto_20160328_1434") in rows
    # cms.0045 runs Python (which issues SQL itself on PostgreSQL): the
    # script hands it to Django whole, and goes on only once it is recorded.
    assert "cms.0045_pageurl_site_unique_path (runs with Django)" in script
    assert "python manage.py migrate cms 0045_pageurl_site_unique_path" in script

    _step(backend, "filer", "zero")
    _step(backend, "easy_thumbnails", "zero")
    # Back to zero, cms meets four irreversible data migrations: one error
    # names them all, and nothing is written.
    refused = subprocess.run(
        [sys.executable, "-m", "handmig", "plan", "cms", "zero"],
        env=_env(backend, "tp_a"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert refused.returncode == 3 and refused.stdout == ""
    for name in ("0024", "0027", "0030", "0033"):
        assert f"cms.{name}_" in refused.stderr
    _step(backend, "cms", "0033")


@pytest.mark.parametrize("backend", selected_backends())
def test_third_party_pending_plan_from_a_midpoint(backends, backend):
    _fresh(backend)
    _step(backend, "cms", "0025")
    _step(backend, "filer", "0017")
    _, rows = _step(backend)
    assert ("cms", "0045_pageurl_site_unique_path") in rows
