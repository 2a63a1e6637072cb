"""Failures injected into the third-party project's whole-history script.

django-cms, django-filer and easy-thumbnails: squashed migrations, Python
steps (the script hands them to Django) and dependencies across apps. A
failure injected in the first part and one in the last part, and the whole
script piped at once, each leave django_migrations as migrate leaves it when
it stops at the same migration, and on SQLite and PostgreSQL the same schema.
Two injections per backend keep the cost down: each run of the last part
first runs every earlier part and hands over every Python step.
"""

import random
import re

import pytest
from django.conf import settings
from django.db import connections

from tests.projects import environment, require, run
from tests.schema import (
    create_database,
    dump_schema,
    migration_rows,
    run_client,
    run_part,
    script_parts,
    selected_backends,
)
from tests.test_failure_injection import FAILURE, _statement_starts

require(
    ("cms", "menus", "filer", "easy_thumbnails"),
    "HANDMIG_TEST_THIRD_PARTY",
    "thirdparty",
)

MARKER = re.compile(
    r"^-- Migration (\d+) of (\d+): (\S+)( \(runs with Django\))?$", re.M
)


def _env(backend, role):
    return environment(backend, role, "tests.thirdparty_settings")


def _fresh(backend, role, collation="utf8mb4_unicode_ci"):
    alias = f"{backend}_{role}"
    connections[alias].close()
    create_database(backend, settings.DATABASES[alias]["NAME"], collation=collation)
    return alias


def _migrate(backend, env_for):
    def handover(command):
        words = command.split()
        assert words[:3] == ["python", "manage.py", "migrate"], command
        run(["-m", "django", *words[2:], "--noinput", "-v0"], env_for(backend, "tp_a"))

    return handover


def _client(backend, alias, text):
    settings_dict = connections[alias].settings_dict
    connections[alias].close()
    return run_client(backend, settings_dict, text)


def _done(text, offset):
    """Return (migrations done, whether the failing one is transactional).

    The failing migration is the last whose marker comes before ``offset``;
    it is done when the failure comes after its last statement.
    """
    markers = [m for m in MARKER.finditer(text) if m.start() < offset]
    if not markers:
        following = MARKER.search(text, offset)
        number = int(following.group(1)) if following else None
        return (number - 1 if number else None), True
    marker = markers[-1]
    following = MARKER.search(text, marker.end())
    end = following.start() if following else len(text)
    body = text[marker.start() : end]
    done = int(marker.group(1)) - 1
    if marker.group(4):
        return done, True
    starts = [marker.start() + s for s in _statement_starts(body)]
    finished = offset > starts[-1]
    return done + (1 if finished else 0), "\nBEGIN;\n" in body


def _expected(backend, count, env_for, collation):
    alias = _fresh(backend, "tp_b", collation)
    run(["-m", "tests.migrate_prefix", str(count)], env_for(backend, "tp_b"))
    state = (migration_rows(connections[alias]), dump_schema(connections[alias]))
    connections[alias].close()
    return state


def inject_failures(backend, env_for, last_part=True, collation="utf8mb4_unicode_ci"):
    """Pipe a project's whole-history script, then fail it in its first part
    (and its last): each time, what migrate leaves when it stops there."""
    a = _fresh(backend, "tp_a", collation)
    flags = ["--shadow"] if backend != "sqlite" else []
    script = run(
        ["-m", "handmig", "plan", "--format", "sql", *flags], env_for(backend, "tp_a")
    )
    parts = script_parts(script)
    assert len(parts) > 2
    handover = _migrate(backend, env_for)
    rng = random.Random(len(selected_backends()))

    # Piped whole, it stops at the first part's end: nothing of the first
    # Python step or after it is recorded.
    result = _client(backend, a, script)
    assert result.returncode != 0 and "part 1 of this script ends here" in result.stderr
    first_python = next(
        int(m.group(1)) - 1 for m in MARKER.finditer(script) if m.group(4)
    )
    expected = _expected(backend, first_python, env_for, collation)
    assert migration_rows(connections[a]) == expected[0]
    connections[a].close()

    for part_index in (0, len(parts) - 1) if last_part else (0,):
        a = _fresh(backend, "tp_a", collation)
        for text, commands in parts[:part_index]:
            run_part(backend, connections[a].settings_dict, text, bool(commands))
            for command in commands:
                handover(command)
        text = parts[part_index][0]
        offset = rng.choice(_statement_starts(text)[1:])
        result = _client(backend, a, text[:offset] + FAILURE + text[offset:])
        assert result.returncode != 0, result.stderr
        assert "handmig_injected_failure" in result.stderr, result.stderr
        done, transactional = _done(text, offset)
        rows, schema = migration_rows(connections[a]), dump_schema(connections[a])
        connections[a].close()
        want_rows, want_schema = _expected(backend, done, env_for, collation)
        if done == 0 and "table:django_migrations" not in schema:
            # It failed before the script made django_migrations.
            want_schema = {}
        assert rows == want_rows, (part_index, done)
        if backend != "mysql" and transactional:
            assert schema == want_schema, (part_index, done)
        print(f"{backend}: part {part_index + 1}, stopped after migration {done}")


@pytest.mark.parametrize("backend", selected_backends())
def test_third_party_script_failing_in_its_first_and_last_parts(backends, backend):
    inject_failures(backend, _env)
