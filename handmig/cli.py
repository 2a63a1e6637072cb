"""The handmig command line: parse arguments, call the core, print, exit.

This is the only module that writes to stdout or stderr or picks an exit
code. ``python manage.py handmig`` uses the same parser (see
handmig.management.commands.handmig).
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import signal
import sys
import threading
import warnings
from typing import Any

from handmig import __version__
from handmig.errors import (
    ConfigurationError,
    DatabaseUnavailable,
    HandmigError,
    IrreversibleMigration,
    LookupFailed,
    OfflineNeedsDatabase,
    OutputFailed,
    ScratchLeftovers,
    ShadowFailed,
    ShadowNeeded,
    TemplateFailed,
)

EXIT_CODES = {
    ConfigurationError: 2,
    LookupFailed: 2,
    IrreversibleMigration: 3,
    DatabaseUnavailable: 4,
    TemplateFailed: 5,
    OutputFailed: 6,
    ShadowNeeded: 7,
    ShadowFailed: 8,
    OfflineNeedsDatabase: 9,
}
FORMATS = ("markdown", "sql", "html", "json")


def add_commands(parser, django_options: bool = False) -> None:
    """Add handmig's subcommands to ``parser`` (argparse or Django's)."""
    common = argparse.ArgumentParser(add_help=False)
    if django_options:
        _add_django_options(common, default=argparse.SUPPRESS)
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands"
    )
    commands.required = True
    runbook = commands.add_parser(
        "runbook",
        parents=[common],
        help="Write the runbook that applies or reverses one migration by hand.",
        description="Write the step-by-step runbook that applies (or, with "
        "--backwards, reverses) one migration by hand: its SQL statement by "
        "statement, the django_migrations bookkeeping, and the checks around them.",
    )
    _add_migration_arguments(runbook)
    runbook.add_argument(
        "--backwards",
        action="store_true",
        help="Reverse the migration instead of applying it.",
    )
    _add_output_options(runbook)

    plan = commands.add_parser(
        "plan",
        parents=[common],
        help="Write the runbook for everything migrate would do.",
        description="Write one runbook for the plan 'manage.py migrate "
        "[APP [TARGET]]' would run: every migration in its order, forward or "
        "backward, each with its own transaction and bookkeeping.",
    )
    plan.add_argument(
        "app_label",
        nargs="?",
        help="Only this app (and what it depends on), as with migrate.",
    )
    plan.add_argument(
        "target",
        nargs="?",
        help="Migration name or prefix to migrate to, forward or backward, "
        "or 'zero' to reverse all of the app's migrations.",
    )
    _add_output_options(plan)

    record = commands.add_parser(
        "record",
        parents=[common],
        help="Write only the django_migrations bookkeeping for one migration.",
        description="Write the INSERT (or, with --backwards, DELETE) that "
        "'migrate --fake' would make, for statements already run by hand on a "
        "server where the migration file is not available.",
    )
    _add_migration_arguments(record)
    record.add_argument(
        "--backwards", action="store_true", help="Remove the record instead."
    )
    _add_output_options(record, shadow=False)

    rerun = commands.add_parser(
        "rerun",
        parents=[common],
        help="Write the recipe that runs an applied migration again.",
        description="Write the fake-back / run / fake-forward recipe that runs an "
        "applied migration once more, with the names from this database, and "
        "the same done by hand in SQL.",
    )
    _add_migration_arguments(rerun)
    _add_output_options(rerun, shadow=False)

    status = commands.add_parser(
        "status",
        parents=[common],
        help="Show applied and pending migrations, and what is out of step.",
        description="Show which migrations are applied and pending, rows of "
        "django_migrations without a migration file, partly applied squashed "
        "migrations, and applied migrations whose dependencies are not.",
    )
    status.add_argument("app_label", nargs="?", help="Only this app.")
    status.add_argument(
        "--database",
        default="default",
        help="Database alias to read (default: %(default)s).",
    )
    status.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="Output format (default: %(default)s).",
    )
    status.add_argument(
        "-o", "--output", metavar="FILE", help="Write to FILE instead of stdout."
    )


def _add_migration_arguments(command) -> None:
    command.add_argument("app_label", help="App label of the migration's app.")
    command.add_argument(
        "migration_name", help="Migration name, or a unique prefix of it (0003)."
    )


def _add_output_options(command, shadow: bool = True) -> None:
    command.add_argument(
        "--database",
        default="default",
        help="Database alias to generate for (default: %(default)s). It is only read.",
    )
    command.add_argument(
        "--format",
        choices=FORMATS,
        default="markdown",
        help="Output format (default: %(default)s).",
    )
    command.add_argument(
        "--template",
        metavar="FILE",
        help="Render with this Jinja2 template instead of a built-in format.",
    )
    command.add_argument(
        "--template-dir",
        metavar="DIR",
        help="Use DIR's runbook.md.j2, runbook.sql.j2 or runbook.html.j2 instead "
        "of the shipped one for --format; --template files can include or "
        "extend DIR's templates too.",
    )
    command.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="Write the runbook to FILE instead of standard output.",
    )
    if not shadow:
        return
    choice = command.add_mutually_exclusive_group()
    choice.add_argument(
        "--shadow",
        dest="shadow",
        action="store_const",
        const="always",
        default="auto",
        help="Run the migrations on a scratch copy of the database's schema "
        "and take the SQL they execute (handmig creates and drops it). "
        "Needed when the SQL depends on objects the runbook itself creates; "
        "on SQLite that happens by itself.",
    )
    choice.add_argument(
        "--no-shadow",
        dest="shadow",
        action="store_const",
        const="never",
        help="Never use a shadow database; fail where one is needed.",
    )
    choice.add_argument(
        "--shadow-database",
        metavar="ALIAS",
        help="Use this configured, empty database as the shadow.",
    )
    choice.add_argument(
        "--offline",
        action="store_true",
        help="Do not connect to the database at all. The migrations applied "
        "are those in --applied, or none (plan) or exactly the ones the "
        "migration depends on (runbook); fails where the SQL needs the "
        "database.",
    )
    command.add_argument(
        "--no-data-probes",
        dest="data_probes",
        action="store_false",
        help="Do not query the target's tables for rows in what the plan drops "
        "(each such query stops after 2 s); read only its catalog.",
    )
    command.add_argument(
        "--ignore",
        metavar="RULE",
        action="append",
        default=[],
        help="Do not flag this safety rule (repeatable), e.g. pg-create-index-lock.",
    )
    command.add_argument(
        "--lock-timeout",
        metavar="DURATION",
        help="Give up on a lock after DURATION (500ms, 5s, 2min, 1h; a bare "
        "number is seconds): the vendor's SET statement opens each migration's "
        "section.",
    )
    command.add_argument(
        "--statement-timeout",
        metavar="DURATION",
        help="Stop any statement that runs longer than DURATION (500ms, 5s, "
        "2min, 1h; a bare number is seconds). PostgreSQL and MariaDB; refused on "
        "MySQL, whose max_execution_time stops only SELECT; ignored on SQLite.",
    )
    tools = command.add_mutually_exclusive_group()
    tools.add_argument(
        "--pt-osc",
        dest="online",
        action="store_const",
        const="pt-osc",
        help="MySQL/MariaDB: run each ALTER TABLE that copies or rebuilds a "
        "table through pt-online-schema-change (a --dry-run, then --execute); "
        "the runbook says why the others stay SQL.",
    )
    tools.add_argument(
        "--gh-ost",
        dest="online",
        action="store_const",
        const="gh-ost",
        help="MySQL/MariaDB: the same with gh-ost (no foreign keys, no triggers; "
        "it needs the binary log in ROW format).",
    )
    command.add_argument(
        "--applied",
        metavar="FILE",
        help="With --offline: the applied migrations, as written by "
        "'handmig status --format json' on the target.",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the standalone parser, with django-admin's --settings/--pythonpath."""
    parser = argparse.ArgumentParser(
        prog="handmig",
        description="Turn Django migrations into step-by-step SQL runbooks "
        "for running them by hand.",
    )
    parser.add_argument("--version", action="version", version=f"handmig {__version__}")
    parser.add_argument(
        "-v",
        "--verbosity",
        type=int,
        choices=(0, 1, 2, 3),
        default=1,
        help="0: errors only; 1: progress on a terminal (default); 2, 3: a "
        "line per migration on standard error, also when it is not a terminal.",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        dest="verbosity",
        action="store_const",
        const=0,
        help="Errors only (-v 0).",
    )
    _add_django_options(parser, default=None)
    add_commands(parser, django_options=True)
    return parser


def execute(options, progress=None) -> str:
    """Run the command in ``options`` and return the rendered runbook.

    It goes through the public API (``handmig.build_runbook`` and friends),
    as any other program would; ``progress`` is handed to the core.
    """
    # Imported here: Django models can only be imported after setup().
    import handmig
    from handmig.render import render_status
    from handmig.status import read_applied

    if options.command == "status":
        return render_status(
            handmig.migration_status(
                options.app_label, database_alias=options.database
            ),
            options.format,
        )
    if options.command == "record":
        runbook = handmig.build_record(
            options.app_label,
            options.migration_name,
            backwards=options.backwards,
            database_alias=options.database,
        )
        return _render(runbook, options)
    if options.command == "rerun":
        runbook = handmig.build_rerun(
            options.app_label, options.migration_name, database_alias=options.database
        )
        return _render(runbook, options)
    if options.applied and not options.offline:
        raise ConfigurationError("--applied goes with --offline; add --offline.")
    from handmig.rules import RULES

    unknown = sorted(set(options.ignore) - set(RULES))
    if unknown:
        raise ConfigurationError(
            f"Unknown rule {', '.join(unknown)}; the rules are: "
            f"{', '.join(sorted(RULES))}."
        )
    from handmig import timeouts

    shadow = {
        "lock_timeout": timeouts.parse(options.lock_timeout),
        "statement_timeout": timeouts.parse(options.statement_timeout),
        "ignore": tuple(options.ignore),
        "online": options.online,
        "data_probes": options.data_probes,
        "shadow": options.shadow,
        "shadow_database": options.shadow_database,
        "offline": options.offline,
        "applied": frozenset(read_applied(options.applied))
        if options.applied
        else None,
        "progress": progress,
    }
    if options.command == "plan":
        runbook = handmig.build_plan(
            options.app_label,
            options.target,
            database_alias=options.database,
            **shadow,
        )
    else:
        runbook = handmig.build_runbook(
            options.app_label,
            options.migration_name,
            backwards=options.backwards,
            database_alias=options.database,
            **shadow,
        )
    return _render(runbook, options)


def _render(runbook, options) -> str:
    """Render ``runbook`` as the output options ask."""
    import handmig

    return handmig.render(
        runbook,
        format=options.format,
        template=options.template,
        template_dir=options.template_dir,
    )


def deliver(options, text: str, stdout) -> None:
    """Write the runbook to the output file, or to ``stdout``."""
    from handmig.output import write_atomically

    if options.output:
        write_atomically(options.output, text)
    else:
        stdout.write(text)


def exit_code(error: HandmigError) -> int:
    """Return the exit code for ``error``."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, unwinding like Ctrl-C so that scratch databases are dropped."""


class _SignalExits:
    """Make SIGINT and SIGTERM unwind the run once; put back what was there."""

    def __init__(self) -> None:
        self.armed = True
        self.received: int | None = None
        self.previous: dict[int, Any] = {}

    def install(self) -> None:
        """Put the handlers in place (in the main thread: elsewhere Python cannot)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self._raise)

    def _raise(self, signum, frame):
        # Only the first: a second Ctrl-C while the first unwinds would cut
        # short the clean-up it runs (dropping a scratch database).
        if not self.armed:
            return
        self.armed = False
        self.received = signum
        raise _interruption(signum)

    def check(self) -> None:
        """Raise the interruption again if it was swallowed on its way up.

        Python ignores an exception raised inside ``__del__`` (a driver's
        connection collected as the signal came): the run then goes on as if
        nothing happened, unless it looks before it writes the runbook.
        """
        if self.received is not None:
            raise _interruption(self.received)

    def restore(self) -> None:
        """Put the handlers back (main may run inside a longer-lived process)."""
        self.armed = False
        for signum, handler in self.previous.items():
            # None: installed outside Python; the default is the nearest.
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _quiet_interruptions(hook, unraisable) -> None:
    """Pass on what Python cannot raise, but a signal's interruption.

    A signal that lands in a ``__del__`` raises there, where Python only
    prints it; main() sees it anyway (_SignalExits.check) and says so in
    one line, without the traceback.
    """
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    hook(unraisable)


def _interruption(signum) -> KeyboardInterrupt:
    """Return the exception a signal unwinds the run with."""
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _finish_clean_up() -> list[str]:
    """Remove scratch databases whose clean-up the signal cut short."""
    shadow = sys.modules.get("handmig.shadow")
    # Not imported: no shadow was made, nothing to remove.
    return shadow.finish_clean_up() if shadow is not None else []


def run() -> int:
    """Run main() as the process's entry point, and end it without tracebacks.

    Once main() returns, the process only shuts down; a signal arriving then
    (an impatient second Ctrl-C) would fill the exit with tracebacks from
    the interpreter's own clean-up, so SIGINT and SIGTERM are ignored.
    """
    code = main()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    return code


def main(argv=None) -> int:
    """Run handmig as a standalone program and return its exit code.

    Meant for a process of its own (``python -m handmig``, the ``handmig``
    script): it freezes the garbage collector's view of every object made
    so far, which a long-lived caller would not want. SIGINT and SIGTERM
    unwind the run (scratch databases are dropped) and give 130 and 143.
    """
    signals = _SignalExits()
    progress = None
    unraisable = sys.unraisablehook
    sys.unraisablehook = functools.partial(_quiet_interruptions, unraisable)
    try:
        # Inside the try: a signal the moment they are in place unwinds too.
        signals.install()
        parser = build_parser()
        options = parser.parse_args(argv)
        progress = Progress(sys.stderr, options.verbosity)
        with warnings.catch_warnings():
            # Every time, not once per place: main may run more than once.
            warnings.simplefilter("always", ScratchLeftovers)
            shown = warnings.showwarning

            def show(message, category, *args, **kwargs):
                if not issubclass(category, ScratchLeftovers):
                    shown(message, category, *args, **kwargs)
                elif options.verbosity:
                    progress.done()
                    print(f"handmig: warning: {message}", file=sys.stderr)

            warnings.showwarning = show
            try:
                setup_django(options.settings, options.pythonpath)
                # Django's start-up made the modules, classes and models that
                # live as long as the process; frozen, they are not walked
                # again by every later collection while the plan is built.
                gc.freeze()
                text = execute(options, progress)
                progress.done()
                signals.check()
                deliver(options, text, sys.stdout)
            except HandmigError as error:
                progress.done()
                print(f"handmig: error: {error}", file=sys.stderr)
                return exit_code(error)
        if options.verbosity >= 2 and getattr(options, "output", None):
            print(f"handmig: wrote {options.output}", file=sys.stderr)
        return 0
    except KeyboardInterrupt as interrupt:
        if progress is not None:
            progress.done()
        for failure in _finish_clean_up():
            print(f"handmig: error: {failure}", file=sys.stderr)
        if isinstance(interrupt, Terminated):
            print("handmig: terminated; nothing was written.", file=sys.stderr)
            return 143
        print("handmig: interrupted; nothing was written.", file=sys.stderr)
        return 130
    finally:
        signals.restore()
        sys.unraisablehook = unraisable
        # The process ends next. Without this, the interpreter's shutdown
        # collects garbage over every object of the run, start-up included,
        # only to free memory the operating system takes back anyway: about
        # 0.6 s on a project of 220 migrations. Exit handlers still run and
        # connections still close.
        gc.freeze()


class Progress:
    """Migration-by-migration progress on standard error.

    On a terminal, one line rewritten in place (verbosity 1); a line per
    migration at verbosity 2 and 3, wherever standard error goes; nothing at
    0, and nothing at 1 when standard error is piped or redirected, so logs
    and scripts see only errors.
    """

    def __init__(self, stream, verbosity: int):
        self.stream = stream
        self.verbosity = verbosity
        self.live = verbosity == 1 and _isatty(stream)
        self.shown = False

    def __call__(self, stage: str, done: int, total: int, label: str) -> None:
        verb = {"collect": "collecting", "shadow": "running on the shadow"}[stage]
        text = f"handmig: {verb} {done}/{total} {label}"
        if self.verbosity >= 2:
            self.stream.write(text + "\n")
        elif self.live:
            self.stream.write("\r\x1b[K" + text)
            self.shown = True
        else:
            return
        self.stream.flush()

    def done(self) -> None:
        """Clear the in-place line, so that what follows starts clean."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def setup_django(settings_module: str | None, pythonpath: str | None) -> None:
    """Configure Django from --settings/--pythonpath like django-admin does."""
    import django
    from django.core.exceptions import ImproperlyConfigured

    if pythonpath:
        sys.path.insert(0, os.path.abspath(pythonpath))
    # Like "python -m": a settings package in the working directory is found.
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    if settings_module:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    module = os.environ.get("DJANGO_SETTINGS_MODULE")
    if not module:
        raise ConfigurationError(
            "No Django settings: pass --settings=yourproject.settings "
            "(and --pythonpath if needed), or set DJANGO_SETTINGS_MODULE."
        )
    try:
        django.setup()
    except ImportError as exc:
        raise ConfigurationError(
            f"Cannot load settings '{module}': {exc}. "
            "Check --settings and --pythonpath."
        ) from None
    except ImproperlyConfigured as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ConfigurationError(
            f"Settings '{module}' are not usable: {first}"
        ) from None


def _add_django_options(parser, default) -> None:
    parser.add_argument(
        "--settings",
        default=default,
        help="Python path to the settings module, e.g. mysite.settings "
        "(default: $DJANGO_SETTINGS_MODULE).",
    )
    parser.add_argument(
        "--pythonpath",
        default=default,
        help="A directory to add to the Python path, e.g. /home/me/mysite.",
    )
