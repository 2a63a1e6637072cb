import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ROLES = ("a", "b", "scratch", "tp_a", "tp_b")


def pytest_configure(config):
    sys.path.insert(0, str(SAMPLES))
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()


@pytest.fixture(scope="session")
def backends():
    """Create every test database afresh; a backend that is unreachable fails."""
    from django.conf import settings
    from django.db import connections

    from tests.schema import create_database, drop_database, selected_backends

    chosen = selected_backends()
    for backend in chosen:
        for role in ROLES:
            create_database(backend, settings.DATABASES[f"{backend}_{role}"]["NAME"])
    yield chosen
    connections.close_all()
    for backend in chosen:
        for role in ROLES:
            drop_database(backend, settings.DATABASES[f"{backend}_{role}"]["NAME"])
