"""The public Python API: what the CLI uses, importable by any program."""

import json

import pytest
from django.db import connections

import handmig
from handmig.model import Runbook
from handmig.status import Status
from tests.schema import selected_backends
from tests.test_runbook_model import _scratch_at


@pytest.mark.parametrize("backend", selected_backends())
def test_build_render_and_progress(backends, backend):
    alias = _scratch_at(backend, ("shop", "0001"))
    seen = []
    plan = handmig.build_plan(
        "shop",
        "0003",
        database_alias=alias,
        progress=lambda *event: seen.append(event),
    )
    assert isinstance(plan, Runbook) and plan.kind == "plan"
    assert seen == [
        ("collect", 1, 2, "shop.0002_book_subtitle_pages"),
        ("collect", 2, 2, "shop.0003_alter_title_author_name"),
    ]
    doc = json.loads(handmig.render(plan, format="json"))
    assert [m["name"] for m in doc["migrations"]] == [
        "0002_book_subtitle_pages",
        "0003_alter_title_author_name",
    ]
    one = handmig.build_runbook("shop", "0002", database_alias=alias)
    assert handmig.render(one).startswith("# Apply shop.0002_book_subtitle_pages")
    record = handmig.build_record("shop", "0002", database_alias=alias)
    assert record.kind == "record" and record.migrations[0].record.action == "insert"
    rerun = handmig.build_rerun("shop", "0001", database_alias=alias)
    assert rerun.commands
    status = handmig.migration_status("shop", database_alias=alias)
    assert isinstance(status, Status)
    connections[alias].close()


def test_api_names_stay_functions_after_the_submodules_are_imported():
    import handmig.render  # noqa: F401 - the submodules, imported on purpose
    import handmig.status  # noqa: F401

    for name in handmig.__all__[1:]:
        assert callable(getattr(handmig, name)), name
