"""The benchmark's large project (django-cms, django-filer and Wagtail: 221
migration nodes), proven like the smaller third-party one: the whole history
planned by handmig and run by the shell client on one database, migrate on a
twin, the same schema and records after. Every shortcut taken for speed is
held to migrate's result on the project the speed is measured on.
"""

import importlib.util
import os

import pytest

# Wagtail comes from the "wagtail" extra; without it this module is skipped,
# unless HANDMIG_TEST_WAGTAIL=1 says it was meant to be there.
_MISSING = [
    name
    for name in ("wagtail", "cms", "filer")
    if importlib.util.find_spec(name) is None
]
if _MISSING:
    _why = (
        f"{', '.join(_MISSING)} not installed: "
        "pip install -e '.[test,thirdparty,wagtail]' runs these tests"
    )
    if os.environ.get("HANDMIG_TEST_WAGTAIL") == "1":
        pytest.fail(f"HANDMIG_TEST_WAGTAIL=1 but {_why}", pytrace=False)
    pytest.skip(_why, allow_module_level=True)

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402

from tests import test_third_party  # noqa: E402
from tests.schema import create_database, selected_backends  # noqa: E402


@pytest.mark.parametrize("backend", selected_backends())
def test_wagtail_cms_filer_whole_history(backends, backend, monkeypatch):
    for role in ("tp_a", "tp_b"):
        connections[f"{backend}_{role}"].close()
        # Wagtail's data migrations compare columns with a CAST that takes the
        # connection's collation: on MariaDB, migrate itself fails (1267,
        # illegal mix of collations) unless the database has the server's.
        name = settings.DATABASES[f"{backend}_{role}"]["NAME"]
        create_database(backend, name, collation="utf8mb4_general_ci")
    env = test_third_party._env

    def wagtail_env(backend, role):
        return {
            **env(backend, role),
            "DJANGO_SETTINGS_MODULE": "tests.wagtail_settings",
        }

    monkeypatch.setattr(test_third_party, "_env", wagtail_env)
    _, rows = test_third_party._step(backend)
    apps = {app for app, _ in rows}
    assert {"wagtailcore", "wagtailimages", "taggit", "cms", "filer"} <= apps
    assert len(rows) > 250
