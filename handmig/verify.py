"""Verify queries: after each step, proof in the catalog that it happened.

Like sqitch's verify scripts, each query counts the objects a step creates
(expect 1) or removes (expect 0): tables, columns, indexes and constraints,
read from the statements' sqlparse token stream.
"""

from __future__ import annotations

import sqlparse

from handmig import statements
from handmig.model import Check

_SKIP = ("new__",)  # SQLite's rebuild copies are gone by the end of the step


def facts(sql_statements: list[str]) -> dict[tuple[str, str | None, str], object]:
    """Return (kind, table, name) -> expected, the net effect of the statements.

    Expected is True (exists) or False (gone); for a table SQLite rebuilds
    (create new__x, copy, drop x, rename) it is the new definition, which
    sqlite_master then holds under the old name.
    """
    found: dict[tuple[str, str | None, str], object] = {}
    rebuilt: dict[str, str] = {}
    for sql in sql_statements:
        for kind, table, name, exists in _effects(sql):
            if kind == "table" and name.startswith(_SKIP) and exists is True:
                rebuilt[name] = sql.rstrip().rstrip(";")
                continue
            if kind == "rebuilt":
                if table in rebuilt:
                    definition = rebuilt[table].replace(f'"{table}"', f'"{name}"', 1)
                    found.pop(("table", None, name), None)
                    found[("definition", None, name)] = definition
                continue
            if not name.startswith(_SKIP) and not (table or "").startswith(_SKIP):
                found[(kind, table, name)] = exists
    # A rebuild recreates the table's indexes too: they existed before it,
    # so only the definition proves the step.
    targets = {name for kind, _, name in found if kind == "definition"}
    return {
        key: value
        for key, value in found.items()
        if not (key[0] == "index" and key[1] in targets)
    }


def checks(connection, sql_statements: list[str]) -> list[Check]:
    """Return one verify query per object the statements create or remove."""
    result = []
    for (kind, table, name), expected in facts(sql_statements).items():
        if kind == "definition":
            result.append(
                Check(
                    title=f"table {name} is rebuilt with its new definition",
                    sql="SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                    f"AND name = {_literal(name)} AND sql = {_literal(str(expected))};",
                    expect="1",
                )
            )
            continue
        sql = _query(connection.vendor, kind, table, name)
        if sql is None:
            continue
        what = f"{kind} {table + '.' if table and kind != 'table' else ''}{name}"
        result.append(
            Check(
                title=f"{what} {'exists' if expected else 'is gone'}",
                sql=sql,
                expect="1" if expected else "0",
            )
        )
    return result


def _tokens(sql):
    parsed = statements.parse(sql)
    if not parsed:
        return []
    return [
        t
        for t in parsed[0].flatten()
        if not t.is_whitespace and t.ttype not in sqlparse.tokens.Comment
    ]


def _word(token) -> str:
    return token.normalized.upper() if token.is_keyword else ""


def _name(token) -> str:
    return token.value.strip('"`[]')


def _after(tokens, i, skip=("CONCURRENTLY", "IF EXISTS", "IF NOT EXISTS", "ONLY")):
    """Return the index of the first token from ``i`` that is not a modifier."""
    while i < len(tokens) and _word(tokens[i]) in skip:
        i += 1
    return i


# Enough tokens to reach the table of CREATE [UNIQUE] INDEX [CONCURRENTLY]
# [IF NOT EXISTS] name ON [ONLY] table, and the name of CREATE/DROP TABLE.
_HEAD = 16


def _effects(sql):
    verb = statements.verb(sql)
    if not verb.startswith(("CREATE", "DROP", "ALTER")):
        return []
    if verb.startswith("ALTER"):
        tokens = _tokens(sql)
    else:
        # Only the head names what is created or dropped: a long CREATE
        # TABLE need not be read to its end.
        tokens = statements.head(sql, _HEAD)
    words = [_word(t) for t in tokens]
    effects = []
    if words[:2] == ["CREATE", "TABLE"]:
        i = _after(tokens, 2)
        effects.append(("table", None, _name(tokens[i]), True))
    elif words[:2] == ["DROP", "TABLE"]:
        i = _after(tokens, 2)
        effects.append(("table", None, _name(tokens[i]), False))
    elif words[:1] == ["CREATE"] and "INDEX" in words[:3]:
        i = _after(tokens, words.index("INDEX") + 1)
        on = words.index("ON", i)
        effects.append(("index", _name(tokens[on + 1]), _name(tokens[i]), True))
    elif words[:2] == ["DROP", "INDEX"]:
        i = _after(tokens, 2)
        table = _name(tokens[words.index("ON") + 1]) if "ON" in words else None
        effects.append(("index", table, _name(tokens[i]), False))
    elif words[:2] == ["ALTER", "TABLE"]:
        i = _after(tokens, 2)
        table = _name(tokens[i])
        for j in range(i + 1, len(tokens) - 1):
            pair = (words[j], words[j + 1])
            at = _after(tokens, j + 2)
            target = tokens[at] if at < len(tokens) else None
            if pair == ("ADD", "COLUMN") and target is not None:
                effects.append(("column", table, _name(target), True))
            elif pair == ("DROP", "COLUMN") and target is not None:
                effects.append(("column", table, _name(target), False))
            elif pair == ("ADD", "CONSTRAINT") and target is not None:
                effects.append(("constraint", table, _name(target), True))
            elif pair in (
                ("DROP", "CONSTRAINT"),
                ("DROP", "CHECK"),
                ("DROP", "FOREIGN KEY"),
            ):
                if target is not None:
                    effects.append(("constraint", table, _name(target), False))
            elif pair == ("DROP", "INDEX") and target is not None:
                effects.append(("index", table, _name(target), False))
            elif pair == ("RENAME", "COLUMN") and j + 4 < len(tokens):
                effects.append(("column", table, _name(tokens[j + 2]), False))
                effects.append(("column", table, _name(tokens[j + 4]), True))
            elif pair == ("RENAME", "TO") and target is not None:
                effects.append(("table", None, table, False))
                effects.append(("table", None, _name(target), True))
                effects.append(("rebuilt", table, _name(target), True))
    return effects


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _query(vendor, kind, table, name) -> str | None:
    n, t = _literal(name), _literal(table or "")
    if vendor == "sqlite":
        master = "SELECT COUNT(*) FROM sqlite_master WHERE type ="
        return {
            "table": f"{master} 'table' AND name = {n};",
            "column": f"SELECT COUNT(*) FROM pragma_table_info({t}) WHERE name = {n};",
            "index": f"{master} 'index' AND name = {n};",
            # SQLite keeps named constraints only in the table's SQL.
            "constraint": f"{master} 'table' AND name = {t} "
            f"AND sql LIKE {_literal('%' + name + '%')};",
        }[kind]
    schema = "current_schema()" if vendor == "postgresql" else "DATABASE()"
    if vendor not in ("postgresql", "mysql"):
        return None
    if kind == "table":
        return (
            "SELECT COUNT(*) FROM information_schema.tables "
            f"WHERE table_schema = {schema} AND table_name = {n};"
        )
    if kind == "column":
        return (
            "SELECT COUNT(*) FROM information_schema.columns "
            f"WHERE table_schema = {schema} AND table_name = {t} AND column_name = {n};"
        )
    if kind == "index":
        if vendor == "postgresql":
            return (
                "SELECT COUNT(*) FROM pg_indexes "
                f"WHERE schemaname = current_schema() AND indexname = {n};"
            )
        return (
            "SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics "
            f"WHERE table_schema = DATABASE() AND index_name = {n}"
            + (f" AND table_name = {t};" if table else ";")
        )
    if vendor == "postgresql":
        return (
            "SELECT COUNT(*) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid "
            f"WHERE c.conname = {n} AND t.relname = {t};"
        )
    return (
        "SELECT COUNT(*) FROM information_schema.table_constraints "
        f"WHERE constraint_schema = DATABASE() AND table_name = {t} "
        f"AND constraint_name = {n};"
    )
