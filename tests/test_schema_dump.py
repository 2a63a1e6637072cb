"""The schema comparison the equivalence tests rely on can tell databases apart."""

import pytest
from django.db import connections

from tests.schema import dump_schema, run_script, selected_backends

BASE = {
    "sqlite": "CREATE TABLE t (id integer PRIMARY KEY, a varchar(10) NOT NULL);",
    "postgresql": "CREATE TABLE t (id serial PRIMARY KEY, a varchar(10) NOT NULL);",
    "mysql": "CREATE TABLE t (id integer AUTO_INCREMENT PRIMARY KEY, "
    "a varchar(10) NOT NULL);",
}
# One schema change per kind of difference the walk must notice.
CHANGES = {
    "column type": {
        "sqlite": "CREATE TABLE t (id integer PRIMARY KEY, a varchar(20) NOT NULL);",
        "postgresql": "ALTER TABLE t ALTER COLUMN a TYPE varchar(20);",
        "mysql": "ALTER TABLE t MODIFY a varchar(20) NOT NULL;",
    },
    "nullability": {
        "sqlite": "CREATE TABLE t (id integer PRIMARY KEY, a varchar(10) NULL);",
        "postgresql": "ALTER TABLE t ALTER COLUMN a DROP NOT NULL;",
        "mysql": "ALTER TABLE t MODIFY a varchar(10) NULL;",
    },
    "default": {
        "sqlite": "CREATE TABLE t (id integer PRIMARY KEY, "
        "a varchar(10) NOT NULL DEFAULT 'x');",
        "postgresql": "ALTER TABLE t ALTER COLUMN a SET DEFAULT 'x';",
        "mysql": "ALTER TABLE t ALTER COLUMN a SET DEFAULT 'x';",
    },
    "index": {vendor: "CREATE INDEX t_a ON t (a);" for vendor in BASE},
    "index name": {vendor: "CREATE INDEX t_a_other ON t (a);" for vendor in BASE},
    "unique constraint": {
        "sqlite": "CREATE UNIQUE INDEX t_a_uniq ON t (a);",
        "postgresql": "ALTER TABLE t ADD CONSTRAINT t_a_uniq UNIQUE (a);",
        "mysql": "ALTER TABLE t ADD CONSTRAINT t_a_uniq UNIQUE (a);",
    },
    "check constraint": {
        "sqlite": "CREATE TABLE t (id integer PRIMARY KEY, a varchar(10) NOT NULL "
        "CONSTRAINT t_a_check CHECK (a <> ''));",
        "postgresql": "ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a <> '');",
        "mysql": "ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a <> '');",
    },
    "extra table": {vendor: "CREATE TABLE u (id integer);" for vendor in BASE},
}


def _fresh(backend):
    from django.conf import settings

    from tests.schema import create_database

    settings_dict = connections[f"{backend}_scratch"].settings_dict
    connections[f"{backend}_scratch"].close()
    create_database(backend, settings.DATABASES[f"{backend}_scratch"]["NAME"])
    return settings_dict


def _dump_after(backend, *scripts):
    settings_dict = _fresh(backend)
    for script in scripts:
        run_script(backend, settings_dict, script)
    connection = connections[f"{backend}_scratch"]
    try:
        return dump_schema(connection)
    finally:
        connection.close()


def _apply(backend, change):
    # SQLite cannot alter a column: its "change" is the table built otherwise.
    if backend == "sqlite" and change.startswith("CREATE TABLE t "):
        return [change]
    return [BASE[backend], change]


@pytest.mark.parametrize("backend", selected_backends())
@pytest.mark.parametrize("kind", sorted(CHANGES))
def test_a_schema_difference_is_seen(backends, backend, kind):
    before = _dump_after(backend, BASE[backend])
    after = _dump_after(backend, *_apply(backend, CHANGES[kind][backend]))
    assert before != after


@pytest.mark.parametrize("backend", selected_backends())
def test_data_and_counters_are_not_schema(backends, backend):
    before = _dump_after(backend, BASE[backend])
    after = _dump_after(
        backend,
        BASE[backend],
        "INSERT INTO t (a) VALUES ('x'); INSERT INTO t (a) VALUES ('y');",
    )
    assert before == after
    assert before  # the dump is not empty
