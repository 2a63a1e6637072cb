"""Django settings for the test suite: the sample project, one pair of
databases per backend under test.

Each backend gets a database that handmig's SQL is executed on ("<backend>_a"),
a twin that Django's migrate runs on ("<backend>_b"), and one for tests that
need a database of their own ("<backend>_scratch").
"""

import os
import tempfile

from sampleproject.settings import INSTALLED_APPS  # noqa: F401

from tests.schema import selected_backends, server_settings

SECRET_KEY = "handmig-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SQLITE_DIR = os.environ.setdefault(
    "HANDMIG_TEST_SQLITE_DIR", tempfile.mkdtemp(prefix="handmig-tests-")
)


def database_name(backend, role):
    """Return the database name (or SQLite path) of one test database."""
    if backend == "sqlite":
        return os.path.join(SQLITE_DIR, f"{role}.sqlite3")
    # A prefix of their own keeps test runs that share a server apart.
    prefix = os.environ.get("HANDMIG_TEST_DB_PREFIX", "handmig_test")
    return f"{prefix}_{role}"


DATABASES = {
    # Nothing runs on "default"; Django insists that it exists.
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(SQLITE_DIR, "default.sqlite3"),
    },
}
for _backend in selected_backends():
    # tp_a and tp_b hold the third-party project, migrated in other processes.
    for _role in ("a", "b", "scratch", "tp_a", "tp_b"):
        DATABASES[f"{_backend}_{_role}"] = server_settings(
            _backend, database_name(_backend, _role)
        )

if "postgresql" in selected_backends():
    # A role that can only read, pointed at the scratch database: handmig must
    # be able to generate every runbook through it.
    DATABASES["postgresql_reader"] = {
        **server_settings("postgresql", database_name("postgresql", "scratch")),
        "USER": "handmig_reader",
        "PASSWORD": "",
    }
