"""Verify queries prove each step: they fail before it and pass after it."""

import pytest
from django.db import connections

from handmig import build_runbook
from tests.schema import run_script, selected_backends
from tests.test_runbook_model import _scratch_at

CASES = [
    ("0002", False, "0001"),  # AddField x2
    ("0004", False, "0003"),  # RenameField
    ("0005", False, "0004"),  # RemoveField
    ("0006", False, "0005"),  # AddIndex, AddConstraint x2
    ("0007", False, "0006"),  # CreateModel with a foreign key
    ("0006", True, "0006"),  # RemoveConstraint x2, RemoveIndex
]


def _count(alias, sql):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return str(cursor.fetchone()[0])


@pytest.mark.parametrize("backend", selected_backends())
@pytest.mark.parametrize("name,backwards,start", CASES)
def test_verify_fails_before_and_passes_after(
    backends, backend, name, backwards, start
):
    alias = _scratch_at(backend, ("shop", start))
    runbook = build_runbook("shop", name, backwards=backwards, database_alias=alias)
    section = runbook.migrations[0]
    steps = [(op.statements, op.verify) for op in section.operations]
    steps.append((section.deferred, section.deferred_verify))
    assert any(checks for _, checks in steps), "a schema change has proof to show"
    settings_dict = connections[alias].settings_dict
    # Step by step, as the person at the console runs them.
    for statements, checks in steps:
        for check in checks:
            assert _count(alias, check.sql) != check.expect, f"before: {check.title}"
        connections[alias].close()
        if statements:
            run_script(backend, settings_dict, "\n".join(s.sql for s in statements))
        for check in checks:
            assert _count(alias, check.sql) == check.expect, f"after: {check.title}"
    connections[alias].close()
