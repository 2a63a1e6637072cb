"""What django_migrations says against what the migration files say.

Applied and pending migrations per app, as ``showmigrations`` shows them,
plus what goes wrong when migrations are handled by hand: rows with no
migration file (orphans), squashed migrations only partly applied, and
applied migrations whose dependencies are not (inconsistent history).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from django.db.migrations.recorder import MigrationRecorder

from handmig import database, planner
from handmig.errors import ConfigurationError


@dataclass
class MigrationStatus:
    app: str
    name: str
    applied: bool
    applied_at: str | None
    replaces: list[str] = field(default_factory=list)


@dataclass
class Problem:
    kind: str  # "orphan", "partly-applied-squash", "inconsistent"
    message: str


@dataclass
class Status:
    database: str
    has_table: bool
    apps: dict[str, list[MigrationStatus]]
    problems: list[Problem]
    # Every (app, name) row of django_migrations: what --offline --applied reads.
    rows: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self):
        """Return the status as plain data, the form JSON output carries."""
        return {"format": "handmig.status/1", **asdict(self)}

    @property
    def pending(self) -> int:
        return sum(not m.applied for ms in self.apps.values() for m in ms)


def status(app_label: str | None = None, *, database_alias: str = "default") -> Status:
    """Return the migration status of ``database_alias`` (only read)."""
    with database.read_only(database_alias) as (connection, _):
        executor = planner.load(connection)
        loader = executor.loader
        if app_label is not None:
            planner._check_app(loader, app_label)
        recorder = MigrationRecorder(connection)
        has_table = recorder.has_table()
        rows = (
            {(row.app, row.name): row.applied for row in recorder.migration_qs.all()}
            if has_table
            else {}
        )
        graph = loader.graph
        apps: dict[str, list[MigrationStatus]] = {}
        for app in sorted(loader.migrated_apps):
            if app_label is not None and app != app_label:
                continue
            entries = []
            for key in _app_order(graph, app):
                migration = graph.nodes[key]
                entries.append(
                    MigrationStatus(
                        app=app,
                        name=key[1],
                        applied=key in loader.applied_migrations,
                        applied_at=_when(rows.get(key)),
                        replaces=[f"{a}.{n}" for a, n in migration.replaces or []],
                    )
                )
            apps[app] = entries
        problems = _problems(loader, graph, rows, app_label)
        return Status(connection.alias, has_table, apps, problems, sorted(rows))


def _app_order(graph, app):
    seen = []
    for leaf in graph.leaf_nodes(app):
        for key in graph.forwards_plan(leaf):
            if key[0] == app and key not in seen:
                seen.append(key)
    return seen


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None


def _problems(loader, graph, rows, app_label) -> list[Problem]:
    problems = []
    mine = (lambda app: True) if app_label is None else (lambda app: app == app_label)
    # The rows of migrations a squash replaces are migrate's own bookkeeping,
    # with or without their files: deleting them makes Django refuse to run.
    replaced = {
        key for squash in loader.replacements.values() for key in squash.replaces
    }
    for app, name in sorted(rows):
        if (
            mine(app)
            and (app, name) not in loader.disk_migrations
            and (app, name) not in replaced
        ):
            problems.append(
                Problem(
                    "orphan",
                    f"{app}.{name} is recorded in django_migrations but has no "
                    "migration file: it was deleted or renamed. If its changes "
                    "are in the database and nothing needs it, delete the row "
                    "('handmig record APP NAME --backwards' writes the DELETE).",
                )
            )
    for key, squash in sorted(loader.replacements.items()):
        if not mine(key[0]):
            continue
        done = [r for r in squash.replaces if r in rows]
        if done and len(done) < len(squash.replaces):
            missing = [f"{a}.{n}" for a, n in squash.replaces if (a, n) not in rows]
            problems.append(
                Problem(
                    "partly-applied-squash",
                    f"{key[0]}.{key[1]} is only partly applied ({len(done)} of "
                    f"{len(squash.replaces)} replaced migrations); migrate runs "
                    f"the replaced ones until then. Missing: {', '.join(missing)}.",
                )
            )
    applied = set(loader.applied_migrations)
    for key in sorted(applied):
        if key not in graph.nodes or not mine(key[0]):
            continue
        for parent in sorted(graph.node_map[key].parents, key=lambda n: n.key):
            if parent.key not in applied:
                problems.append(
                    Problem(
                        "inconsistent",
                        f"{key[0]}.{key[1]} is applied but its dependency "
                        f"{parent.key[0]}.{parent.key[1]} is not; migrate will "
                        "refuse to run until the history is repaired.",
                    )
                )
    return problems


def read_applied(path: str) -> set[tuple[str, str]]:
    """Return the applied migrations listed by ``handmig status --format json``."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return {(str(app), str(name)) for app, name in data["rows"]}
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot read {path}: {exc.strerror}; give the file "
            "'handmig status --format json' wrote."
        ) from None
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError(
            f"{path} is not the output of 'handmig status --format json'; "
            "write it with that command on the target database."
        ) from None
