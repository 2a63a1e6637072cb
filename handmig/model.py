"""The runbook model: plain dataclasses that every output format renders from.

Nothing here knows about Django objects; the fields are strings, numbers and
lists so that the JSON form is ``dataclasses.asdict`` and a user's template
sees exactly what the shipped ones see.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Flag:
    """Something a person must notice: an id for tools, a level and a message."""

    id: str
    level: str  # "info", "warning" or "danger"
    message: str


@dataclass
class OnlineChange:
    """An ALTER TABLE run through an online schema change tool instead of pasted.

    The tool copies the table in the background and swaps it in, so writes
    are not blocked for the length of the copy.
    """

    tool: str  # "pt-online-schema-change" or "gh-ost"
    table: str
    alter: str  # the clauses, as the tool's --alter takes them
    dry_run: str  # command that checks everything and changes nothing
    execute: str  # command that makes the change
    merged: int = 1  # statements of the migration this one run stands for


@dataclass
class Statement:
    """One SQL statement, ending in ';', ready to paste into a shell client."""

    sql: str
    verb: str  # e.g. "CREATE TABLE", "ALTER TABLE", "INSERT", "BEGIN"
    # What it does, read from the statement: kind ("create", "alter",
    # "drop", "index", "constraint", "data", "transaction", "session",
    # "other"), the table it works on, whether it destroys data, and the
    # lock it takes on this vendor ("" where it takes none worth naming).
    kind: str = ""
    table: str | None = None
    destructive: bool = False
    lock: str = ""
    # Operation number that produced a deferred statement (indexes and
    # foreign keys Django runs at the end of the migration).
    origin: int | None = None
    origin_description: str | None = None
    # Safety rules the statement breaks (ids), what they mean, and the
    # command that backs up what it destroys.
    rules: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    backup: str | None = None
    # With --pt-osc/--gh-ost: the tool's commands that replace pasting
    # ``sql``; or why the statement stays plain SQL.
    online: OnlineChange | None = None
    online_note: str = ""
    # With an online tool: where a script stops for the tool to run.
    handoff: Handoff | None = None


@dataclass
class Handoff:
    """Where a script stops for a step SQL cannot do, and how it goes on.

    A script never runs past such a step: its part ends there with
    ``stop``, which always fails (so a script piped whole stops), the
    operator runs ``commands`` in a shell, and the next part begins with
    ``guard``, which fails until they have.
    """

    title: str
    commands: list[str]
    part: int | None  # the part that follows, None when nothing follows
    guard: list[Statement] = field(default_factory=list)
    stop: list[Statement] = field(default_factory=list)


@dataclass
class PythonCode:
    """A callable that a non-SQL operation runs, and where to read it."""

    callable: str
    file: str | None
    line: int | None
    noop: bool = False


@dataclass
class OperationStep:
    """One operation of a migration, in the order it runs in this direction."""

    number: int  # 1-based position in Migration.operations
    type: str
    description: str
    writes_sql: bool
    reversible: bool
    statements: list[Statement] = field(default_factory=list)
    python: PythonCode | None = None  # what runs in this direction
    reverse_python: PythonCode | None = None  # what would undo it
    introspected_from: str | None = None  # alias whose catalog named objects
    flags: list[Flag] = field(default_factory=list)
    # Queries that prove the step happened (objects created or removed).
    verify: list[Check] = field(default_factory=list)


@dataclass
class Check:
    """A query the person runs and the result that means "go on"."""

    title: str
    sql: str
    expect: str


@dataclass
class Step:
    """A step outside the migration proper (session setup, bookkeeping table)."""

    title: str
    statements: list[Statement]
    note: str = ""
    # Statements that stop a script unless the step is still to do.
    guard: list[Statement] = field(default_factory=list)


@dataclass
class CommandStep:
    """A shell command to run, and why."""

    title: str
    command: str
    note: str = ""


@dataclass
class MigrationRow:
    app: str
    name: str


@dataclass
class Bookkeeping:
    """The django_migrations rows to insert (forward) or delete (backward)."""

    action: str  # "insert" or "delete"
    rows: list[MigrationRow]
    statements: list[Statement]


@dataclass
class MigrationSection:
    """Everything that applies or reverses one migration."""

    app: str
    name: str
    file: str
    sha256: str
    atomic: bool
    transactional: bool  # wrapped in BEGIN/COMMIT, as migrate would be
    replaces: list[MigrationRow]
    operations: list[OperationStep]
    deferred: list[Statement]
    record: Bookkeeping
    begin: Statement | None
    commit: Statement | None
    statement_count: int
    # Queries that prove the deferred SQL ran.
    deferred_verify: list[Check] = field(default_factory=list)
    # Lock and statement timeouts, run first in the section, and what to do
    # when one fires.
    timeouts: list[Statement] = field(default_factory=list)
    timeout_advice: str = ""
    # Applying it with Django instead of by hand (for its Python steps).
    migrate_command: str = ""
    fake_command: str = ""
    flags: list[Flag] = field(default_factory=list)
    # Every flag id in the section, its operations' included, for summaries.
    flag_ids: list[str] = field(default_factory=list)
    # Statements that stop a script unless the migration is in the state
    # this section starts from (not recorded forward, recorded backward).
    guard: list[Statement] = field(default_factory=list)
    # Backup commands for what the section destroys, run before it begins.
    backups: list[str] = field(default_factory=list)
    # Statements after the section that take its session timeouts back.
    timeouts_reset: list[Statement] = field(default_factory=list)
    # It runs Python SQL cannot replace: a script hands it to Django.
    with_django: bool = False
    # The part of the script the section belongs to (1 when there is one).
    part: int = 1
    # Set on the last of consecutive sections that run with Django: where
    # the script stops for them.
    handoff: Handoff | None = None


@dataclass
class PostStep:
    """What to run afterwards so that post_migrate handlers do their work."""

    command: str
    models_added: list[str]
    models_removed: list[str]
    permissions_added: list[str]
    message: str


@dataclass
class Header:
    """Facts a reviewer checks before trusting the runbook."""

    handmig_version: str
    django_version: str
    database: str
    vendor: str
    vendor_display: str
    server_version: str
    settings: str | None
    generated_at: str
    # Where statements that needed the database's catalog were resolved.
    resolved_against: str = ""
    # The shell client command that runs an SQL script from standard input.
    client: str = ""


@dataclass
class Runbook:
    title: str
    kind: str  # "runbook" (one migration) or "plan"
    direction: str  # "forward" or "backward"
    header: Header
    before: list[Step]
    preflight: list[Check]
    migrations: list[MigrationSection]
    after: list[Step]
    verify: list[Check]
    post: PostStep
    warnings: list[str] = field(default_factory=list)
    # Django commands that do the same job (the rerun recipe).
    commands: list[CommandStep] = field(default_factory=list)
    # How many parts a script comes in: one more for each place it stops
    # for a step SQL cannot do.
    parts: int = 1
    # What a script's later parts repeat first: the session's settings.
    session: list[Statement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the model as plain data, the form JSON output carries."""
        return {"format": "handmig.runbook/1", **asdict(self)}
