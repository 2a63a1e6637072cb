"""Scripts that fail half way keep migrate's promises.

A failure is injected before one statement of a generated SQL script (the
first statement, right after BEGIN, right before a bookkeeping INSERT, right
before COMMIT, inside a non-atomic migration, and seeded random positions);
the script runs part by part with the README's client command, the steps it
hands over to Django done in between. Then: the client stopped;
django_migrations holds exactly the migrations completed before the failure;
on SQLite and PostgreSQL the schema is migrate's after the last completed
migration; no table holds other rows than migrate leaves there. And every
script run a second time changes nothing.
"""

import random
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from handmig import render
from handmig.runbook import build_plan, build_runbook
from tests.schema import (
    create_database,
    django_commands,
    dump_schema,
    hostile_home,
    migration_rows,
    run_client,
    run_part,
    run_parts,
    script_parts,
    selected_backends,
)

BACKENDS = selected_backends()
FAILURE = "SELECT * FROM handmig_injected_failure;\n"
# Rows that post_migrate writes (migrate's handlers), not the migrations.
POST_MIGRATE_TABLES = {"django_content_type", "auth_permission", "django_migrations"}
MARKER = re.compile(
    r"^-- Migration (\d+) of (\d+): (\S+)( \(runs with Django\))?$", re.M
)


def _fresh(alias):
    connections[alias].close()
    create_database(alias.split("_")[0], settings.DATABASES[alias]["NAME"])


def _state(alias):
    connection = connections[alias]
    with connection.cursor() as cursor:
        counts = {}
        for table in sorted(connection.introspection.table_names(cursor)):
            if table in POST_MIGRATE_TABLES:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    state = (migration_rows(connection), dump_schema(connection), counts)
    connection.close()
    return state


def _start(alias, targets):
    """Make ``alias`` afresh and migrate it to each of ``targets``."""
    _fresh(alias)
    for target in targets:
        call_command("migrate", *target, database=alias, verbosity=0)
    connections[alias].close()


def _expected_states(alias, runbook, start):
    """Return the state migrate leaves after each prefix of the plan."""
    _start(alias, start)
    # migrate makes django_migrations before anything else.
    MigrationRecorder(connections[alias]).ensure_schema()
    states = [_state(alias)]
    for m in runbook.migrations:
        # The section's own migrate command applies (or reverses) just it.
        args = m.migrate_command.split()[3:]
        call_command("migrate", *args[:2], database=alias, verbosity=0)
        states.append(_state(alias))
    return states


def _statement_starts(text):
    """Return the offsets of the lines where a statement of ``text`` begins."""
    starts, offset, ended, delimited = [], 0, True, False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("DELIMITER"):
            delimited = stripped != "DELIMITER ;"
        elif stripped and not stripped.startswith(("--", ".", "\\")):
            if ended and not delimited:
                starts.append(offset)
            ended = stripped.endswith(";")
        offset += len(line)
    return starts


def _sections(text, runbook):
    """Yield (index, start, end) of each migration's lines within ``text``."""
    found = list(MARKER.finditer(text))
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        yield int(match.group(1)) - 1, match.start(), end


def _completed(runbook, part_index, parts, offset):
    """Return how many migrations are done when a failure stops at ``offset``.

    Sections before the failing one are done (those of earlier parts, and the
    ones handed to Django before this part); the failing one is done only if
    the failure comes after the last statement of its bookkeeping (and its
    COMMIT).
    """
    text = parts[part_index][0]
    done = _done_before_part(runbook, part_index)
    for index, start, end in _sections(text, runbook):
        section = runbook.migrations[index]
        if start > offset:
            break
        if section.with_django:
            continue
        last = (
            section.commit.sql if section.commit else section.record.statements[-1].sql
        )
        finished = text.rfind(last, start, end)
        done = index + 1 if offset > finished else index
        if offset <= finished:
            break
    return done


def _done_before_part(runbook, part_index):
    """Return how many migrations are done when part ``part_index`` starts."""
    if part_index == 0:
        return 0
    for index, section in enumerate(runbook.migrations):
        if section.handoff and section.handoff.part == part_index + 1:
            return index + 1
    raise AssertionError(f"no hand-over before part {part_index + 1}")


def _positions(runbook, parts, seed, randoms):
    """Return (part index, offset, why) of the injections to try."""
    chosen = []
    all_starts = [
        (p, o) for p, (text, _) in enumerate(parts) for o in _statement_starts(text)
    ]
    first = all_starts[0]
    chosen.append((*first, "first statement"))
    text0 = None
    for p, (text, _) in enumerate(parts):
        for needle, why in (
            ("\nBEGIN;\n", "right after BEGIN"),
            ('\nINSERT INTO "django_migrations"', "before a bookkeeping INSERT"),
            ("\nINSERT INTO `django_migrations`", "before a bookkeeping INSERT"),
            ("\nCOMMIT;\n", "right before COMMIT"),
        ):
            at = text.find(needle, len(text) // 3)
            if at < 0:
                continue
            offset = at + 1 + (len("BEGIN;\n") if why == "right after BEGIN" else 0)
            if not any(c[2] == why for c in chosen):
                chosen.append((p, offset, why))
        at = text.find("shop.0011_book_isbn")
        if at >= 0 and text0 is None:
            text0 = text
            inside = [o for o in _statement_starts(text) if o > at]
            # The second statement of the non-atomic migration: its first has
            # committed already.
            if len(inside) > 3:
                chosen.append((p, inside[3], "inside a non-atomic migration"))
    # Random positions make up for BEGIN and COMMIT where there are none.
    rng = random.Random(seed)
    for p, o in rng.sample(all_starts, max(0, 8 - len(chosen)) + randoms):
        chosen.append((p, o, "random position"))
    return chosen


def _run_until_failure(backend, alias, parts, part_index, offset):
    """Run parts in order, the failure injected in part ``part_index``."""
    on_command = django_commands(alias)
    settings_dict = connections[alias].settings_dict
    for index, (text, commands) in enumerate(parts):
        if index < part_index:
            connections[alias].close()
            run_part(backend, settings_dict, text, bool(commands))
            for command in commands:
                on_command(command)
            continue
        injected = text[:offset] + FAILURE + text[offset:]
        return _client(backend, settings_dict, injected)
    raise AssertionError("no part to fail in")


def _client(backend, settings_dict, text):
    connections_close()
    # Option files that tell every client to go on past errors.
    home = Path(tempfile.mkdtemp(prefix="handmig-home-"))
    try:
        return run_client(backend, settings_dict, text, env=hostile_home(home))
    finally:
        shutil.rmtree(home)


def connections_close():
    for connection in connections.all():
        connection.close()


def _resume(backend, alias, args, finished):
    """Generate the plan again after a failure: it does exactly the rest."""
    runbook = build_plan(*args, database_alias=alias, shadow=_shadow(backend))
    connections[alias].close()
    text = render(runbook, format="sql")
    run_parts(backend, connections[alias].settings_dict, text, django_commands(alias))
    rows, schema, _ = _state(alias)
    assert (rows, schema) == finished[:2]


def _shadow(backend):
    return "always" if backend != "sqlite" else "auto"


# (name, what both databases are migrated to first, the plan, random positions)
SCENARIOS = [
    ("whole history", [], (), 3),
    # Backwards through Python reverse code (shop.0010) and non-atomic 0011.
    ("back to shop 0004", [("shop",), ("inventory",)], ("shop", "0004"), 1),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "name,start,args,randoms", SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
def test_a_failure_anywhere_leaves_what_migrate_leaves(
    backends, backend, name, start, args, randoms
):
    a, b = f"{backend}_a", f"{backend}_b"
    _start(a, start)
    runbook = build_plan(
        *args, database_alias=a, shadow="always" if backend != "sqlite" else "auto"
    )
    connections[a].close()
    script = render(runbook, format="sql")
    parts = script_parts(script)
    assert len(parts) == runbook.parts > 1
    expected = _expected_states(b, runbook, start)
    tried = 0
    positions = _positions(runbook, parts, len(BACKENDS), randoms)
    for part_index, offset, why in positions:
        _start(a, start)
        result = _run_until_failure(backend, a, parts, part_index, offset)
        assert result.returncode != 0, why
        assert "handmig_injected_failure" in result.stderr, (why, result.stderr)
        done = _completed(runbook, part_index, parts, offset)
        rows, schema, counts = _state(a)
        want_rows, want_schema, want_counts = expected[done]
        assert rows == want_rows, (why, done)
        failing = runbook.migrations[done] if done < len(runbook.migrations) else None
        if done == 0 and "table:django_migrations" not in str(schema.keys()):
            # It failed before the script made django_migrations.
            want_schema, want_counts = {}, {}
        if backend != "mysql" and (failing is None or failing.transactional):
            assert schema == want_schema, (why, done)
            assert counts == want_counts, (why, done)
            if tried < 3:
                _resume(backend, a, args, expected[-1])
        tried += 1
    assert tried >= 6 + randoms
    print(
        f"{backend}, {name}: {tried} failures injected, each left what migrate leaves"
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "name,start,args,randoms", SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
def test_every_part_run_twice_changes_nothing(
    backends, backend, name, start, args, randoms
):
    a = f"{backend}_a"
    _start(a, start)
    runbook = build_plan(*args, database_alias=a, shadow=_shadow(backend))
    connections[a].close()
    parts = script_parts(render(runbook, format="sql"))
    on_command = django_commands(a)
    settings_dict = connections[a].settings_dict
    for text, commands in parts:
        connections[a].close()
        run_part(backend, settings_dict, text, bool(commands))
        for command in commands:
            on_command(command)
    before = _state(a)
    for text, _ in parts:
        result = _client(backend, settings_dict, text)
        assert result.returncode != 0
        assert "handmig guard" in result.stderr, result.stderr
        assert _state(a) == before


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_whole_script_piped_stops_before_python_and_records_none_of_it(
    backends, backend
):
    a = f"{backend}_a"
    _fresh(a)
    runbook = build_plan(
        database_alias=a, shadow="always" if backend != "sqlite" else "auto"
    )
    connections[a].close()
    result = _client(
        backend, connections[a].settings_dict, render(runbook, format="sql")
    )
    first = next(i for i, m in enumerate(runbook.migrations) if m.with_django)
    assert result.returncode != 0
    assert "handmig guard: part 1 of this script ends here" in result.stderr
    recorded = set(migration_rows(connections[a]))
    connections[a].close()
    wanted = {
        (row.app, row.name) for m in runbook.migrations[:first] for row in m.record.rows
    }
    assert recorded == wanted


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_check_that_existing_rows_break_stops_and_keeps_them(backends, backend):
    """The new CHECK of shop.0014 rejects a row: migrate raises and keeps it."""
    a, b = f"{backend}_a", f"{backend}_b"
    for alias in (a, b):
        _fresh(alias)
        call_command("migrate", "shop", "0013", database=alias, verbosity=0)
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "INSERT INTO shop_promotion (code, percent) VALUES ('ok', 10), ('bad', -5)"
            )
        connections[alias].close()
    runbook = build_runbook("shop", "0014", database_alias=a)
    connections[a].close()
    result = _client(
        backend, connections[a].settings_dict, render(runbook, format="sql")
    )
    assert result.returncode != 0
    with pytest.raises(Exception):  # noqa: B017 - the vendor's IntegrityError
        call_command("migrate", "shop", "0014", database=b, verbosity=0)
    assert ("shop", "0014_promotion_percent_starts") not in migration_rows(
        connections[a]
    )
    with connections[a].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM shop_promotion")
        assert cursor.fetchone()[0] == 2
    assert _state(a)[0] == _state(b)[0]
    if backend != "mysql":
        assert _state(a) == _state(b)
