"""Build the runbook model: plan, collect, split, advise.

This is the core the CLI and the management command call; it reads the
target database, never writes to it, and never prints. When the SQL depends
on objects the plan itself creates, the plan runs on a shadow database.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import django
from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.db.migrations.recorder import MigrationRecorder

import handmig
from handmig import (
    advice,
    bookkeeping,
    classify,
    database,
    guards,
    planner,
    probes,
    rules,
    statements,
    timeouts,
    verify,
)
from handmig import online as online_schema
from handmig.collector import CollectedMigration, collect
from handmig.errors import (
    ConfigurationError,
    MigrationBroken,
    OfflineNeedsDatabase,
    ShadowFailed,
    ShadowNeeded,
)
from handmig.model import (
    Check,
    Handoff,
    Header,
    MigrationRow,
    MigrationSection,
    OperationStep,
    PostStep,
    Runbook,
    Step,
)
from handmig.replay import Replay
from handmig.shadow import shadow as make_shadow
from handmig.states import Progression


@dataclass(frozen=True)
class Options:
    """How to generate: where the SQL may come from, and what to add to it."""

    shadow: str = "auto"  # "auto", "always" or "never"
    shadow_database: str | None = None
    offline: bool = False
    applied: frozenset[tuple[str, str]] | None = None  # offline: what is applied
    ignore: tuple[str, ...] = ()  # safety rules not to flag
    lock_timeout: int | None = None  # milliseconds
    statement_timeout: int | None = None
    online: str | None = None  # "pt-osc" or "gh-ost": ALTERs through the tool
    # Query the target's tables for rows in what the plan drops (each
    # query bounded by probes.TIMEOUT_MS); False reads only the catalog.
    data_probes: bool = True
    # Called as progress(stage, done, total, "app.name") after each migration
    # is collected ("collect") or run on a shadow ("shadow"), as migrate's
    # progress callback: the core never prints.
    progress: Callable[[str, int, int, str], None] | None = None

    def __post_init__(self):
        if self.shadow not in ("auto", "always", "never"):
            raise ConfigurationError(
                f"shadow={self.shadow!r}: use 'auto', 'always' or 'never'."
            )
        if self.online not in (None, *online_schema.TOOLS):
            raise ConfigurationError(
                f"online={self.online!r}: use one of {', '.join(online_schema.TOOLS)}."
            )


def build_runbook(
    app_label: str,
    migration_name: str,
    *,
    backwards: bool = False,
    database_alias: str = DEFAULT_DB_ALIAS,
    **options,
) -> Runbook:
    """Return the runbook that applies (or reverses) one migration by hand.

    ``migration_name`` is a unique prefix of the name, as with sqlmigrate.
    ``options`` are the fields of Options. Offline, the applied migrations
    are ``applied``, or by default exactly those the migration depends on
    (and itself, to reverse it), as sqlmigrate assumes.
    """
    opts = Options(**options)
    applied = opts.applied
    opener = database.offline if opts.offline else database.read_only
    with opener(database_alias) as (connection, notes):
        if opts.offline:
            executor = planner.load_offline(connection, applied or set())
            migration = planner.resolve(executor.loader, app_label, migration_name)
            if applied is None:
                key = (migration.app_label, migration.name)
                before = set(executor.loader.graph.forwards_plan(key))
                applied = frozenset(before if backwards else before - {key})
                executor = planner.load_offline(connection, applied)
                migration = executor.loader.graph.nodes[key]
        else:
            executor = planner.load(connection)
            migration = planner.resolve(executor.loader, app_label, migration_name)
        planned = planner.plan_one(executor, migration, backwards)
        plan = planner.Plan(
            backwards=backwards,
            items=[planned],
            start_state=None if backwards else planned.state,
            targets=[(migration.app_label, migration.name)],
            command="",
        )
        plan.replacements = _replacements(connection, executor, plan, applied, opts)
        return _build(connection, plan, "runbook", notes, opts, applied)


def build_record(
    app_label: str,
    migration_name: str,
    *,
    backwards: bool = False,
    database_alias: str = DEFAULT_DB_ALIAS,
) -> Runbook:
    """Return only the bookkeeping: for statements already run by hand.

    It is what ``migrate --fake`` writes, for servers where the migration
    file (and so ``--fake``) is not available.
    """
    with database.read_only(database_alias) as (connection, notes):
        executor = planner.load(connection)
        migration = planner.resolve(executor.loader, app_label, migration_name)
        planned = planner.plan_one(executor, migration, backwards)
        plan = planner.Plan(backwards, [planned], None, [], "")
        nothing = CollectedMigration([], [], planned.state, planned.state)
        section = _section(connection, planned, nothing, backwards, "")
        has_table = MigrationRecorder(connection).has_table()
        verb = "Remove the record of" if backwards else "Record"
        done = "" if backwards else " as applied"
        post = _post(connection, plan, "runbook", [])
        return Runbook(
            title=f"{verb} {migration.app_label}.{migration.name}{done}",
            kind="record",
            direction="backward" if backwards else "forward",
            header=_header(connection),
            before=[]
            if has_table or backwards
            else _before(connection, False, False, True)[-1:],
            preflight=_preflight(connection, plan, has_table),
            migrations=[section],
            after=[],
            verify=_verify(connection, plan)[-1:],
            post=post,
            warnings=notes + planned.warnings,
        )


def build_plan(
    app_label: str | None = None,
    target: str | None = None,
    *,
    database_alias: str = DEFAULT_DB_ALIAS,
    **options,
) -> Runbook:
    """Return the runbook for everything ``migrate [app_label [target]]`` would do.

    ``options`` are the fields of Options. Offline, the applied migrations
    are ``applied``, by default none (a new database).
    """
    opts = Options(**options)
    opener = database.offline if opts.offline else database.read_only
    with opener(database_alias) as (connection, notes):
        applied = opts.applied
        if opts.offline:
            applied = applied or frozenset()
            executor = planner.load_offline(connection, applied)
        else:
            executor = planner.load(connection)
        plan = planner.plan(executor, app_label, target)
        plan.replacements = _replacements(connection, executor, plan, applied, opts)
        return _build(connection, plan, "plan", notes, opts, applied)


def _replacements(connection, executor, plan, applied, opts) -> list:
    """Return the squashed migrations migrate would record after ``plan``."""
    if opts.offline:
        recorded = set(applied or ())
    else:
        recorder = MigrationRecorder(connection)
        recorded = set(recorder.applied_migrations()) if recorder.has_table() else set()
    return planner.replacements_recorded(executor.loader, recorded, plan)


def _build(connection, plan, kind, notes, opts: Options, applied) -> Runbook:
    if plan.backwards:
        advice.check_reversible([item.migration for item in plan.items])
    offline = database.is_offline(connection)
    resolved = f"database '{connection.alias}'"
    # Online schema tools need every table's incoming foreign keys.
    online = opts.online is not None
    if offline:
        collected, reason = _collect(connection, plan, opts.progress, offline=True)
        if reason:
            raise OfflineNeedsDatabase(
                f"{reason}; generate it with a database connection."
            )
    elif opts.shadow == "always" or opts.shadow_database:
        collected, resolved = _collect_on_shadow(
            connection, plan, opts.shadow_database, opts.progress, online, notes
        )
    else:
        # A copy of a SQLite file is cheap: run Python steps on one, so that
        # any SQL they issue themselves is in the runbook too. Then the copy
        # is the only pass: collecting first would be thrown away.
        reason = (
            _python_steps(plan)
            if connection.vendor == "sqlite" and opts.shadow == "auto"
            else None
        )
        if not reason:
            collected, reason = _collect(connection, plan, opts.progress, online=online)
        if reason:
            if opts.shadow == "never" or connection.vendor != "sqlite":
                # Creating databases on a server is not done unasked.
                raise ShadowNeeded(
                    f"{reason}; rerun with --shadow (handmig makes and drops a "
                    "scratch copy of the schema) or --shadow-database ALIAS."
                )
            collected, resolved = _collect_on_shadow(
                connection, plan, None, opts.progress, online, notes
            )
            notes = notes + [f"{reason}: the SQL was taken from {resolved}."]

    if offline:
        has_table = bool(applied)
    else:
        has_table = MigrationRecorder(connection).has_table()
    sections = [
        _section(connection, item, result, plan.backwards, resolved)
        for item, result in zip(plan.items, collected, strict=True)
    ]
    if not offline and opts.data_probes:
        _flag_data_loss(connection, plan, collected, sections)
    _apply_rules(connection, sections, collected, opts.ignore, offline)
    for section in sections:
        for step in section.operations:
            step.verify = verify.checks(connection, [s.sql for s in step.statements])
        section.deferred_verify = verify.checks(
            connection, [s.sql for s in section.deferred]
        )
    if opts.online:
        online_schema.apply(connection, sections, collected, opts.online)
    if opts.lock_timeout is not None or opts.statement_timeout is not None:
        for section in sections:
            section.timeouts = timeouts.settings(
                connection,
                opts.lock_timeout,
                opts.statement_timeout,
                section.transactional,
            )
            section.timeout_advice = timeouts.advice(connection, section.transactional)
            section.timeouts_reset = timeouts.reset(
                connection,
                opts.lock_timeout,
                opts.statement_timeout,
                section.transactional,
            )
    if opts.lock_timeout is not None or opts.statement_timeout is not None:
        for section in sections:
            # Dropping BEGIN/COMMIT would leave SET LOCAL without effect.
            section.flags = [f for f in section.flags if f.id != "single-statement"]
    for section in sections:
        section.backups = list(
            dict.fromkeys(s.backup for s in _statements_of(section) if s.backup)
        )
        section.guard = _section_guard(connection, section, plan.backwards)
    parts = _handoffs(connection, sections, plan.backwards)
    for section in sections:
        every = section.flags + [f for op in section.operations for f in op.flags]
        every += [
            f
            for group in [op.statements for op in section.operations]
            + [section.deferred]
            for statement in group
            for f in statement.flags
        ]
        section.flag_ids = list(dict.fromkeys(flag.id for flag in every))
    warnings = list(notes)
    for item in plan.items:
        warnings.extend(w for w in item.warnings if w not in warnings)
    header = _header(connection)
    header.resolved_against = resolved
    header.client = database.client_command(connection)
    before = _before(connection, has_table, plan.backwards, bool(plan.items))
    return Runbook(
        title=_title(plan, kind),
        kind=kind,
        direction="backward" if plan.backwards else "forward",
        header=header,
        before=before,
        preflight=_preflight(connection, plan, has_table),
        migrations=sections,
        after=_after(connection, plan),
        verify=_verify(connection, plan),
        post=_post(connection, plan, kind, collected),
        warnings=warnings,
        parts=parts,
        session=_session(connection) if plan.items else [],
    )


def _after(connection, plan) -> list[Step]:
    """Return the step that records squashed migrations, as migrate ends a run."""
    if not plan.replacements:
        return []
    rows = [MigrationRow(app, name) for app, name in plan.replacements]
    listed = ", ".join(f"{row.app}.{row.name}" for row in rows)
    return [
        Step(
            title=f"Record {listed} as applied: every migration it replaces is "
            "recorded.",
            statements=[bookkeeping.insert(connection, row) for row in rows],
            note="migrate does the same at the end of every run "
            "(check_replacements); running it twice adds nothing.",
        )
    ]


def _statements_of(section) -> list:
    """Return the section's statements in the order they run."""
    found = [s for op in section.operations for s in op.statements]
    return found + list(section.deferred)


def _section_guard(connection, section, backwards: bool) -> list:
    """Return the guard that stops a script unless the section is still to run."""
    label = f"{section.app}.{section.name}"
    rows = section.record.rows
    if backwards:
        # A squash counts as applied when what it replaces is (trap 3).
        applied = section.replaces or rows
        return guards.fail_when(
            connection,
            guards.negate(guards.recorded_all(connection, applied)),
            f"{label} is not recorded as applied, so it was not reversed "
            "again; this script has run before, or the database changed. "
            "Generate the runbook again.",
        )
    return guards.fail_when(
        connection,
        guards.recorded_any(connection, rows),
        f"{label} is already recorded as applied, so it was not run again; "
        "this script has run before, or the database changed. Generate the "
        "runbook again.",
    )


def _handoffs(connection, sections, backwards: bool) -> int:
    """Mark where a script stops for steps SQL cannot do; return the parts.

    A migration whose Python SQL cannot replace runs with Django, whole; an
    ALTER handed to an online tool runs in a shell. The script ends its part
    before them, and the next part starts with a guard that fails until
    they are done, so it never records what did not run.
    """
    part = 1
    waiting: list = []  # consecutive sections that run with Django
    for index, section in enumerate(sections):
        section.part = part
        if section.with_django:
            waiting.append(section)
            following = sections[index + 1] if index + 1 < len(sections) else None
            if following is None or not following.with_django:
                part = _django_handoff(
                    connection, waiting, part, following is not None, backwards
                )
                waiting = []
            continue
        for statement in _statements_of(section):
            if statement.online is None:
                continue
            part += 1
            statement.handoff = _online_handoff(connection, statement, part)
    return part


def _django_handoff(connection, run, part, more: bool, backwards: bool) -> int:
    labels = ", ".join(f"{s.app}.{s.name}" for s in run)
    commands = [s.migrate_command for s in run]
    handoff = Handoff(
        title=f"Run {labels} with Django: "
        + ("its Python" if len(run) == 1 else "their Python")
        + " cannot be written as SQL.",
        commands=commands,
        part=part + 1 if more else None,
    )
    run[-1].handoff = handoff
    todo = " then ".join(f"'{c}'" for c in commands)
    # Last of all too: the script's exit status says the plan is not done.
    handoff.stop = _stop(connection, part, f"run {todo}", more)
    if not more:
        return part
    if backwards:
        keys = [row for s in run for row in s.record.rows]
        condition = guards.recorded_any(connection, keys)
        state = "still recorded"
    else:
        keys = [row for s in run for row in (s.replaces or s.record.rows)]
        condition = guards.negate(guards.recorded_all(connection, keys))
        state = "not applied yet"
    handoff.guard = guards.fail_when(
        connection,
        condition,
        f"{labels} {'is' if len(run) == 1 else 'are'} {state}: run {todo} "
        f"first, then part {part + 1} of this script.",
    )
    return part + 1


def _online_handoff(connection, statement, part) -> Handoff:
    online = statement.online
    checks = verify.checks(connection, [statement.sql])
    condition = " OR ".join(
        f"({check.sql.rstrip().rstrip(';')}) <> {check.expect}" for check in checks
    )
    handoff = Handoff(
        title=f"Run {online.tool} on {online.table}.",
        commands=[online.dry_run, online.execute],
        part=part,
        stop=_stop(
            connection, part - 1, f"run {online.tool} on {online.table} (dry run first)"
        ),
    )
    if condition:
        handoff.guard = guards.fail_when(
            connection,
            condition,
            f"the change {online.tool} makes to {online.table} is not there "
            f"yet: run it first, then part {part} of this script.",
        )
    return handoff


def _stop(connection, part, todo, more=True) -> list:
    """Return the statement that ends part ``part`` of a script, always failing.

    Piped whole, a script stops there; the next part is run on its own.
    """
    then = (
        f"; then run part {part + 1}, from the line '-- Part {part + 1} of'."
        if more
        else ", and the plan is done."
    )
    return guards.fail_when(
        connection,
        "1 = 1",
        f"part {part} of this script ends here. Next, in a shell: {todo}{then}",
    )


def _session(connection) -> list:
    """Return the session settings every part of a script begins with."""
    if connection.vendor == "sqlite":
        return [statements.make("PRAGMA foreign_keys = OFF;")]
    return []


def _apply_rules(connection, sections, collected, ignore, offline) -> None:
    """Classify every statement and flag the safety rules it breaks, in run order."""
    new_tables: set[str] = set()
    for section, result in zip(sections, collected, strict=True):
        for step, columns in classify.statement_groups(section, result):
            for statement in step:
                _classify(connection, statement, columns, new_tables, ignore, offline)


def _classify(connection, statement, columns, new_tables, ignore, offline) -> None:
    table = rules.target_table(statement.sql)
    statement.kind = classify.kind(statement.sql)
    statement.table = table
    statement.destructive = classify.destructive(statement.sql, columns)
    statement.lock = classify.lock(statement.sql, connection.vendor, columns)
    algorithm = (
        classify.mysql_algorithm(statement.sql, columns)
        if connection.vendor == "mysql"
        else None
    )
    ids = rules.check(statement.sql, connection.vendor, new_tables, algorithm)
    if "drop-table" in ids and f"new__{table}" in new_tables:
        # SQLite rebuilds a table: copy, drop, rename. Nothing is lost.
        ids.remove("drop-table")
        statement.destructive = False
    statement.rules = [i for i in ids if i not in ignore]
    statement.flags = [rules.flag(i) for i in statement.rules]
    if {"drop-table", "drop-column"} & set(statement.rules) and table:
        column = rules.dropped_column(statement.sql)
        pk = None if offline else _primary_key(connection, table)
        statement.backup = rules.backup_command(connection, table, column, pk)
    if statement.verb.startswith("CREATE TABLE") and table:
        new_tables.add(table)


def _primary_key(connection, table) -> str | None:
    try:
        with connection.cursor() as cursor:
            return connection.introspection.get_primary_key_column(cursor, table)
    except DatabaseError:
        return None


def _collect(connection, plan, progress=None, offline=False, online=False):
    """Collect every migration's SQL without running it.

    Return the results, and why a shadow is needed if it is: Django could
    not find an object it asked the database about (it raises), or it asked
    for the names of constraints that an earlier statement of the plan adds,
    drops or rebuilds, so the database's answer is the one from before.
    """
    results = []
    # (table or None, kind) -> the migration whose SQL changes such constraints
    changed: dict[tuple[str | None, str], str] = {}
    index_table = _IndexTables(connection)
    # Forward plans progress one state in place: keep the plan's own intact
    # for a second pass (on a shadow).
    progression = (
        None
        if plan.backwards
        else Progression(plan.start_state.clone(), referrers=online)
    )
    for item in plan.items:
        migration = item.migration
        label = f"{migration.app_label}.{migration.name}"
        try:
            if plan.backwards:
                result = collect(
                    connection, migration, item.state, True, offline=offline
                )
            else:
                result = collect(
                    connection, migration, progression, False, offline=offline
                )
        except OfflineNeedsDatabase as exc:
            return results, f"{label} cannot be written offline: {exc}"
        except (ValueError, DatabaseError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return results, (
                f"{label} cannot be written from the database as it is now ({first})"
            )
        except (LookupError, TypeError, AttributeError, FieldDoesNotExist) as exc:
            # The migration itself is wrong: migrate fails on it the same way.
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise MigrationBroken(
                f"{label} fails while its SQL is generated ({type(exc).__name__}: "
                f"{first}); fix the migration (migrate fails on it too)."
            ) from None
        for operation in result.operations:
            stale = _stale(operation.lookups, changed)
            if stale:
                return results, (
                    f"{label} reads the names of constraints on {stale[0]} from "
                    f"the database, but {stale[1]} changes them earlier in this "
                    "runbook"
                )
            for chunk in operation.chunks:
                _note_changes(chunk, label, changed, index_table)
        for _, chunk in result.deferred:
            _note_changes(chunk, label, changed, index_table)
        results.append(result)
        if progress:
            progress("collect", len(results), len(plan.items), label)
    return results, None


def _python_steps(plan) -> str | None:
    """Return why a shadow shows more: the plan runs Python that is not a no-op."""
    for item in plan.items:
        for operation in item.migration.operations:
            code = getattr(
                operation, "reverse_code" if plan.backwards else "code", None
            )
            if not operation.reduces_to_sql and callable(code):
                if code is not getattr(type(operation), "noop", None):
                    migration = item.migration
                    return (
                        f"{migration.app_label}.{migration.name} runs Python, which "
                        "may issue SQL of its own"
                    )
    return None


def _note_changes(chunk, label, changed, index_table) -> None:
    vendor = index_table.connection.vendor
    for table, kinds in statements.effects(chunk, index_table, vendor=vendor):
        for kind in kinds:
            changed.setdefault((table, kind), label)
    for text in statements.split(chunk, vendor):
        name = statements.index_name(text)
        named = statements.tables(text)
        if name and named and text.lstrip().upper().startswith("CREATE"):
            index_table.known[name] = next(iter(named))


class _IndexTables:
    """Find the table of an index by name: created earlier in the plan, or on
    the target (read from its catalog)."""

    def __init__(self, connection):
        self.connection = connection
        self.known: dict[str, str] = {}

    def __call__(self, name: str) -> str | None:
        if not name:
            return None
        if name not in self.known:
            self.known[name] = self._lookup(name)
        return self.known[name]

    def _lookup(self, name):
        with self.connection.cursor() as cursor:
            for table in self.connection.introspection.table_names(cursor):
                constraints = self.connection.introspection.get_constraints(
                    cursor, table
                )
                if name in constraints:
                    return table
        return None


def _stale(lookups, changed):
    """Return (table, migration) if a lookup asks about constraints changed earlier."""
    for table, kinds in lookups:
        for kind in kinds:
            for key in ((table, kind), (table, "any"), (None, kind)):
                if key in changed:
                    return table, changed[key]
            if kind == "any":
                for (other, _), label in changed.items():
                    if other in (table, None):
                        return table, label
    return None


def _collect_on_shadow(
    connection, plan, configured_alias, progress=None, online=False, notes=None
):
    """Run the plan on a shadow database and capture its SQL.

    What the shadow finds of earlier runs' scratch databases goes to ``notes``.
    """
    with make_shadow(connection, configured_alias, notes=notes) as (
        shadow_connection,
        described,
    ):
        results = []
        progression = (
            None
            if plan.backwards
            else Progression(plan.start_state.clone(), referrers=online)
        )
        replay = Replay(shadow_connection)
        # As migrate does before it starts; later the queue may run inside a
        # transaction, where MySQL refuses the DDL.
        _ensure_recorder(shadow_connection)
        for item in plan.items:
            migration = item.migration
            label = f"{migration.app_label}.{migration.name}"
            replay.label = label
            try:
                state = item.state if plan.backwards else progression
                result = collect(
                    shadow_connection, migration, state, plan.backwards, replay=replay
                )
            except Exception as exc:  # noqa: BLE001 - anything the plan raises
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                failed = getattr(exc, "label", None) or label
                raise ShadowFailed(
                    f"{failed} failed on the shadow database ({type(exc).__name__}: "
                    f"{first}); fix the migration, or run it with Django."
                ) from None
            replay.queue(
                functools.partial(
                    _record_on_shadow, shadow_connection, migration, plan.backwards
                )
            )
            results.append(result)
            if progress:
                progress("shadow", len(results), len(plan.items), label)
    return results, f"a shadow database ({described})"


def _ensure_recorder(connection) -> None:
    try:
        MigrationRecorder(connection).ensure_schema()
    except Exception as exc:  # noqa: BLE001 - the message says what failed
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ShadowFailed(
            f"Cannot create {bookkeeping.TABLE} on the shadow database "
            f"({type(exc).__name__}: {first})."
        ) from None


def _record_on_shadow(connection, migration, backwards):
    """Keep the shadow's django_migrations in step, as migrate would."""
    recorder = MigrationRecorder(connection)
    for row in bookkeeping.rows(migration):
        if backwards:
            recorder.record_unapplied(row.app, row.name)
        else:
            recorder.record_applied(row.app, row.name)


def _title(plan, kind) -> str:
    verb = "Reverse" if plan.backwards else "Apply"
    if kind == "runbook":
        migration = plan.items[0].migration
        return f"{verb} {migration.app_label}.{migration.name}"
    if not plan.items and plan.replacements:
        return (
            f"Record {len(plan.replacements)} squashed migration(s), as migrate would"
        )
    if not plan.items:
        return "Nothing to migrate"
    target = plan.command or "every app to its latest migration"
    return f"{verb} {len(plan.items)} migration(s): migrate {target}".rstrip()


def _header(connection) -> Header:
    vendor_display, version = database.server_version(connection)
    return Header(
        handmig_version=handmig.__version__,
        django_version=django.get_version(),
        database=connection.alias,
        vendor=connection.vendor,
        vendor_display=vendor_display,
        server_version=version,
        settings=os.environ.get("DJANGO_SETTINGS_MODULE"),
        generated_at=datetime.datetime.now(datetime.timezone.utc)
        .replace(microsecond=0)
        .isoformat(),
    )


def _section(
    connection, item, collected, backwards: bool, resolved
) -> MigrationSection:
    migration = item.migration
    target = migration.name
    if backwards:
        # Reversing a migration is migrating its app back to its parent.
        parents = [name for app, name in item.parents if app == migration.app_label]
        target = parents[0] if parents else "zero"
    command = _migrate_command(connection, migration.app_label, target)
    operations = []
    for result in collected.operations:
        operation = result.operation
        code = getattr(operation, "reverse_code" if backwards else "code", None)
        undo = getattr(operation, "code" if backwards else "reverse_code", None)
        step = OperationStep(
            number=result.number,
            type=type(operation).__name__,
            description=advice.description(operation),
            writes_sql=operation.reduces_to_sql,
            reversible=operation.reversible,
            statements=statements.split_all(result.chunks, vendor=connection.vendor),
            python=advice.python_code(code),
            reverse_python=advice.python_code(undo),
            introspected_from=resolved if result.introspected else None,
        )
        if not operation.reduces_to_sql:
            step.flags.append(
                advice.non_sql_flag(operation, step.python, command, result.ran_python)
            )
            if step.statements:
                step.flags.append(advice.python_sql_flag(step.python))
        if result.introspected and step.statements:
            step.flags.append(advice.introspection_flag(resolved))
        operations.append(step)

    by_number = {step.number: step for step in operations}
    deferred = []
    for origin, chunk in collected.deferred:
        described = by_number[origin].description if origin in by_number else None
        deferred.extend(
            statements.split_all(
                [chunk],
                vendor=connection.vendor,
                origin=origin,
                origin_description=described,
            )
        )

    count = sum(len(step.statements) for step in operations) + len(deferred)
    # migrate wraps the migration in a transaction only where DDL can be
    # rolled back, and only for atomic migrations (trap 5).
    transactional = migration.atomic and connection.features.can_rollback_ddl
    module = sys.modules[type(migration).__module__]
    path = getattr(module, "__file__", None) or ""
    section = MigrationSection(
        app=migration.app_label,
        name=migration.name,
        file=advice.display_path(path),
        sha256=_sha256(path),
        atomic=migration.atomic,
        transactional=transactional,
        replaces=bookkeeping.rows(migration)[:-1],
        operations=operations,
        deferred=deferred,
        record=bookkeeping.record(connection, migration, backwards),
        begin=statements.make("BEGIN;") if transactional else None,
        commit=statements.make("COMMIT;") if transactional else None,
        statement_count=count,
        migrate_command=command,
        fake_command=command + " --fake",
    )
    if transactional:
        flag = advice.transaction_flag(count)
        if flag:
            section.flags.append(flag)
    if any(f.id == "python-step" for step in operations for f in step.flags):
        section.with_django = True
        section.flags.insert(
            0, advice.python_route_flag(section.migrate_command, section.fake_command)
        )
    return section


def _flag_data_loss(connection, plan, collected, sections) -> None:
    """Flag steps that drop a table or column which holds data on the target."""
    existing = set(connection.introspection.table_names())
    for result, section in zip(collected, sections, strict=True):
        steps = {step.number: step for step in section.operations}
        for operation in result.operations:
            for table, column in operation.dropped:
                if not _exists(connection, existing, table, column):
                    continue
                holds = probes.holds_data(connection, table, column)
                steps[operation.number].flags.append(
                    advice.data_loss_flag(table, column, holds)
                )


def _exists(connection, existing, table, column) -> bool:
    """Return whether the target has ``table`` (and its ``column``) now."""
    if table not in existing:
        return False
    if column is None:
        return True
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    return column in {c.name for c in description}


def _before(
    connection, has_table: bool, backwards: bool, any_steps: bool
) -> list[Step]:
    steps: list[Step] = []
    if not any_steps:
        return steps
    if connection.vendor == "sqlite":
        steps.append(
            Step(
                title="Turn off foreign key enforcement for this session.",
                statements=[statements.make("PRAGMA foreign_keys = OFF;")],
                note="Django's SQLite schema editor does the same: tables are "
                "rebuilt while other tables still point at them. It has no "
                "effect inside a transaction, so run it first.",
            )
        )
    if not has_table and not backwards:
        steps.append(
            Step(
                title=f"Create {bookkeeping.TABLE}, as migrate does on a new database.",
                statements=bookkeeping.create_table(connection),
                note=f"{bookkeeping.TABLE} did not exist when the runbook was "
                "generated.",
                guard=guards.fail_when(
                    connection,
                    guards.table_exists(connection, bookkeeping.TABLE),
                    f"{bookkeeping.TABLE} exists already, so it was not created "
                    "again; this script has run before, or migrate has. "
                    "Generate the runbook again.",
                ),
            )
        )
    return steps


def _preflight(connection, plan, has_table: bool) -> list[Check]:
    if not plan.items:
        return []
    if not has_table:
        return [bookkeeping.table_check(connection)]
    own = [row for item in plan.items for row in bookkeeping.rows(item.migration)]
    keys = {(row.app, row.name) for row in own}
    if len(plan.items) == 1:
        migration = plan.items[0].migration
        subject, them = f"{migration.app_label}.{migration.name} is", "it"
    else:
        subject, them = f"the {len(plan.items)} migrations of this runbook are", "them"
    if plan.backwards:
        first = f"Confirm that {subject} recorded as applied."
        related = _outside(plan, "children", keys)
        second = f"Confirm that no migration depending on {them} is applied."
    else:
        first = f"Confirm that {subject} not recorded yet."
        related = _outside(plan, "parents", keys)
        second = f"Confirm that the migrations {them} depend(s) on are applied."
        second = second.replace("depend(s)", "depends" if them == "it" else "depend")
    checks = [bookkeeping.presence_check(connection, own, plan.backwards, first)]
    if related:
        checks.append(
            bookkeeping.presence_check(connection, related, not plan.backwards, second)
        )
    return checks


def _outside(plan, relation, keys) -> list[MigrationRow]:
    """Return the parents (or children) of the plan's migrations outside it."""
    found = []
    for item in plan.items:
        for key in getattr(item, relation):
            if key not in keys and MigrationRow(*key) not in found:
                found.append(MigrationRow(*key))
    return found


def _verify(connection, plan) -> list[Check]:
    if not plan.items:
        return []
    checks = []
    if connection.vendor == "sqlite":
        checks.append(
            Check(
                title="Check that every foreign key still points at a row, as "
                "Django's SQLite schema editor does.",
                sql="PRAGMA foreign_key_check;",
                expect="no rows",
            )
        )
    rows = [row for item in plan.items for row in bookkeeping.rows(item.migration)]
    if len(plan.items) == 1:
        migration = plan.items[0].migration
        subject = f"{migration.app_label}.{migration.name} is"
    else:
        subject = f"the {len(plan.items)} migrations are"
    title = (
        f"Confirm that {subject} no longer recorded."
        if plan.backwards
        else f"Confirm that {subject} recorded as applied."
    )
    checks.append(
        bookkeeping.presence_check(connection, rows, not plan.backwards, title)
    )
    return checks


def _post(connection, plan, kind, collected) -> PostStep:
    if kind == "runbook":
        item = plan.items[0]
        migration = item.migration
        if plan.backwards:
            parents = [name for app, name in item.parents if app == migration.app_label]
            target = f"{migration.app_label} {parents[0] if parents else 'zero'}"
        else:
            target = f"{migration.app_label} {migration.name}"
    else:
        target = plan.command
    command = f"python manage.py migrate {target}".rstrip()
    if connection.alias != DEFAULT_DB_ALIAS:
        command += f" --database {connection.alias}"
    added: list[str] = []
    removed: list[str] = []
    permissions: list[str] = []
    if collected:
        added, removed, permissions = advice.post_migrate_models(
            collected[0].state_before, collected[-1].state_after
        )
    parts = [
        f"When convenient (usually with the next deploy), run '{command}'. It finds "
        "nothing to run, but sends post_migrate, whose handlers do what this "
        "runbook does not."
    ]
    if added:
        parts.append(
            "Content types and permissions appear then for: " + ", ".join(added) + "."
        )
    if removed:
        parts.append(
            "Content types and permissions of "
            + ", ".join(removed)
            + " stay behind; 'manage.py remove_stale_contenttypes' deletes them."
        )
    return PostStep(
        command=command,
        models_added=added,
        models_removed=removed,
        permissions_added=permissions,
        message=" ".join(parts),
    )


def _migrate_command(connection, app_label: str, target: str) -> str:
    command = f"python manage.py migrate {app_label} {target}"
    if connection.alias != DEFAULT_DB_ALIAS:
        command += f" --database {connection.alias}"
    return command


def _sha256(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return ""
