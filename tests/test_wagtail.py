"""The benchmark's large project (django-cms, django-filer and Wagtail: 221
migration nodes), proven like the smaller third-party one: the whole history
planned by handmig and run by the shell client on one database, migrate on a
twin, the same schema and records after. Every shortcut taken for speed is
held to migrate's result on the project the speed is measured on.
"""

import pytest
from django.conf import settings
from django.db import connections

from tests.projects import environment, plan_both_ways, require
from tests.schema import create_database, selected_backends

# Wagtail comes from the "wagtail" extra; without it this module is skipped,
# unless HANDMIG_TEST_WAGTAIL=1 says it was meant to be there.
require(("wagtail", "cms", "filer"), "HANDMIG_TEST_WAGTAIL", "thirdparty,wagtail")


def _env(backend, role):
    return environment(backend, role, "tests.wagtail_settings")


@pytest.mark.parametrize("backend", selected_backends())
def test_wagtail_cms_filer_whole_history(backends, backend):
    for role in ("tp_a", "tp_b"):
        connections[f"{backend}_{role}"].close()
        # Wagtail's data migrations compare columns with a CAST that takes the
        # connection's collation: on MariaDB, migrate itself fails (1267,
        # illegal mix of collations) unless the database has the server's.
        name = settings.DATABASES[f"{backend}_{role}"]["NAME"]
        create_database(backend, name, collation="utf8mb4_general_ci")
    _, rows = plan_both_ways(backend, (), _env)
    apps = {app for app, _ in rows}
    assert {"wagtailcore", "wagtailimages", "taggit", "cms", "filer"} <= apps
    assert len(rows) > 250


@pytest.mark.parametrize("backend", selected_backends())
def test_wagtail_script_piped_and_failing_in_its_first_part(backends, backend):
    """Failure injection on the large project; its test above runs every part."""
    from tests.test_third_party_failures import inject_failures

    inject_failures(backend, _env, last_part=False, collation="utf8mb4_general_ci")
