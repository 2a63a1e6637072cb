"""record, rerun and status: the bookkeeping workflows around running by hand."""

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from handmig import render
from handmig.render import render_status
from handmig.rerun import build_rerun
from handmig.runbook import build_record
from handmig.status import status
from tests.schema import (
    create_database,
    django_commands,
    dump_schema,
    migration_rows,
    run_parts,
    selected_backends,
)


def _fresh_pair(backend, *targets):
    pair = (f"{backend}_a", f"{backend}_b")
    for alias in pair:
        connections[alias].close()
        create_database(backend, settings.DATABASES[alias]["NAME"])
        for target in targets:
            call_command("migrate", *target, database=alias, verbosity=0)
        connections[alias].close()
    return pair


def _run(backend, alias, text):
    connections[alias].close()
    run_parts(backend, connections[alias].settings_dict, text, django_commands(alias))


@pytest.mark.parametrize("backend", selected_backends())
@pytest.mark.parametrize(
    "app,name,backwards,start",
    [
        ("shop", "0003", False, ("shop", "0002")),
        ("shop", "0003", True, ("shop", "0003")),
        ("inventory", "0001_squashed", False, ("shop", "0001")),
        ("inventory", "0001_squashed", True, ("inventory", "0001_squashed")),
    ],
)
def test_record_writes_what_migrate_fake_writes(
    backends, backend, app, name, backwards, start
):
    a, b = _fresh_pair(backend, start)
    runbook = build_record(app, name, backwards=backwards, database_alias=a)
    assert all(not m.operations for m in runbook.migrations)
    _run(backend, a, render(runbook, format="sql"))
    full = runbook.migrations[0].name
    target = full
    if backwards:
        parents = [p for p in _parents(app, full) if p[0] == app]
        target = parents[0][1] if parents else "zero"
    call_command("migrate", app, target, database=b, fake=True, verbosity=0)
    assert migration_rows(connections[a]) == migration_rows(connections[b])
    connections[a].close()
    connections[b].close()


@pytest.mark.parametrize("backend", selected_backends())
def test_rerun_sql_matches_the_django_recipe(backends, backend):
    a, b = _fresh_pair(backend, ())
    runbook = build_rerun("shop", "0009", database_alias=a)
    _run(backend, a, render(runbook, format="sql"))
    # The recipe, as the runbook spells it out, on the twin.
    commands = [c.command.split() for c in runbook.commands]
    migrates = [c for c in commands if c[2] == "migrate"]
    assert [c[3] for c in migrates][:2] == ["--fake", "shop"]
    for argv in migrates:
        fake = "--fake" in argv
        args = [x for x in argv[3:] if x != "--fake"]
        call_command("migrate", *args, database=b, fake=fake, verbosity=0)
    assert migration_rows(connections[a]) == migration_rows(connections[b])
    assert dump_schema(connections[a]) == dump_schema(connections[b])
    restored = {tuple(c[4:6]) for c in migrates[2:]}
    assert ("reports", "0003_report_note_index") in restored
    assert ("inventory", "0004_stock_quantity_location_idx") in restored
    # reports.0002 would have to be reversed for real: no such alternative.
    assert not any("can be reversed" in w for w in runbook.warnings)
    with connections[a].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM shop_tag WHERE name = 'drama'")
        assert cursor.fetchone()[0] == 2  # run twice, as warned
    connections[a].close()
    connections[b].close()


@pytest.mark.parametrize("backend", selected_backends())
def test_status_finds_what_is_out_of_step(backends, backend):
    a, _ = _fresh_pair(backend, ("shop", "0003"), ("inventory", "0001_squashed"))
    connection = connections[a]
    with connection.cursor() as cursor:
        # A deleted migration file, a squash half undone, a hole in history.
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('shop', '0099_gone', CURRENT_TIMESTAMP)"
        )
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'inventory' "
            "AND name IN ('0003_stock_location', '0001_squashed_0003_stock_location')"
        )
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'shop' AND name = '0002_book_subtitle_pages'"
        )
    connection.close()
    result = status(database_alias=a)
    kinds = sorted({p.kind for p in result.problems})
    assert kinds == ["inconsistent", "orphan", "partly-applied-squash"]
    shop = {m.name: m.applied for m in result.apps["shop"]}
    assert shop["0001_initial"] and not shop["0002_book_subtitle_pages"]
    text = render_status(result)
    assert "0099_gone" in text and "[X] 0001_initial" in text
    data = json.loads(render_status(status("shop", database_alias=a), "json"))
    assert list(data["apps"]) == ["shop"]
    assert {p["kind"] for p in data["problems"]} == {"orphan", "inconsistent"}
    connection.close()


def _parents(app, name):
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return sorted(p.key for p in graph.node_map[(app, name)].parents)
