"""Safety rules for single statements: what locks, what rewrites, what destroys.

Each rule has a stable id (for ``--ignore``), a one-line reason and a safer
alternative. Statements are read through sqlparse's keyword stream, not by
searching raw text, so names and string literals never trigger a rule.
A statement on a table that the same runbook creates is not flagged for
locks: nobody waits on a table that did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlparse import tokens as T

from handmig import classify, statements


@dataclass(frozen=True)
class Rule:
    id: str
    vendors: tuple[str, ...]  # empty: every vendor
    level: str
    reason: str
    safer: str


RULES = {
    rule.id: rule
    for rule in (
        Rule(
            "pg-create-index-lock",
            ("postgresql",),
            "warning",
            "CREATE INDEX without CONCURRENTLY blocks writes to the table while "
            "the index builds.",
            "Use AddIndexConcurrently (django.contrib.postgres.operations) in a "
            "migration with atomic = False.",
        ),
        Rule(
            "pg-drop-index-lock",
            ("postgresql",),
            "warning",
            "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on "
            "the table.",
            "Use RemoveIndexConcurrently in a migration with atomic = False.",
        ),
        Rule(
            "pg-add-foreign-key-validate",
            ("postgresql",),
            "warning",
            "Adding a FOREIGN KEY without NOT VALID checks every row while "
            "holding a lock that blocks writes to both tables.",
            "Add it NOT VALID, then VALIDATE CONSTRAINT in a separate step.",
        ),
        Rule(
            "pg-add-check-validate",
            ("postgresql",),
            "warning",
            "Adding a CHECK constraint without NOT VALID scans the table under "
            "an ACCESS EXCLUSIVE lock.",
            "Add it NOT VALID, then VALIDATE CONSTRAINT in a separate step.",
        ),
        Rule(
            "pg-unique-constraint-lock",
            ("postgresql",),
            "warning",
            "ADD CONSTRAINT ... UNIQUE builds its index under an ACCESS "
            "EXCLUSIVE lock.",
            "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... "
            "UNIQUE USING INDEX.",
        ),
        Rule(
            "pg-alter-column-type",
            ("postgresql",),
            "warning",
            "ALTER COLUMN ... TYPE may rewrite the table and its indexes under "
            "an ACCESS EXCLUSIVE lock (widening a varchar does not).",
            "Add a new column, backfill it in batches, and switch over.",
        ),
        Rule(
            "pg-set-not-null",
            ("postgresql",),
            "warning",
            "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock.",
            "Add a CHECK (col IS NOT NULL) NOT VALID, validate it, then SET NOT "
            "NULL (PostgreSQL 12+ uses the validated check).",
        ),
        Rule(
            "pg-volatile-default",
            ("postgresql",),
            "warning",
            "ADD COLUMN with a volatile default rewrites the whole table.",
            "Add the column without a default, then backfill in batches.",
        ),
        Rule(
            "mysql-table-copy",
            ("mysql",),
            "warning",
            "MySQL/MariaDB cannot do this ALTER in place: they copy the "
            "table (ALGORITHM=COPY) and block writes meanwhile.",
            "Run it with pt-online-schema-change or gh-ost.",
        ),
        Rule(
            "rename-in-use",
            (),
            "warning",
            "Renaming a table or column breaks the code that is running now "
            "until the new code is deployed.",
            "Add the new name, deploy code that uses it, then remove the old one.",
        ),
        Rule(
            "drop-table",
            (),
            "danger",
            "DROP TABLE destroys the table and its data.",
            "Back it up first (see the backup command).",
        ),
        Rule(
            "drop-column",
            (),
            "danger",
            "DROP COLUMN destroys the column's data.",
            "Back it up first (see the backup command), and deploy code that "
            "no longer reads it before dropping it.",
        ),
    )
}

# Functions PostgreSQL calls once per row (VOLATILE); now() and
# statement_timestamp() are STABLE: evaluated once, no rewrite.
_VOLATILE = {
    "CLOCK_TIMESTAMP",
    "RANDOM",
    "GEN_RANDOM_UUID",
    "UUID_GENERATE_V4",
    "TIMEOFDAY",
    "NEXTVAL",
}


# A word each rule that reads words needs somewhere in the statement, per
# vendor: drop-* DROP, rename-in-use RENAME; on PostgreSQL the index rules
# INDEX, the ADD COLUMN / ADD CONSTRAINT ones ADD, the column type ALTER,
# SET NOT NULL SET.
_TRIGGERS = {
    "": ("DROP", "RENAME"),
    "postgresql": ("DROP", "RENAME", "INDEX", "ADD", "ALTER", "SET"),
}


def check(
    sql: str, vendor: str, new_tables: set[str], algorithm: str | None = None
) -> list[str]:
    """Return the ids of the rules ``sql`` breaks on ``vendor``.

    ``algorithm`` is what MySQL/MariaDB would use for it (handmig.classify).
    """
    table = _table(sql)
    if statements.verb(sql).startswith(statements.DATA_VERBS):
        return []  # every rule is about a change of schema
    if not _mentions(sql, *_TRIGGERS.get(vendor, _TRIGGERS[""])):
        # No rule that reads words can fire: reading every word of a long
        # statement costs more than all the rest.
        copies = vendor == "mysql" and algorithm == "COPY" and table not in new_tables
        return ["mysql-table-copy"] if copies else []
    words = classify.keywords(sql)
    found = []
    if words[:2] == ["DROP", "TABLE"]:
        if table not in new_tables:
            found.append("drop-table")
        return found
    fresh = table in new_tables
    if classify.has_sequence(words, "DROP", "COLUMN") and not fresh:
        found.append("drop-column")
    if (
        classify.has_sequence(words, "RENAME", "COLUMN")
        or classify.has_sequence(words, "RENAME", "TO")
    ) and not fresh:
        found.append("rename-in-use")
    if fresh:
        return found
    if vendor == "postgresql":
        if words[:2] == ["CREATE", "INDEX"] or words[:3] == [
            "CREATE",
            "UNIQUE",
            "INDEX",
        ]:
            if "CONCURRENTLY" not in words:
                found.append("pg-create-index-lock")
        if words[:2] == ["DROP", "INDEX"] and "CONCURRENTLY" not in words:
            found.append("pg-drop-index-lock")
        validated = "NOT VALID" not in " ".join(words)
        if (
            validated
            and classify.has_sequence(words, "ADD", "COLUMN")
            and "REFERENCES" in words
        ):
            # A new column's inline foreign key is checked like any other.
            found.append("pg-add-foreign-key-validate")
        if classify.has_sequence(words, "ADD", "CONSTRAINT") and validated:
            if classify.has_sequence(words, "FOREIGN", "KEY"):
                found.append("pg-add-foreign-key-validate")
            if "CHECK" in words:
                found.append("pg-add-check-validate")
            if "UNIQUE" in words and "USING" not in words:
                found.append("pg-unique-constraint-lock")
        if classify.has_sequence(words, "ALTER", "COLUMN", "TYPE"):
            found.append("pg-alter-column-type")
        if classify.has_sequence(words, "SET", "NOT NULL"):
            found.append("pg-set-not-null")
        if (
            classify.has_sequence(words, "ADD", "COLUMN")
            and "DEFAULT" in words
            and _names(sql) & _VOLATILE
        ):
            found.append("pg-volatile-default")
    if vendor == "mysql" and algorithm == "COPY":
        found.append("mysql-table-copy")
    return found


def target_table(sql: str) -> str | None:
    """Return the table a statement works on, if it names one."""
    return _table(sql)


def dropped_column(sql: str) -> str | None:
    """Return the column a DROP COLUMN statement drops."""
    parsed = statements.parse(sql)
    if not parsed:
        return None
    tokens = [t for t in parsed[0].flatten() if not t.is_whitespace]
    for i in range(len(tokens) - 2):
        if [tokens[i].normalized.upper(), tokens[i + 1].normalized.upper()] == [
            "DROP",
            "COLUMN",
        ]:
            return tokens[i + 2].value.strip('"`[]')
    return None


def backup_command(connection, table: str, column: str | None, pk: str | None) -> str:
    """Return the shell command that saves what a DROP destroys."""
    settings = connection.settings_dict
    name = str(settings.get("NAME"))
    what = f"{table}.{column}" if column else table
    select = f"SELECT {pk + ', ' if pk else ''}{column} FROM {table}" if column else ""
    if connection.vendor == "postgresql":
        where = " ".join(
            f"{flag} {settings[key]}"
            for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER"))
            if settings.get(key)
        )
        if column:
            return (
                f"psql {where} -d {name} -c "
                f"\"\\copy ({select}) TO '{what}.csv' WITH CSV HEADER\""
            )
        return f"pg_dump {where} -d {name} -t '{table}' -f {table}.sql"
    if connection.vendor == "mysql":
        where = " ".join(
            f"{flag} {settings[key]}"
            for flag, key in (("-h", "HOST"), ("-P", "PORT"), ("-u", "USER"))
            if settings.get(key)
        )
        if column:
            return f"mariadb {where} {name} -e '{select}' > {what}.tsv"
        return f"mysqldump {where} {name} {table} > {table}.sql"
    if column:
        return f"sqlite3 -header -csv {name} '{select}' > {what}.csv"
    return f"sqlite3 {name} '.dump {table}' > {table}.sql"


def flag(rule_id: str):
    """Return the Flag that explains ``rule_id``."""
    from handmig.model import Flag

    rule = RULES[rule_id]
    return Flag(rule.id, rule.level, f"{rule.reason} Safer: {rule.safer}")


def _names(sql: str) -> set[str]:
    parsed = statements.parse(sql)
    if not parsed:
        return set()
    return {
        t.value.upper()
        for t in parsed[0].flatten()
        if t.ttype in T.Name or t.ttype in T.Keyword
    }


def _mentions(sql: str, *words: str) -> bool:
    """Whether any of ``words`` appears anywhere in ``sql`` (a cheap first test)."""
    upper = sql.upper()
    return any(word in upper for word in words)


def _table(sql: str) -> str | None:
    found = statements.tables(sql)
    return next(iter(sorted(found)), None) if found else None
