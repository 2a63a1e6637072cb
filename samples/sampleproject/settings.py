"""Settings of the handmig sample project.

SQLite by default; HANDMIG_SAMPLE_DB=postgresql or mysql switches the
database, and HANDMIG_SAMPLE_DB_NAME/_HOST/_PORT/_USER/_PASSWORD point at it.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "handmig-sample-not-secret"
DEBUG = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    # contenttypes and auth make post_migrate matter, as in real projects.
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "handmig",
    "shop",
    "inventory",
    "reports",
]

_SERVERS = {
    "postgresql": ("django.db.backends.postgresql", "5432", "postgres"),
    "mysql": ("django.db.backends.mysql", "3306", "root"),
}


def _database():
    vendor = os.environ.get("HANDMIG_SAMPLE_DB", "sqlite")
    if vendor == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("HANDMIG_SAMPLE_DB_NAME", BASE_DIR / "db.sqlite3"),
        }
    if vendor not in _SERVERS:
        raise ImproperlyConfigured(
            f"HANDMIG_SAMPLE_DB={vendor!r}: use sqlite, postgresql or mysql."
        )
    engine, port, user = _SERVERS[vendor]
    return {
        "ENGINE": engine,
        "NAME": os.environ.get("HANDMIG_SAMPLE_DB_NAME", "handmig_sample"),
        "HOST": os.environ.get("HANDMIG_SAMPLE_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("HANDMIG_SAMPLE_DB_PORT", port),
        "USER": os.environ.get("HANDMIG_SAMPLE_DB_USER", user),
        "PASSWORD": os.environ.get("HANDMIG_SAMPLE_DB_PASSWORD", ""),
    }


DATABASES = {"default": _database()}
