"""What a statement does: its kind, table, whether it destroys data, the lock
it takes on the vendor, and the algorithm MySQL/MariaDB pick for an ALTER.

Statements are read through sqlparse's token stream. Whether an ALTER on
MySQL/MariaDB copies the table depends on what the column was before, so
the column definitions of the migration's starting state are consulted
(``Columns``); where they are not known the answer is the costly one.
The algorithms are those MariaDB 10.11 picks (and MySQL 8.0.29+ mostly
agrees); the test suite checks every claim on a real server with
``ALGORITHM=``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from sqlparse import tokens as T

from handmig import statements

INSTANT, INPLACE, COPY = "INSTANT", "INPLACE", "COPY"
_COST = {INSTANT: 0, INPLACE: 1, COPY: 2}


@dataclass(frozen=True)
class Column:
    type: str  # the column type as Django writes it, lower case
    null: bool
    indexed: bool


@dataclass
class Table:
    """What decides how an ALTER on a table runs: its columns and keys."""

    columns: dict[str, Column]
    keyed: bool  # has a primary or unique key
    references: set[str]  # tables its foreign key constraints point at
    referenced_by: set[str]  # tables whose foreign key constraints point at it
    checks: bool = False  # has CHECK constraints


def read_table(model, connection) -> Table:
    """Return the Table of a rendered model, as the schema editor sees it."""
    meta = model._meta
    indexed = _indexed_columns(meta)
    columns = {}
    for field in meta.local_concrete_fields:
        db_type = field.db_type(connection)
        if db_type is not None:
            columns[field.column] = Column(
                db_type.lower(), field.null, field.column in indexed
            )
    references = {
        field.remote_field.model._meta.db_table
        for field in meta.local_concrete_fields
        if field.remote_field is not None and getattr(field, "db_constraint", False)
    }
    referenced_by = {
        rel.related_model._meta.db_table
        for rel in meta.related_objects
        if rel.field.concrete
        and getattr(rel.field, "db_constraint", False)
        and not rel.many_to_many
    }
    keyed = meta.pk is not None or any(f.unique for f in meta.local_concrete_fields)
    checks = any(
        field.db_check(connection) for field in meta.local_concrete_fields
    ) or any(type(c).__name__ == "CheckConstraint" for c in meta.constraints)
    return Table(columns, keyed, references, referenced_by, checks)


def _indexed_columns(meta) -> set[str]:
    columns = set()
    for field in meta.local_concrete_fields:
        if field.primary_key or field.unique or field.db_index:
            columns.add(field.column)
    groups = [list(index.fields) for index in meta.indexes]
    groups += [list(names) for names in meta.unique_together]
    groups += [list(getattr(c, "fields", ()) or ()) for c in meta.constraints]
    for names in groups:
        for name in names:
            try:
                columns.add(meta.get_field(name.lstrip("-")).column)
            except Exception:  # noqa: BLE001 - a name Django itself would reject
                continue
    return columns


class Columns:
    """The tables a migration's operations work on, as they were before each."""

    def __init__(self, tables: dict[str, Table] | None = None):
        self.tables = tables or {}

    def get(self, table: str, column: str) -> Column | None:
        found = self.tables.get(table)
        return found.columns.get(column) if found else None


def statement_groups(section, result):
    """Yield each statement list of a migration section (every operation's,
    then the deferred SQL) with its tables as they were before it ran."""
    every: dict[str, Table] = {}
    for step, operation in zip(section.operations, result.operations, strict=True):
        yield step.statements, Columns(operation.tables)
        for table, info in operation.tables.items():
            every.setdefault(table, info)
    yield section.deferred, Columns(every)


def kind(sql: str) -> str:
    """Return what the statement does: create, alter, drop, index, constraint,
    data, transaction, session or other."""
    verb = statements.verb(sql)
    if verb in ("BEGIN", "COMMIT", "ROLLBACK", "START"):
        return "transaction"
    if verb.startswith(("SET", "PRAGMA")):
        return "session"
    if verb.startswith(("INSERT", "UPDATE", "DELETE", "TRUNCATE", "SELECT")):
        return "data"
    if "INDEX" in verb:
        return "index"
    if verb.startswith("CREATE"):
        return "create"
    if verb.startswith("DROP"):
        return "drop"
    if verb.startswith("ALTER TABLE"):
        clauses = alter_clauses(sql)[1]
        words = [clause_words(clause)[:3] for clause in clauses]
        if words and all(_is_index(w) for w in words):
            return "index"
        if words and all(_is_constraint(w) for w in words):
            return "constraint"
        return "alter"
    if verb.startswith(("ALTER", "RENAME")):
        return "alter"
    return "other"


def destructive(sql: str, columns: Columns | None = None) -> bool:
    """Return whether the statement destroys data: drops a table or column,
    deletes rows, or narrows a column's type."""
    verb = statements.verb(sql)
    if verb.startswith(("DROP TABLE", "DELETE", "TRUNCATE")):
        return True
    if not verb.startswith("ALTER TABLE"):
        return False
    table, clauses = alter_clauses(sql)
    for clause in clauses:
        words = clause_words(clause)
        if words[:2] == ["DROP", "COLUMN"]:
            return True
        if table and columns is not None:
            change = _column_change(table, clause, columns)
            if change and change[0] is not None and _narrows(change[0].type, change[1]):
                return True
    return False


def lock(sql: str, vendor: str, columns: Columns | None = None) -> str:
    """Return the lock the statement takes on ``vendor``, in a few words."""
    verb = statements.verb(sql)
    kind_ = kind(sql)
    if kind_ in ("transaction", "session", "other"):
        return ""
    if vendor == "sqlite":
        return (
            ""
            if kind_ == "data" and verb.startswith("SELECT")
            else ("the database's write lock (SQLite has one for all tables)")
        )
    if vendor == "postgresql":
        return _postgresql_lock(sql, verb, kind_)
    if vendor == "mysql":
        if kind_ == "data":
            return "row locks on the rows it changes"
        algorithm = mysql_algorithm(sql, columns)
        if algorithm is None:
            return "metadata lock; writes wait until it is done"
        return MYSQL_LOCKS[algorithm]
    return ""


MYSQL_LOCKS = {
    INSTANT: "ALGORITHM=INSTANT: changes metadata only, under a brief metadata lock",
    INPLACE: "ALGORITHM=INPLACE: reads and writes go on while it works (LOCK=NONE); "
    "brief metadata locks at the start and the end",
    COPY: "ALGORITHM=COPY: copies the whole table; writes wait until it is done",
}


def _postgresql_lock(sql: str, verb: str, kind_: str) -> str:
    if kind_ == "data":
        return "" if verb.startswith("SELECT") else "ROW EXCLUSIVE (rows it changes)"
    words = keywords(sql)
    if "INDEX" in verb and verb.startswith(("CREATE", "DROP")):
        if "CONCURRENTLY" in words:
            return "SHARE UPDATE EXCLUSIVE: reads and writes go on"
        if verb.startswith("CREATE"):
            return "SHARE: reads go on, writes wait while the index builds"
        return "ACCESS EXCLUSIVE: reads and writes wait"
    if verb.startswith("ALTER TABLE"):
        if "VALIDATE" in words:
            return "SHARE UPDATE EXCLUSIVE: reads and writes go on"
        if has_sequence(words, "FOREIGN", "KEY") and all(
            clause_words(clause)[:1] == ["ADD"] for clause in alter_clauses(sql)[1]
        ):
            return (
                "SHARE ROW EXCLUSIVE on the table and the one it references: "
                "writes to both wait"
            )
    return "ACCESS EXCLUSIVE: reads and writes wait"


def mysql_algorithm(sql: str, columns: Columns | None = None) -> str | None:
    """Return the cheapest ALTER algorithm MySQL/MariaDB can use, or None when
    the statement is not an ALTER TABLE or an index statement."""
    verb = statements.verb(sql)
    if "INDEX" in verb and verb.startswith(("CREATE", "DROP")):
        return INPLACE
    if not verb.startswith("ALTER TABLE"):
        return None
    table, clauses = alter_clauses(sql)
    if not clauses:
        return COPY
    algorithms = [_clause_algorithm(table, clause, columns) for clause in clauses]
    return max(algorithms, key=_COST.__getitem__)


def _clause_algorithm(table: str | None, clause: str, columns) -> str:
    words = clause_words(clause)
    head = words[:3]
    if not head:
        return COPY
    if head[0] == "ADD":
        if "REFERENCES" in words or has_sequence(words, "FOREIGN", "KEY"):
            return COPY  # foreign_key_checks is on: the table is copied
        if _is_constraint(head) and "CHECK" in words:
            return COPY  # every row is checked while the table is copied
        if (
            "UNIQUE" in words
            or has_sequence(words, "PRIMARY", "KEY")
            or _is_index(head)
        ):
            return INPLACE  # an index is built; writes go on
        return INSTANT  # a plain column
    if head[0] == "RENAME":
        return INSTANT
    if head[0] == "ALTER" and ("DEFAULT" in words):
        return INSTANT
    if head[0] == "DROP":
        if head[1:2] == ["COLUMN"]:
            name = _identifier(clause, 2)
            column = columns.get(table, name) if columns and table and name else None
            # Dropping an indexed column rebuilds the table; any other is instant.
            return INSTANT if column is not None and not column.indexed else INPLACE
        if head[1:2] in (["CONSTRAINT"], ["CHECK"]):
            return INSTANT
        if has_sequence(head, "PRIMARY", "KEY"):
            return COPY
        return INPLACE  # an index or a foreign key: metadata, no copy
    if head[0] in ("MODIFY", "CHANGE"):
        if table is None or columns is None:
            return COPY
        change = _column_change(table, clause, columns)
        if change is None or change[0] is None:
            return COPY
        old, new_type, new_null = change
        if new_type == old.type:
            return INSTANT if new_null == old.null else INPLACE
        if new_null == old.null and _widens_varchar(old.type, new_type):
            return INSTANT
        return COPY
    return COPY


def _column_change(table: str, clause: str, columns: Columns):
    """Return (old column or None, new type, new null) for MODIFY/CHANGE."""
    words = clause_words(clause)
    if not words or words[0] not in ("MODIFY", "CHANGE", "ALTER"):
        return None
    tokens = code_tokens(clause)
    position = 1
    if len(tokens) > position and tokens[position].normalized.upper() == "COLUMN":
        position += 1
    if words[0] == "ALTER":
        # PostgreSQL: ALTER COLUMN "x" TYPE varchar(10) USING ...
        if "TYPE" not in words:
            return None
        name = _unquote(tokens[position].value) if len(tokens) > position else None
        found = re.search(r"\bTYPE\b", clause, re.I)
        text = clause[found.end() :] if found else ""
        new_type = re.split(r"\bUSING\b", text, flags=re.I)[0].strip().lower()
        old = columns.get(table, name) if name else None
        return old, new_type, old.null if old else True
    if words[0] == "CHANGE":
        position += 1  # the old name; the new one follows
    if len(tokens) <= position:
        return None
    name = _unquote(tokens[position].value)
    definition = clause.split(tokens[position].value, 1)[1]
    new_type = re.split(
        r"\s+(?:NOT\s+NULL|NULL|DEFAULT|CHECK|AUTO_INCREMENT|PRIMARY|UNIQUE|"
        r"REFERENCES|COLLATE|COMMENT)\b",
        definition.strip(),
        maxsplit=1,
        flags=re.I,
    )[0].lower()
    new_null = not re.search(r"\bNOT\s+NULL\b", definition, re.I)
    return columns.get(table, name), new_type.strip(), new_null


_VARCHAR = re.compile(r"^varchar\((\d+)\)$")
_INT_SIZES = ["tinyint", "smallint", "integer", "int", "bigint"]


def _widens_varchar(old: str, new: str) -> bool:
    before, after = _VARCHAR.match(old), _VARCHAR.match(new)
    if not (before and after):
        return False
    # utf8mb4 takes up to 4 bytes a character. InnoDB stores lengths under
    # 128 bytes in one byte whatever the maximum, so those grow freely; a
    # column of 128 to 255 bytes has a one-byte length that cannot grow
    # past 255 without a copy.
    a, b = int(before.group(1)) * 4, int(after.group(1)) * 4
    return b >= a and (a < 128 or a > 255 or b <= 255)


def _narrows(old: str, new: str) -> bool:
    sized = re.compile(r"^(?:var)?char(?:acter varying)?\((\d+)\)$")
    before, after = sized.match(old), sized.match(new)
    if before and after:
        return int(after.group(1)) < int(before.group(1))
    base = [t.split()[0] for t in (old, new)]
    if all(b in _INT_SIZES for b in base):
        rank = {"tinyint": 0, "smallint": 1, "integer": 2, "int": 2, "bigint": 3}
        return rank[base[1]] < rank[base[0]]
    return False


def alter_clauses(sql: str) -> tuple[str | None, list[str]]:
    """Return the table of an ALTER TABLE statement and its clauses, split at
    the commas between them (not those inside parentheses)."""
    parsed = statements.parse(sql)
    if not parsed:
        return None, []
    tokens = list(parsed[0].flatten())
    code = [t for t in tokens if not t.is_whitespace and t.ttype not in T.Comment]
    # ALTER TABLE [IF EXISTS] [ONLY] name
    index = 2
    while index < len(code) and code[index].normalized.upper() in (
        "IF",
        "EXISTS",
        "ONLY",
    ):
        index += 1
    if index >= len(code):
        return None, []
    table = _unquote(code[index].value)
    start = tokens.index(code[index]) + 1
    clauses: list[str] = []
    current: list = []
    depth = 0
    for token in tokens[start:]:
        if token.match(T.Punctuation, "("):
            depth += 1
        elif token.match(T.Punctuation, ")"):
            depth -= 1
        if depth == 0 and token.match(T.Punctuation, (",", ";")):
            clauses.append("".join(t.value for t in current).strip())
            current = []
            continue
        current.append(token)
    clauses.append("".join(t.value for t in current).strip())
    return table, [clause for clause in clauses if clause]


def _is_index(head: list[str]) -> bool:
    return head[:2] in (["ADD", "INDEX"], ["ADD", "KEY"], ["DROP", "INDEX"]) or (
        head[:3] in (["ADD", "UNIQUE", "INDEX"], ["ADD", "UNIQUE", "KEY"])
    )


def _is_constraint(head: list[str]) -> bool:
    return head[:2] in (
        ["ADD", "CONSTRAINT"],
        ["DROP", "CONSTRAINT"],
        ["DROP", "CHECK"],
        ["VALIDATE", "CONSTRAINT"],
    ) or head[:3] == ["DROP", "FOREIGN", "KEY"]


@functools.lru_cache(maxsize=8192)
def code_tokens(text: str) -> tuple:
    """Return the tokens of the first statement in ``text``, but for
    whitespace and comments."""
    parsed = statements.parse(text)
    if not parsed:
        return ()
    return tuple(
        t
        for t in parsed[0].flatten()
        if not t.is_whitespace and t.ttype not in T.Comment
    )


def clause_words(clause: str) -> list[str]:
    """Return the clause's words, upper case, names included as they are."""
    return [t.normalized.upper() for t in code_tokens(clause)]


def keywords(sql: str) -> list[str]:
    """Return the statement's keywords, upper case, in order."""
    return [t.normalized.upper() for t in code_tokens(sql) if t.is_keyword]


def _identifier(clause: str, position: int) -> str | None:
    tokens = code_tokens(clause)
    return _unquote(tokens[position].value) if len(tokens) > position else None


def _unquote(name: str) -> str:
    return name.strip('"`[]').split(".")[-1]


def has_sequence(words: list[str], *sequence: str) -> bool:
    n = len(sequence)
    return any(words[i : i + n] == list(sequence) for i in range(len(words) - n + 1))
