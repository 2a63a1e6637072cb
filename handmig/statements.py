"""Split collected SQL into single statements and name what each one does.

Django hands over SQL in chunks that are not always one statement: a
PostgreSQL RunSQL arrives as one unsplit blob, and some schema editor
templates put two statements on one line (``...; SET CONSTRAINTS ...``).

Splitting follows the vendor's own reading of the text, not sqlparse's: the
server (or the shell client the DBA pastes into) decides where a statement
ends, and sqlparse's lexer knows neither PostgreSQL's nested comments and
standard-conforming strings nor MySQL's ``#`` comments and labelled loops.
Everything else (verbs, tables, rules) still reads sqlparse's tokens.
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


def split(sql: str, vendor: str | None = None) -> list[str]:
    """Return the single statements in a chunk of SQL, each ending in ';'.

    ``vendor`` is the connection's (``connection.vendor``): it decides how
    quotes, comments and compound statements read. Without it, a reading
    that suits every vendor where they agree is used.
    """
    return list(_split(sql, vendor))


@functools.lru_cache(maxsize=4096)
def _split(sql: str, vendor: str | None) -> tuple[str, ...]:
    if not _NEEDS_LEXER.search(sql):
        # Most of what the schema editor writes: no lexing needed.
        text = sql.strip()
        if text in ("", ";"):
            return ()
        return (text if text.endswith(";") else text + ";",)
    dialect = _DIALECTS.get(vendor or "", _GENERIC)
    tokens = _tokens(sql, dialect)
    found = []
    for first, last in _boundaries(tokens, dialect):
        piece = tokens[first:last]
        code = [token for token in piece if token[0] in _CODE]
        if not code or all(token[3] == ";" for token in code):
            # Only comments, or an empty statement: it executes nothing, so
            # it is not a step.
            continue
        text = sql[piece[0][1] : piece[-1][2]].strip()
        if code[-1][3] != ";":
            # A trailing line comment would swallow the terminator.
            last = [token for token in piece if token[0] not in ("ws", "nl")][-1]
            text += "\n;" if last[0] == "line" else ";"
        found.append(text)
    return tuple(found)


def needs_delimiter(sql: str) -> bool:
    """Return whether the ``mariadb`` client would cut ``sql`` before its end.

    The client ends a statement at every ';' outside quotes and comments,
    BEGIN ... END or not: a statement with one before its last needs a
    DELIMITER of its own around it.
    """
    tokens = _tokens(sql, _MYSQL)
    code = [token for token in tokens if token[0] in _CODE]
    return any(token[3] == ";" for token in code[:-1])


class _Dialect:
    """How one vendor reads the text of a chunk: tokens and compound statements."""

    def __init__(
        self,
        pattern: str,
        comments: str,
        routines: frozenset[str],
        psql: bool = False,
        anonymous: str = "",
    ) -> None:
        self.pattern = re.compile(pattern, re.VERBOSE | re.DOTALL)
        # "flat", "nested" (PostgreSQL), or "nested if that closes it".
        self.comments = comments
        # The objects of CREATE statements whose body has BEGIN ... END.
        self.routines = routines
        # psql's rules for BEGIN ATOMIC: only BEGIN, CASE inside it, and END.
        self.psql = psql
        # Statements that open a block at their first word: "mariadb" for
        # BEGIN NOT ATOMIC, IF, LOOP...; "any" for an anonymous BEGIN too.
        self.anonymous = anonymous


_CODE = frozenset({"word", "punct", "quoted", "dollar", "exec"})
_LINE_END = r"(?P<nl>\r\n|\r|\n)|(?P<ws>[^\S\r\n]+)"
_WORD = r"(?P<word>[^\W\d][\w$]*|\d[\w$.]*)"

_POSTGRESQL = _Dialect(
    _LINE_END
    + r"""
    | (?P<line>--[^\r\n]*)
    | (?P<comment>/\*)
    | (?P<quoted>
          [eE]'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'?   # E'' strings: backslash escapes
        | '[^']*(?:''[^']*)*'?                    # standard-conforming: none
        | "[^"]*(?:""[^"]*)*"?
      )
    | (?P<dollar>\$(?:[^\W\d]\w*)?\$)
    | """
    + _WORD
    + r"| (?P<punct>.)",
    "nested",
    frozenset({"FUNCTION", "PROCEDURE"}),
    psql=True,
)
_MYSQL = _Dialect(
    _LINE_END
    + r"""
    | (?P<line>--(?=[\x00-\x20])[^\r\n]*|--$|\#[^\r\n]*)
    | (?P<exec>/\*M?!\d*)   # executable comment: the server runs its text
    | (?P<comment>/\*)
    | (?P<quoted>
          '[^'\\]*(?:(?:\\.|'')[^'\\]*)*'?
        | "[^"\\]*(?:(?:\\.|"")[^"\\]*)*"?
        | `[^`]*(?:``[^`]*)*`?
      )
    | """
    + _WORD
    + r"| (?P<punct>.)",
    "flat",
    frozenset({"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"}),
    anonymous="mariadb",
)
_SQLITE = _Dialect(
    _LINE_END
    + r"""
    | (?P<line>--[^\r\n]*)
    | (?P<comment>/\*)
    | (?P<quoted>
          '[^']*(?:''[^']*)*'?
        | "[^"]*(?:""[^"]*)*"?
        | `[^`]*(?:``[^`]*)*`?
        | \[[^\]]*\]?
      )
    | """
    + _WORD
    + r"| (?P<punct>.)",
    "flat",
    frozenset({"TRIGGER"}),
)
# Where the vendor is unknown: sqlparse's reading (backslash escapes, "# "
# comments), with what is unambiguous on every vendor added.
_GENERIC = _Dialect(
    _LINE_END
    + r"""
    | (?P<line>--[^\r\n]*|\#(?=\s)[^\r\n]*)
    | (?P<comment>/\*)
    | (?P<quoted>
          '[^'\\]*(?:(?:\\.|'')[^'\\]*)*'?
        | "[^"\\]*(?:(?:\\.|"")[^"\\]*)*"?
        | `[^`]*(?:``[^`]*)*`?
        | (?<![\w\])])\[[^\]\[]*\]
      )
    | (?P<dollar>\$(?:[^\W\d]\w*)?\$)
    | """
    + _WORD
    + r"| (?P<punct>.)",
    "nested if closed",
    frozenset({"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE", "TASK"}),
    anonymous="any",
)
_DIALECTS = {"postgresql": _POSTGRESQL, "mysql": _MYSQL, "sqlite": _SQLITE}

# (kind, start, end, value): value is a word in upper case, a punctuation
# character, or the kind.
_Tok = tuple[str, int, int, str]
_COMMENT_EDGE = re.compile(r"/\*|\*/")


def _tokens(sql: str, dialect: _Dialect) -> list[_Tok]:
    """Return the tokens of ``sql`` as the vendor's lexer would cut them."""
    found: list[_Tok] = []
    match = dialect.pattern.match
    pos, size = 0, len(sql)
    while pos < size:
        token = match(sql, pos)
        assert token is not None  # the last alternative takes any character
        kind, end = token.lastgroup or "punct", token.end()
        if kind == "comment":
            end = _comment_end(sql, end, dialect.comments)
        elif kind == "dollar":
            close = sql.find(token.group(), end)
            end = size if close < 0 else close + len(token.group())
        if kind == "word":
            value = token.group().upper()
        elif kind == "punct":
            value = token.group()
        else:
            value = kind
        found.append((kind, pos, end, value))
        pos = end
    return found


def _comment_end(sql: str, pos: int, comments: str) -> int:
    """Return where the block comment opened just before ``pos`` ends."""
    if comments != "flat":
        depth = 1
        for edge in _COMMENT_EDGE.finditer(sql, pos):
            depth += 1 if edge.group() == "/*" else -1
            if not depth:
                return edge.end()
        if comments == "nested":
            return len(sql)
    # Unclosed when nested: on a vendor without nesting, the first */ ends it.
    close = sql.find("*/", pos)
    return len(sql) if close < 0 else close + 2


def _boundaries(tokens: list[_Tok], dialect: _Dialect):
    """Yield the (first, last) token indexes of each statement."""
    first, index, count = 0, 0, len(tokens)
    code = [i for i, token in enumerate(tokens) if token[0] in _CODE]
    position = {token_index: n for n, token_index in enumerate(code)}
    blocks: _Blocks | None = None
    while index < count:
        if tokens[index][0] in _CODE:
            if blocks is None:
                blocks = _Blocks(dialect, tokens, code, position[index])
            if blocks.ends(tokens[index][3]):
                # A comment on the line of the ';' is about this statement.
                index += 1
                while index < count and tokens[index][0] in ("ws", "line"):
                    index += 1
                yield first, index
                first, blocks = index, None
                continue
        index += 1
    if first < count:
        yield first, count


# Transaction statements that start with BEGIN (PostgreSQL, SQLite, MySQL).
_TRANSACTION_WORDS = frozenset(
    {
        "TRANSACTION",
        "WORK",
        "TRAN",
        "DISTRIBUTED",
        "DEFERRED",
        "IMMEDIATE",
        "EXCLUSIVE",
        "ISOLATION",
        "READ",
        "DEFERRABLE",
    }
)
# Control statements of a stored program, closed by END IF, END LOOP...
_CONTROL = frozenset({"IF", "LOOP", "WHILE", "REPEAT", "FOR"})
# After these, a new statement of a stored program begins.
_STATEMENT_START = frozenset(
    {";", "BEGIN", "THEN", "ELSE", "DO", "LOOP", "REPEAT", ":", "ROW", "ATOMIC"}
)
# Between CREATE and the kind of object: CREATE OR REPLACE DEFINER = x ...
_CREATE_OPTIONS = frozenset(
    {"OR", "REPLACE", "TEMP", "TEMPORARY", "AGGREGATE", "NONEDITIONABLE"}
)


class _Blocks:
    """Follow one statement's BEGIN ... END blocks to find its last ';'."""

    def __init__(self, dialect: _Dialect, tokens, code, first: int) -> None:
        self.dialect = dialect
        self.paren = 0
        self.stack: list[str] = []
        self.previous: str | None = None
        head = [tokens[i][3] for i in code[first : first + 12]]
        self.compound = self._compound(head)

    def _compound(self, head: list[str]) -> bool:
        """Return whether the statement is a routine, trigger or block."""
        dialect = self.dialect
        if not head:
            return False
        if head[0] == "CREATE":
            return _created(head[1:]) in dialect.routines
        if dialect.anonymous == "any" and head[:2] == ["WITH", "FUNCTION"]:
            return True
        if len(head) > 2 and head[1] == ":":
            head = head[2:]  # a label
        if not dialect.anonymous or not head:
            return False
        if head[0] == "BEGIN":
            after = head[1] if len(head) > 1 else ";"
            if head[1:3] == ["NOT", "ATOMIC"]:
                return True
            return dialect.anonymous == "any" and not (
                after == ";" or after in _TRANSACTION_WORDS or after == "NOT"
            )
        return head[0] in _CONTROL or head[0] == "CASE"

    def ends(self, value: str) -> bool:
        """Take the next code token; return whether it ends the statement."""
        if value == ";" and not self.paren and not self.stack:
            return True
        if value == "(":
            self.paren += 1
        elif value == ")":
            self.paren = max(0, self.paren - 1)
        elif self.compound and not self.paren:
            if self.dialect.psql:
                self._psql(value)
            else:
                self._stored_program(value)
        self.previous = value
        return False

    def _psql(self, word: str) -> None:
        # What psql does for CREATE FUNCTION ... BEGIN ATOMIC ... END.
        if word == "BEGIN" or (word == "CASE" and self.stack):
            self.stack.append(word)
        elif word == "END" and self.stack:
            self.stack.pop()

    def _stored_program(self, word: str) -> None:
        stack, previous = self.stack, self.previous
        at_start = previous is None or previous in _STATEMENT_START
        if previous in ("THEN", "ELSE") and stack and stack[-1] == "CASE":
            # THEN and ELSE of a CASE expression are followed by a value.
            at_start = False
        if word == "BEGIN":
            if stack and stack[-1] == "DECLARE":
                stack[-1] = "BEGIN"
            else:
                stack.append("BEGIN")
        elif word == "DECLARE" and not stack and self.dialect.anonymous == "any":
            # CREATE FUNCTION ... AS DECLARE ...; BEGIN ... END (PL/SQL).
            stack.append("DECLARE")
        elif word == "CASE" and previous != "END":
            stack.append("CASE STATEMENT" if at_start else "CASE")
        elif word in _CONTROL and at_start:
            stack.append(word)
        elif word == "END" and stack:
            stack.pop()


def _created(words: list[str]) -> str | None:
    """Return the kind of object a CREATE statement makes, after its options."""
    index = 0
    while index < len(words):
        word = words[index]
        if word == "DEFINER":
            # DEFINER = user, user@host, 'user'@'host' or CURRENT_USER[()].
            index += 3 if words[index + 1 : index + 2] == ["="] else 1
            while index < len(words) and words[index] in ("@", "(", ")"):
                index += 2 if words[index] == "@" else 1
            continue
        if word not in _CREATE_OPTIONS:
            return word
        index += 1
    return None


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
    sql: str, index_table=lambda name: None, vendor: str | None = None
) -> list[tuple[str | None, set[str]]]:
    """Return (table, kinds) for each statement that changes constraints.

    PostgreSQL's DROP INDEX names no table: ``index_table`` finds it from
    the index name; where it cannot, the table is None, meaning any table.
    """
    found: list[tuple[str | None, set[str]]] = []
    for text in split(sql, vendor):
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


def split_all(chunks: list[str], vendor: str | None = None, **extra) -> list[Statement]:
    """Split every chunk and return the statements in order."""
    return [make(text, **extra) for chunk in chunks for text in split(chunk, vendor)]
