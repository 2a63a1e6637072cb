"""Small project states: the SQL is the executor's, statement for statement.

handmig renders, for each operation, only the models its SQL reads (its own,
those pointing at them, stubs of what they point at) instead of the whole
project as migrate does. These tests hold it to migrate's SQL: the same
statements in the same order as Django's Migration.apply on a state rendered
the way the executor renders it.
"""

import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections, models
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import (
    AddField,
    CreateModel,
    DeleteModel,
    RenameModel,
)
from django.db.migrations.state import ModelState, ProjectState

from handmig import collector, runbook
from handmig.replay import Replay
from handmig.shadow import shadow as make_shadow
from handmig.states import Progression, _References
from tests.schema import create_database, selected_backends


def _executor_sql(connection, migration, state):
    """Return what Migration.apply collects from ``state``, rendered first."""
    state.apps  # noqa: B018 - the executor renders before applying
    with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        migration.apply(state, editor, collect_sql=True)
    # Migration.apply interleaves comments naming the operations.
    return [sql for sql in editor.collected_sql if not sql.startswith("--")]


def _handmig_sql(connection, migration, progression):
    result = collector.collect(connection, migration, progression)
    chunks = [chunk for op in result.operations for chunk in op.chunks]
    return chunks + [sql for _, sql in result.deferred]


def _run(connection, statements):
    """Execute collected statements, as the runbook's reader would."""
    connection.disable_constraint_checking()
    try:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
    finally:
        connection.enable_constraint_checking()


@pytest.mark.parametrize("backend", selected_backends())
def test_whole_history_sql_equals_the_executors(backends, backend):
    alias = f"{backend}_scratch"
    connections[alias].close()
    create_database(backend, settings.DATABASES[alias]["NAME"])
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    reference = ProjectState(real_apps=executor.loader.unmigrated_apps)
    progression = Progression(reference.clone(), referrers=False)
    compared = 0
    for migration, _ in plan:
        expected = _executor_sql(connection, migration, reference)
        got = _handmig_sql(connection, migration, progression)
        assert got == expected, f"{migration.app_label}.{migration.name}"
        compared += len(expected)
        # Both read the catalog where Django does (constraint names): the
        # database goes where the plan has got to.
        _run(connection, expected)
    assert compared > 50
    connection.close()


def _state(*model_states):
    return ProjectState({(m.app_label, m.name_lower): m for m in model_states})


def _model(name, fields=(), bases=None, options=None):
    return ModelState(
        "app",
        name,
        [("id", models.BigAutoField(primary_key=True)), *fields],
        options=options or {},
        bases=bases or (models.Model,),
    )


def _fk(to):
    return models.ForeignKey(to, on_delete=models.CASCADE)


def _project():
    """A: FK to B; B: FK to C; Child: a multi-table child of B; Proxy of C;
    E: FK to the proxy; F: FK to Child."""
    child_pk = models.OneToOneField(
        "app.b", models.CASCADE, parent_link=True, primary_key=True
    )
    return _state(
        _model("A", [("b", _fk("app.b"))]),
        _model("B", [("c", _fk("app.c"))]),
        _model("C"),
        ModelState("app", "Child", [("b_ptr", child_pk)], bases=("app.b",)),
        ModelState("app", "Proxy", [], options={"proxy": True}, bases=("app.c",)),
        _model("E", [("p", _fk("app.proxy"))]),
        _model("F", [("child", _fk("app.child"))]),
    )


def test_own_models_and_stubs_of_their_targets():
    references = _References(_project())
    full, stubs = references.needed({("app", "a")}, related=False)
    assert full == {("app", "a")}
    # B is only pointed at: a stub, which needs nothing of its own targets.
    assert stubs == {("app", "b")}


def test_related_takes_referrers_of_the_family():
    references = _References(_project())
    full, stubs = references.needed({("app", "c")}, related=True)
    # C's proxy is family; E points at the proxy, B at C: both are rebuilt
    # or altered with C, so they are whole.
    assert full == {("app", "c"), ("app", "proxy"), ("app", "b"), ("app", "e")}
    assert stubs == set()


def test_a_stub_of_a_child_brings_its_parent():
    project = _project()
    references = _References(project)
    full, stubs = references.needed({("app", "f")}, related=False)
    assert full == {("app", "f")}
    # Child's primary key points at B (its parent): B must render too.
    assert stubs == {("app", "child"), ("app", "b")}
    # The small state renders: no reference left dangling.
    progression = Progression(project)
    state = progression._substate(full, stubs)
    child = state.apps.get_model("app", "child")
    assert child._meta.pk.target_field.model._meta.model_name == "b"
    assert state.apps.get_model("app", "f")._meta.get_field("child").target_field


def test_the_index_follows_a_rename():
    project = _project()
    references = _References(project)
    referrers = references.referrers({("app", "c")})
    RenameModel("C", "D").state_forwards("app", project)
    references.update({("app", "c"), ("app", "d")} | referrers)
    # B's foreign key was repointed; the proxy's base was not (Django's
    # rename_model leaves bases as they are): the index says what the state says.
    assert references.referrers({("app", "d")}) == {("app", "b")}
    assert references.referrers({("app", "c")}) == {("app", "proxy")}


def test_the_index_keeps_the_order_of_the_states_models():
    # Small states hold their models in the project's order, which decides
    # the order of related objects; the index keeps it without a scan.
    project = _project()
    references = _References(project)
    steps = [
        DeleteModel("A"),
        CreateModel("X", [("id", models.AutoField(primary_key=True))]),
        CreateModel("A", [("id", models.AutoField(primary_key=True))]),
        RenameModel("B", "G"),
    ]
    for operation in steps:
        names = {getattr(operation, "name", None), getattr(operation, "old_name", None)}
        names.add(getattr(operation, "new_name", None))
        touched = {("app", name.lower()) for name in names if name}
        touched |= references.referrers(touched)
        operation.state_forwards("app", project)
        references.update(touched)
        assert references.in_order(set(project.models)) == list(project.models)
    assert list(project.models)[-3:] == [("app", "x"), ("app", "a"), ("app", "g")]


def test_replay_runs_nothing_until_the_shadow_is_read(backends, tmp_path):
    from django.db.backends.sqlite3.base import DatabaseWrapper

    connection = DatabaseWrapper(
        {**settings.DATABASES["default"], "NAME": str(tmp_path / "s.sqlite3")},
        "replay_test",
    )
    replay = Replay(connection)
    replay.queue('CREATE TABLE "t" ("x" integer);')
    assert "t" not in connection.introspection.table_names()
    with replay.touching():
        # Anything a Python step does with the database catches it up first.
        with connection.cursor() as cursor:
            cursor.execute('INSERT INTO "t" VALUES (1)')
    assert "t" in connection.introspection.table_names()
    connection.close()


def test_statements_run_on_the_shadow_only_when_read(backends, monkeypatch):
    """The sample's whole history on a SQLite shadow: Python steps that use
    the database catch the shadow up; what no one reads after never runs."""
    if "sqlite" not in selected_backends():
        pytest.skip("the sample's SQLite shadow")
    made = []

    class Counting(Replay):
        def __init__(self, connection):
            super().__init__(connection)
            self.ran = 0
            made.append(self)

        def flush(self):
            self.ran += sum(1 for _, item in self._pending if isinstance(item, str))
            super().flush()

    monkeypatch.setattr(runbook, "Replay", Counting)
    alias = "sqlite_scratch"
    connections[alias].close()
    create_database("sqlite", settings.DATABASES[alias]["NAME"])
    built = runbook.build_plan(database_alias=alias)
    assert built.header.resolved_against.startswith("a shadow database")
    [replay] = made
    statements = sum(
        len(op.statements) for section in built.migrations for op in section.operations
    ) + sum(len(section.deferred) for section in built.migrations)
    left = sum(1 for _, item in replay._pending if isinstance(item, str))
    assert replay.ran > 0, "the Python steps read the shadow: it caught up"
    assert left > 0, "the last statements are read by no one: they never ran"
    assert replay.ran + left <= statements
    connections[alias].close()


@pytest.mark.parametrize("backend", selected_backends())
def test_a_uuid_default_is_quoted_as_text(backends, backend):
    """MariaDB has a native UUID type; MySQLdb then escapes a UUID default to
    bytes, and Django's collected SQL read b"'...'" (invalid SQL)."""
    alias = f"{backend}_scratch"
    connections[alias].close()
    create_database(backend, settings.DATABASES[alias]["NAME"])
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state()
    value = uuid.UUID("5f15dc6f-7d4f-4184-ac2b-0ed265166fa9")
    migration = Migration("0099_token", "shop")
    migration.operations = [
        AddField("book", "token", models.UUIDField(default=value, editable=False))
    ]
    result = collector.collect(connection, migration, state)
    sql = " ".join(chunk for op in result.operations for chunk in op.chunks)
    assert "b'" not in sql and 'b"' not in sql
    if backend != "postgresql":
        # PostgreSQL adds the column with its default in the ALTER itself.
        assert value.hex in sql.replace("-", "")
    connection.close()


@pytest.mark.parametrize("backend", selected_backends())
def test_rename_model_with_many_to_many_on_a_shadow(backends, backend):
    """Renaming a model renames its many-to-many table, then Django reads the
    constraints of the renamed table. Collecting, Django 6.1 points that
    lookup at the old name; the shadow has run the rename by then."""
    alias = f"{backend}_scratch"
    connections[alias].close()
    create_database(backend, settings.DATABASES[alias]["NAME"])
    call_command("migrate", database=alias, verbosity=0)
    connection = connections[alias]
    state = MigrationExecutor(connection).loader.project_state()
    migration = Migration("0099_volume", "shop")
    migration.operations = [RenameModel("Book", "Volume")]
    with make_shadow(connection) as (shadow, _):
        result = collector.collect(shadow, migration, state, replay=Replay(shadow))
    sql = " ".join(chunk for op in result.operations for chunk in op.chunks)
    assert "shop_volume_tags" in sql
    connection.close()
