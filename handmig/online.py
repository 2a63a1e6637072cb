"""Online schema changes: ALTERs run through pt-online-schema-change or gh-ost.

On MySQL/MariaDB an ALTER that copies or rebuilds a big table blocks writes
(or replication) for as long as the copy takes. These tools copy the table
in the background and swap it in. handmig turns each ALTER TABLE they can
take into the tool's dry-run and execute commands, and says why the others
stay plain SQL.

Consecutive ALTER TABLE statements of one operation on one table become one
run of the tool (one copy instead of several), as long as no two of them
touch the same column: MySQL refuses a statement that changes a column
twice.
"""

from __future__ import annotations

import shlex

from handmig import classify, statements
from handmig.errors import ConfigurationError
from handmig.model import OnlineChange, Statement

TOOLS = {"pt-osc": "pt-online-schema-change", "gh-ost": "gh-ost"}


def apply(connection, sections, collected, tool: str) -> None:
    """Give each ALTER TABLE that ``tool`` can take its commands, in place."""
    if connection.vendor != "mysql":
        raise ConfigurationError(
            f"--{tool} is for MySQL/MariaDB; database '{connection.alias}' is "
            f"{connection.display_name}. Leave out --{tool}."
        )
    new_tables: set[str] = set()
    for section, result in zip(sections, collected, strict=True):
        for group, columns in classify.statement_groups(section, result):
            group[:] = _convert(connection, group, tool, columns, new_tables)
        section.statement_count = sum(
            len(step.statements) for step in section.operations
        ) + len(section.deferred)


def _convert(connection, items, tool, columns, new_tables) -> list[Statement]:
    converted: list[Statement] = []
    for run in _runs(items):
        first = run[0]
        table = classify.alter_clauses(first.sql)[0] if _is_alter(first) else None
        if table is None or table in new_tables:
            if first.verb.startswith("CREATE TABLE") and first.table:
                new_tables.add(first.table)
            converted.extend(run)
            continue
        reason = _refusal(run, table, tool, columns)
        if reason:
            for statement in run:
                statement.online_note = reason
            converted.extend(run)
            continue
        converted.append(_merge(connection, run, table, tool))
    return converted


def _runs(items: list[Statement]) -> list[list[Statement]]:
    """Group consecutive ALTERs on one table that touch different columns."""
    runs: list[list[Statement]] = []
    touched: set[str] = set()
    for statement in items:
        current = runs[-1] if runs else None
        table, clauses = (
            classify.alter_clauses(statement.sql)
            if _is_alter(statement)
            else (None, [])
        )
        names = {name for name in map(_column_of, clauses) if name}
        if (
            current is not None
            and table is not None
            and _is_alter(current[-1])
            and classify.alter_clauses(current[-1].sql)[0] == table
            and not names & touched
        ):
            current.append(statement)
            touched |= names
            continue
        runs.append([statement])
        touched = set(names)
    return runs


def _refusal(run, table, tool, columns) -> str:
    """Return why ``tool`` must not take this run, or ''."""
    name = TOOLS[tool]
    clauses = [c for s in run for c in classify.alter_clauses(s.sql)[1]]
    words = [classify.clause_words(clause) for clause in clauses]
    if all(classify.mysql_algorithm(s.sql, columns) == classify.INSTANT for s in run):
        return (
            f"ALGORITHM=INSTANT: only metadata changes, there is nothing for {name} "
            "to copy. Run it as SQL."
        )
    if any(w[:1] == ["RENAME"] or w[:1] == ["CHANGE"] for w in words):
        return (
            f"{name} cannot rename a table or column safely (it would copy the "
            "data into a new column and drop the old one). Run it as SQL."
        )
    info = columns.tables.get(table)
    keys = _foreign_keys(info) if info else "may have foreign keys"
    adds_key = any(
        "REFERENCES" in w or classify.has_sequence(w, "FOREIGN", "KEY") for w in words
    )
    if adds_key or info is None or info.references or info.referenced_by:
        keys = "gets a foreign key" if adds_key and not keys else keys
        if tool == "gh-ost":
            return (
                f"gh-ost does not support foreign keys, and {table} {keys}. "
                "Run it as SQL."
            )
        return (
            f"{table} {keys}: {name} would need --alter-foreign-keys-method "
            "(it rebuilds or drops the foreign keys of other tables) or would "
            "recreate the table's own foreign keys under new names. Run it as "
            "SQL, or plan that by hand."
        )
    if info.checks:
        return (
            f"{table} has CHECK constraints, which {name} recreates under new "
            "names (with a leading '_'): a later migration that removes one by "
            "name would fail. Run it as SQL."
        )
    if any("UNIQUE" in w or classify.has_sequence(w, "PRIMARY", "KEY") for w in words):
        return (
            f"{name} copies rows skipping duplicates: a new unique key would "
            "silently drop rows instead of failing. Run it as SQL (it builds "
            "the index in place)."
        )
    if not info.keyed:
        return (
            f"{table} has no primary or unique key, which {name} needs to copy "
            "it in chunks. Run it as SQL."
        )
    return ""


def _foreign_keys(info: classify.Table) -> str:
    parts = []
    if info.referenced_by:
        parts.append(
            "is referenced by foreign keys of " + ", ".join(sorted(info.referenced_by))
        )
    if info.references:
        parts.append("has foreign keys to " + ", ".join(sorted(info.references)))
    return " and ".join(parts)


def _merge(connection, run, table, tool) -> Statement:
    clauses = [c for s in run for c in classify.alter_clauses(s.sql)[1]]
    alter = ", ".join(clauses)
    sql = f"ALTER TABLE {connection.ops.quote_name(table)} {alter};"
    dry_run, execute = _commands(connection, table, alter, tool)
    merged = statements.make(sql)
    for field in ("kind", "table", "destructive", "lock"):
        setattr(merged, field, getattr(run[0], field))
    merged.destructive = any(s.destructive for s in run)
    # The tool is the safer way the table-copy rule asks for.
    merged.rules = list(
        dict.fromkeys(r for s in run for r in s.rules if r != "mysql-table-copy")
    )
    merged.flags = [
        f
        for f in {f.id: f for s in run for f in s.flags}.values()
        if f.id in merged.rules
    ]
    merged.backup = next((s.backup for s in run if s.backup), None)
    merged.origin = run[0].origin
    merged.origin_description = run[0].origin_description
    merged.online = OnlineChange(
        tool=TOOLS[tool],
        table=table,
        alter=alter,
        dry_run=dry_run,
        execute=execute,
        merged=len(run),
    )
    return merged


def _commands(connection, table, alter, tool) -> tuple[str, str]:
    settings = connection.settings_dict
    name = str(settings["NAME"])
    if tool == "pt-osc":
        dsn = ",".join(
            f"{key}={value}"
            for key, value in (
                ("h", settings.get("HOST")),
                ("P", settings.get("PORT")),
                ("u", settings.get("USER")),
                ("D", name),
                ("t", table),
            )
            if value
        )
        pt = ["pt-online-schema-change", "--alter", alter, "--charset", "utf8mb4"]
        if settings.get("PASSWORD"):
            pt.append("--ask-pass")
        return (
            shlex.join(pt + ["--dry-run", dsn]),
            shlex.join(pt + ["--execute", dsn]),
        )
    parts = ["gh-ost"]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--user", "USER")):
        if settings.get(key):
            parts.append(f"{option}={shlex.quote(str(settings[key]))}")
    if settings.get("PASSWORD"):
        parts.append("--ask-pass")
    parts += [
        f"--database={shlex.quote(name)}",
        f"--table={shlex.quote(table)}",
        f"--alter={shlex.quote(alter)}",
        # Run on the server it connects to; drop this when gh-ost reads the
        # binary log from a replica.
        "--allow-on-master",
        "--verbose",
    ]
    command = " ".join(parts)
    return command, command + " --execute"


def _is_alter(statement: Statement) -> bool:
    return statement.verb.startswith("ALTER TABLE")


def _column_of(clause: str) -> str | None:
    """Return the column a clause changes, if it names one."""
    tokens = classify.code_tokens(clause)
    words = [t.normalized.upper() for t in tokens]
    if not words or words[0] not in ("ADD", "MODIFY", "CHANGE", "ALTER", "DROP"):
        return None
    if words[0] in ("ADD", "DROP") and words[1:2] != ["COLUMN"]:
        if words[0] == "DROP" or words[1:2] in (
            ["CONSTRAINT"],
            ["INDEX"],
            ["KEY"],
            ["UNIQUE"],
            ["PRIMARY"],
            ["FOREIGN"],
            ["CHECK"],
        ):
            return None
    position = 2 if words[1:2] == ["COLUMN"] else 1
    if len(tokens) <= position:
        return None
    return tokens[position].value.strip('`"')
