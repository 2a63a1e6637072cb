"""Resolve what to run and the project state it starts from, as migrate does.

The SQL of a migration depends on the project state before it. ``sqlmigrate``
uses the migration's ancestors only; ``migrate`` uses every applied migration
of every app (a later app may hold foreign keys to the models being altered).
handmig computes the state the way the executor does, so the runbook holds
the SQL that ``migrate`` would run on this database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.migrations.exceptions import (
    AmbiguityError,
    BadMigrationError,
    NodeNotFoundError,
)
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import ProjectState

from handmig.errors import LookupFailed


@dataclass
class PlannedMigration:
    migration: object
    backwards: bool
    state: object  # ProjectState right before the migration
    applied: bool  # recorded in django_migrations at generation time
    parents: list[tuple[str, str]]
    children: list[tuple[str, str]]
    warnings: list[str] = field(default_factory=list)


def load(connection) -> MigrationExecutor:
    """Return the executor migrate would use, with its graph and applied rows."""
    try:
        return MigrationExecutor(connection)
    except NodeNotFoundError as exc:
        raise LookupFailed(
            f"The migration graph is broken: {exc}. Restore the missing migration "
            "file, or fix the dependency that names it."
        ) from None
    except BadMigrationError as exc:
        raise LookupFailed(f"{exc}; fix or remove that file.") from None


def load_offline(connection, applied) -> MigrationExecutor:
    """Return an executor that takes the applied migrations as given.

    Offline there is no django_migrations to read: the loader's recorder is
    replaced, while it builds the graph, by one that answers ``applied``.
    """
    from django.db.migrations import loader as loader_module

    class _GivenRows:
        def __init__(self, connection):
            pass

        def applied_migrations(self):
            return dict.fromkeys(applied)

    original = loader_module.MigrationRecorder
    loader_module.MigrationRecorder = _GivenRows  # type: ignore[misc,assignment]
    try:
        return load(connection)
    finally:
        loader_module.MigrationRecorder = original  # type: ignore[misc]


def resolve(loader, app_label: str, prefix: str):
    """Return the migration of ``app_label`` whose name starts with ``prefix``."""
    key = _by_prefix(loader, app_label, prefix)
    if key not in loader.graph.nodes:
        raise LookupFailed(_not_in_graph(loader, key))
    return loader.graph.nodes[key]


def _by_prefix(loader, app_label: str, prefix: str) -> tuple[str, str]:
    """Return the key of the migration on disk whose name starts with ``prefix``."""
    _check_app(loader, app_label)
    try:
        migration = loader.get_migration_by_prefix(app_label, prefix)
    except AmbiguityError:
        names = sorted(
            name
            for app, name in loader.disk_migrations
            if app == app_label and name.startswith(prefix)
        )
        raise LookupFailed(
            f"More than one migration of '{app_label}' starts with '{prefix}' "
            f"({', '.join(names)}); give more of the name."
        ) from None
    except KeyError:
        raise LookupFailed(
            f"No migration of '{app_label}' starts with '{prefix}'. "
            f"List them with 'manage.py showmigrations {app_label}'."
        ) from None
    return (migration.app_label, migration.name)


def plan_one(executor, migration, backwards: bool) -> PlannedMigration:
    """Return the start state of one migration, and what stands in its way."""
    loader = executor.loader
    graph = loader.graph
    key = (migration.app_label, migration.name)
    applied = {k for k in loader.applied_migrations if k in graph.nodes}
    ancestors = set(graph.forwards_plan(key)) - {key}
    descendants = set(graph.backwards_plan(key))  # includes key itself
    # The order Django would apply everything on an empty database: states
    # are built by walking it, as MigrationExecutor does.
    full_plan = executor.migration_plan(graph.leaf_nodes(), clean_start=True)
    state = ProjectState(real_apps=loader.unmigrated_apps)
    for node, _ in full_plan:
        node_key = (node.app_label, node.name)
        if backwards and node_key == key:
            # _migrate_all_backwards unapplies from the state of everything
            # applied before this migration in that order.
            break
        if node_key in ancestors or (
            node_key in applied and node_key not in descendants
        ):
            node.mutate_state(state, preserve=False)

    planned = _planned(graph, migration, backwards, state, applied)
    label = f"{key[0]}.{key[1]}"
    if backwards:
        if key not in applied:
            planned.warnings.append(
                f"{label} is not recorded as applied on this database: "
                "there may be nothing to reverse."
            )
        dependents = [k for k in graph.backwards_plan(key) if k != key and k in applied]
        if dependents:
            planned.warnings.append(
                "Reverse these applied migrations first, they depend on "
                f"{label}: {_names(dependents)}."
            )
    else:
        if key in applied:
            planned.warnings.append(
                f"{label} is already recorded as applied on this database: "
                "running this runbook would apply it twice."
            )
        missing = [k for k in graph.forwards_plan(key) if k != key and k not in applied]
        if missing:
            planned.warnings.append(
                f"Apply these migrations first, {label} depends on them: "
                f"{_names(missing)}."
            )
    return planned


def _names(keys) -> str:
    return ", ".join(f"{app}.{name}" for app, name in keys)


def _not_in_graph(loader, key) -> str:
    """Explain why a migration on disk is not one migrate would run."""
    label = f"{key[0]}.{key[1]}"
    for squash_key, squash in loader.replacements.items():
        if key in squash.replaces and squash_key in loader.graph.nodes:
            return (
                f"{label} is replaced by the squashed migration "
                f"{squash_key[0]}.{squash_key[1]}, which migrate runs instead; "
                "ask for that one."
            )
    migration = loader.disk_migrations[key]
    if getattr(migration, "replaces", None):
        applied = [r for r in migration.replaces if r in loader.applied_migrations]
        return (
            f"{label} is a squashed migration that migrate does not use here: "
            f"only some of the migrations it replaces are applied "
            f"({_names(applied)}); ask for the replaced migrations one by one."
        )
    return (
        f"{label} is not part of the migration graph. "
        f"Check it with 'manage.py showmigrations {key[0]}'."
    )


@dataclass
class Plan:
    """What migrate would run for some targets, in its order."""

    backwards: bool
    items: list[PlannedMigration]
    # Forward plans progress one state from here; backward items carry theirs.
    start_state: object | None
    targets: list[tuple[str, str | None]]
    command: str  # the migrate arguments that name the same targets
    # Squashed migrations migrate records at the end (check_replacements).
    replacements: list[tuple[str, str]] = field(default_factory=list)


def targets(executor, app_label: str | None, target: str | None):
    """Resolve migrate's arguments into targets, as the migrate command does."""
    loader = executor.loader
    if app_label is None:
        return loader.graph.leaf_nodes(), ""
    if target is None:
        _check_app(loader, app_label)
        leaves = [key for key in loader.graph.leaf_nodes() if key[0] == app_label]
        return leaves, app_label
    if target == "zero":
        _check_app(loader, app_label)
        return [(app_label, None)], f"{app_label} zero"
    key = _by_prefix(loader, app_label, target)
    if key not in loader.graph.nodes and key in loader.replacements:
        # As migrate does: a partly applied squash is not in the graph; its
        # last replaced migration stands for it.
        key = loader.replacements[key].replaces[-1]
    if key not in loader.graph.nodes:
        raise LookupFailed(_not_in_graph(loader, key))
    return [key], f"{key[0]} {key[1]}"


def plan(executor, app_label=None, target=None) -> Plan:
    """Return the plan migrate would run for ``app_label`` and ``target``."""
    loader = executor.loader
    if app_label is not None:
        _check_app(loader, app_label)
    chosen, command = targets(executor, app_label, target)
    conflicts = loader.detect_conflicts()
    if conflicts:
        listed = "; ".join(
            f"{app}: {', '.join(names)}" for app, names in sorted(conflicts.items())
        )
        raise LookupFailed(
            f"Conflicting migrations ({listed}); merge them with "
            "'manage.py makemigrations --merge' first."
        )
    steps = executor.migration_plan(chosen)
    directions = {backwards for _, backwards in steps}
    if len(directions) > 1:
        raise LookupFailed(
            "That plan goes both forwards and backwards, which migrate does not "
            "do either; migrate in two steps."
        )
    backwards = directions == {True}
    graph = loader.graph
    applied = {k for k in loader.applied_migrations if k in graph.nodes}
    full_plan = executor.migration_plan(graph.leaf_nodes(), clean_start=True)
    in_plan = {(m.app_label, m.name) for m, _ in steps}
    items = []
    start_state = None
    if backwards:
        states = _backward_states(loader, full_plan, in_plan, applied)
        for migration, _ in steps:
            key = (migration.app_label, migration.name)
            items.append(_planned(graph, migration, True, states[key], applied))
    else:
        start_state = ProjectState(real_apps=loader.unmigrated_apps)
        for node, _ in full_plan:
            if (node.app_label, node.name) in applied:
                node.mutate_state(start_state, preserve=False)
        # migrate applies the plan in the order of the full plan.
        order = {(m.app_label, m.name): i for i, (m, _) in enumerate(full_plan)}
        steps = sorted(steps, key=lambda s: order[(s[0].app_label, s[0].name)])
        for migration, _ in steps:
            items.append(_planned(graph, migration, False, None, applied))
    return Plan(backwards, items, start_state, list(chosen), command)


def replacements_recorded(loader, recorded, plan: Plan) -> list[tuple[str, str]]:
    """Return the squashed migrations migrate records at the end of ``plan``.

    After every run, even one with nothing to do, migrate records each
    squashed migration whose replaced migrations are all recorded and whose
    own row is missing (``MigrationExecutor.check_replacements``): a database
    migrated before the squash existed, or through the replaced migrations.
    ``recorded`` is what django_migrations holds now.
    """
    rows = set(recorded)
    for item in plan.items:
        migration: Any = item.migration
        keys = [*(migration.replaces or []), (migration.app_label, migration.name)]
        if plan.backwards:
            rows.difference_update(keys)
        else:
            rows.update(keys)
    return [
        key
        for key, squash in loader.replacements.items()
        if key not in rows and all(target in rows for target in squash.replaces)
    ]


def _backward_states(loader, full_plan, in_plan, applied):
    """Return the state before each migration to unapply, as the executor does."""
    states = {}
    state = ProjectState(real_apps=loader.unmigrated_apps)
    remaining = set(in_plan)
    for node, _ in full_plan:
        if not remaining:
            break
        key = (node.app_label, node.name)
        if key in remaining:
            states[key] = state
            state = node.mutate_state(state, preserve=True)
            remaining.discard(key)
        elif key in applied:
            node.mutate_state(state, preserve=False)
    return states


def _planned(graph, migration, backwards, state, applied) -> PlannedMigration:
    key = (migration.app_label, migration.name)
    return PlannedMigration(
        migration=migration,
        backwards=backwards,
        state=state,
        applied=key in applied,
        parents=sorted(parent.key for parent in graph.node_map[key].parents),
        children=sorted(child.key for child in graph.node_map[key].children),
    )


def _check_app(loader, app_label: str) -> None:
    try:
        apps.get_app_config(app_label)
    except LookupError:
        raise LookupFailed(
            f"No installed app with label '{app_label}'. "
            "Check the spelling, or add it to INSTALLED_APPS."
        ) from None
    if app_label not in loader.migrated_apps:
        raise LookupFailed(
            f"App '{app_label}' has no migrations. "
            f"Run 'manage.py makemigrations {app_label}' first."
        )
