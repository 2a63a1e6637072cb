"""Golden Markdown, SQL and HTML runbooks for the sample project on SQLite.

They are reviewed like code. After a deliberate change, regenerate them with

    HANDMIG_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py

and read the diff before committing it.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from handmig import build_runbook, render
from tests.schema import create_database

GOLDEN = Path(__file__).resolve().parent / "golden"
ROOT = GOLDEN.parent.parent
REGENERATE = os.environ.get("HANDMIG_REGENERATE_GOLDEN") == "1"

# (app, migration, backwards, the app's migration to start from, format)
CASES = [
    ("shop", "0001_initial", False, "zero", "markdown"),
    ("shop", "0001_initial", False, "zero", "sql"),
    ("shop", "0004_rename_published_book_published_on", False, "0003", "markdown"),
    ("shop", "0009_seed_tags", False, "0008", "markdown"),
    ("shop", "0010_author_bio_backfill", False, "0009", "markdown"),
    ("shop", "0010_author_bio_backfill", False, "0009", "html"),
    ("shop", "0010_author_bio_backfill", True, "0010", "markdown"),
    ("shop", "0011_book_isbn", False, "0010", "markdown"),
    ("inventory", "0001_squashed_0003_stock_location", False, "zero", "markdown"),
    ("inventory", "0001_squashed_0003_stock_location", True, "0001_squashed", "sql"),
]


def _name(app, migration, backwards, fmt):
    direction = "backward" if backwards else "forward"
    suffix = {"markdown": "md", "sql": "sql", "html": "html"}[fmt]
    return f"{app}.{migration}.{direction}.{suffix}"


@pytest.mark.parametrize(
    "app,migration,backwards,start,fmt",
    CASES,
    ids=[_name(c[0], c[1], c[2], c[4]) for c in CASES],
)
def test_golden(backends, app, migration, backwards, start, fmt):
    alias = "sqlite_scratch"
    path = settings.DATABASES[alias]["NAME"]
    connections[alias].close()
    create_database("sqlite", path)
    if start != "zero":
        call_command("migrate", app, start, database=alias, verbosity=0)
    elif app != "shop":
        call_command("migrate", "shop", database=alias, verbosity=0)
    connections[alias].close()

    runbook = build_runbook(app, migration, backwards=backwards, database_alias=alias)
    connections[alias].close()
    _steady(runbook)
    text = render(runbook, format=fmt).replace(str(Path(path).parent), "<tmp>")

    golden = GOLDEN / _name(app, migration, backwards, fmt)
    if REGENERATE:
        golden.write_text(text)
    assert golden.exists(), f"no golden file {golden.name}: regenerate (see docstring)"
    assert text == golden.read_text()


def _steady(runbook):
    """Replace what changes from machine to machine with fixed values."""
    header = runbook.header
    header.generated_at = "2026-01-01T00:00:00+00:00"
    header.handmig_version = "X.Y.Z"
    header.django_version = "X.Y.Z"
    header.server_version = "X.Y.Z"
    header.settings = "tests.settings"
    for section in runbook.migrations:
        section.file = os.path.relpath(os.path.abspath(section.file), ROOT)
        for operation in section.operations:
            for code in (operation.python, operation.reverse_python):
                if code is not None and code.file:
                    code.file = os.path.relpath(code.file, ROOT)
