"""Resolve what to run and the project state it starts from, as migrate does.

The SQL of a migration depends on the project state before it. ``sqlmigrate``
uses the migration's ancestors only; ``migrate`` uses every applied migration
of every app (a later app may hold foreign keys to the models being altered).
handmig computes the state the way the executor does, so the runbook holds
the SQL that ``migrate`` would run on this database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


def resolve(loader, app_label: str, prefix: str):
    """Return the migration of ``app_label`` whose name starts with ``prefix``."""
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
    key = (migration.app_label, migration.name)
    if key not in loader.graph.nodes:
        raise LookupFailed(_not_in_graph(loader, key))
    return loader.graph.nodes[key]


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

    planned = PlannedMigration(
        migration=migration,
        backwards=backwards,
        state=state,
        applied=key in applied,
        parents=sorted(parent.key for parent in graph.node_map[key].parents),
        children=sorted(child.key for child in graph.node_map[key].children),
    )
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
