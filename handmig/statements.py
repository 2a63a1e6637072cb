"""Split collected SQL into single statements and name what each one does.

Django hands over SQL in chunks that are not always one statement: a
PostgreSQL RunSQL arrives as one unsplit blob, and some schema editor
templates put two statements on one line (``...; SET CONSTRAINTS ...``).
sqlparse knows quoting, dollar-quoting and comments, so it does the splitting.
"""

from __future__ import annotations

import functools
import re

from sqlparse import engine, lexer
from sqlparse import tokens as T
from sqlparse.sql import Token

from handmig.model import Statement

# Words that belong to a statement's verb ("CREATE UNIQUE INDEX") as opposed
# to the names and clauses that follow it.
_VERB_WORDS = {
    "ALTER",
    "BEGIN",
    "COMMIT",
    "CONSTRAINTS",
    "CREATE",
    "DELETE",
    "DROP",
    "EXTENSION",
    "FUNCTION",
    "INDEX",
    "INSERT",
    "MATERIALIZED",
    "PRAGMA",
    "RENAME",
    "REPLACE",
    "ROLLBACK",
    "SCHEMA",
    "SELECT",
    "SEQUENCE",
    "SET",
    "TABLE",
    "TEMPORARY",
    "TRIGGER",
    "TRUNCATE",
    "TYPE",
    "UNIQUE",
    "UPDATE",
    "VIEW",
    "OR",
    "CONCURRENTLY",
    "COMMENT",
    "ON",
    "GRANT",
    "REVOKE",
    "WITH",
}
_MAX_VERB_WORDS = 3


@functools.lru_cache(maxsize=8192)
def parse(sql: str) -> tuple:
    """Return sqlparse's statements of ``sql``, parsed once.

    Parsing dominates the cost of classifying a plan's statements, and every
    statement is read by several rules. Every reader walks the flat token
    stream, so sqlparse's grouping (two thirds of its time) is skipped.
    """
    return tuple(engine.FilterStack().run(sql))


# A chunk with none of these can only be one statement without comments.
_NEEDS_LEXER = re.compile(r";\s*\S|--|/\*|#")


def split(sql: str) -> list[str]:
    """Return the single statements in a chunk of SQL, each ending in ';'."""
    if not _NEEDS_LEXER.search(sql):
        # Most of what the schema editor writes: no lexing needed.
        text = sql.strip()
        if not text:
            return []
        return [text if text.endswith(";") else text + ";"]
    statements = []
    for parsed in parse(sql):
        text = str(parsed).strip()
        if not _has_code(parsed):
            # A chunk that ends in a comment yields a comment-only "statement";
            # it executes nothing, so it is not a step.
            continue
        if _last_code_token(parsed).value != ";":
            # A trailing line comment would swallow the terminator.
            text += "\n;" if _ends_in_line_comment(parsed) else ";"
        statements.append(text)
    return statements


def head(sql: str, count: int) -> list[Token]:
    """Return the first ``count`` tokens of ``sql`` but for whitespace and comments.

    The lexer yields tokens as it goes: a long statement is not read to its
    end when only its head matters.
    """
    found: list[Token] = []
    for ttype, value in lexer.tokenize(sql):
        token = Token(ttype, value)
        if token.is_whitespace or token.ttype in T.Comment:
            continue
        found.append(token)
        if len(found) == count:
            break
    return found


# Verbs of statements that change rows, not the schema.
DATA_VERBS = ("INSERT", "UPDATE", "DELETE", "SELECT", "TRUNCATE")


@functools.lru_cache(maxsize=8192)
def verb(sql: str) -> str:
    """Return the statement's leading keywords, e.g. "ALTER TABLE"."""
    words: list[str] = []
    # The lexer yields tokens as it goes: only the first few are read.
    for token in (Token(ttype, value) for ttype, value in lexer.tokenize(sql)):
        if token.is_whitespace or token.ttype in T.Comment:
            continue
        if not token.is_keyword:
            if not words:
                # sqlparse does not know every vendor's verbs (PRAGMA).
                words.append(token.value.upper())
            break
        word = token.normalized.upper()
        if words and word not in _VERB_WORDS:
            break
        words.append(word)
        if len(words) == _MAX_VERB_WORDS:
            break
    while len(words) > 1 and words[-1] in {"ON", "OR"}:
        words.pop()
    return " ".join(words)


# The table a statement works on: after TABLE, ON (indexes), INTO or UPDATE.
_TABLE = re.compile(
    r"\b(?:TABLE|ON|INTO|UPDATE)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?:ONLY\s+)?"
    r"(?:\"([^\"]+)\"|`([^`]+)`|\[([^\]]+)\]|([A-Za-z_][\w$]*))",
    re.IGNORECASE,
)


def tables(sql: str) -> set[str]:
    """Return the names of the tables a chunk of SQL creates, alters or fills."""
    found = set()
    for match in _TABLE.finditer(sql):
        name = next(group for group in match.groups() if group)
        found.add(name.split(".")[-1])
    return found


# What a statement does to a table's constraints and indexes, as the kinds
# Django's _constraint_names() asks about. "any" matches every kind.
_EFFECTS = (
    (re.compile(r"\bCREATE\s+TABLE\b", re.I), {"any"}),
    (re.compile(r"\bRENAME\b", re.I), {"any"}),
    (re.compile(r"\bDROP\s+CONSTRAINT\b", re.I), {"any"}),
    (re.compile(r"\bADD\s+CONSTRAINT\b[^,]*?\bUNIQUE\b", re.I), {"unique", "index"}),
    (re.compile(r"\bADD\s+CONSTRAINT\b[^,]*?\bCHECK\b", re.I), {"check"}),
    (re.compile(r"\bFOREIGN\s+KEY\b", re.I), {"foreign_key", "index"}),
    (re.compile(r"\bPRIMARY\s+KEY\b", re.I), {"primary_key", "unique", "index"}),
    (re.compile(r"\bCREATE\s+UNIQUE\s+INDEX\b", re.I), {"unique", "index"}),
    (re.compile(r"\bCREATE\s+INDEX\b", re.I), {"index"}),
    (re.compile(r"\bDROP\s+INDEX\b", re.I), {"index", "unique"}),
    (re.compile(r"\bDROP\s+(?:CHECK)\b", re.I), {"check"}),
    (re.compile(r"\bADD\s+(?:COLUMN\s+)?\S+\s[^,]*\bUNIQUE\b", re.I), {"unique"}),
    (re.compile(r"\bREFERENCES\b", re.I), {"foreign_key"}),
)


_INDEX_NAME = re.compile(
    r"\b(?:CREATE\s+(?:UNIQUE\s+)?|DROP\s+)INDEX\s+(?:CONCURRENTLY\s+)?"
    r"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?[\"`]?([\w$]+)[\"`]?",
    re.IGNORECASE,
)


def index_name(sql: str) -> str | None:
    """Return the index a CREATE INDEX or DROP INDEX statement names."""
    match = _INDEX_NAME.search(sql)
    return match.group(1) if match else None


def effects(
    sql: str, index_table=lambda name: None
) -> list[tuple[str | None, set[str]]]:
    """Return (table, kinds) for each statement that changes constraints.

    PostgreSQL's DROP INDEX names no table: ``index_table`` finds it from
    the index name; where it cannot, the table is None, meaning any table.
    """
    found: list[tuple[str | None, set[str]]] = []
    for text in split(sql):
        kinds: set[str] = set()
        for pattern, changed in _EFFECTS:
            if pattern.search(text):
                kinds |= changed
        if not kinds:
            continue
        named = {t.removeprefix("new__") for t in tables(text)}
        if not named:
            named = {index_table(index_name(text) or "")}
        found.extend((table, kinds) for table in named)
    return found


def make(sql: str, **extra) -> Statement:
    """Return a Statement for one already split statement."""
    return Statement(sql=sql, verb=verb(sql), **extra)


def split_all(chunks: list[str], **extra) -> list[Statement]:
    """Split every chunk and return the statements in order."""
    return [make(text, **extra) for chunk in chunks for text in split(chunk)]


def _has_code(parsed) -> bool:
    return _last_code_token(parsed) is not None


def _last_code_token(parsed):
    code = [
        token
        for token in parsed.flatten()
        if not token.is_whitespace and token.ttype not in T.Comment
    ]
    return code[-1] if code else None


def _ends_in_line_comment(parsed) -> bool:
    tokens = [token for token in parsed.flatten() if not token.is_whitespace]
    return bool(tokens) and tokens[-1].ttype in T.Comment.Single
