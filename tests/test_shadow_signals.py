"""Scratch databases never leak: SIGINT, SIGTERM and SIGKILL during a shadow run.

On every backend in HANDMIG_TEST_DATABASES, ``plan --shadow`` of the sample
project runs in a process of its own and is stopped at a few points: the
moment its handlers are in place, after the first and the tenth migration on
the shadow, and after the last (while the scratch database is dropped).
Nothing may be left on the server or in the temporary directory, and the
exit is 130 or 143 with one line on stderr. A run killed outright leaves its
scratch database behind; the next run removes it.
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.schema import (
    create_database,
    drop_database,
    selected_backends,
    server_rows,
    server_settings,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
PLAN = [
    "--pythonpath",
    str(SAMPLES),
    "--settings",
    "sampleproject.settings",
    "-v",
    "2",
    "plan",
    "--shadow",
    "--format",
    "sql",
]
PROGRESS = re.compile(r"handmig: running on the shadow (\d+)/(\d+) ")
SIGNALS = {
    signal.SIGINT: (130, "handmig: interrupted; nothing was written."),
    signal.SIGTERM: (143, "handmig: terminated; nothing was written."),
}
# The drop is the window the original leak was in: more runs there.
POINTS = {"start": 1, "first": 1, "tenth": 1, "last": 5}
_SERVER_KEYS = ("HOST", "PORT", "USER", "PASSWORD")
# backend: [signal runs, runs that left a scratch database behind]
TALLY: dict[str, list[int]] = {}


@dataclass
class Target:
    backend: str
    env: dict
    tmpdir: Path


@pytest.fixture(scope="module", params=selected_backends())
def target(request, tmp_path_factory):
    """An empty database of the sample project's, on one backend; a private TMPDIR."""
    backend = request.param
    scratch = tmp_path_factory.mktemp(f"signals-{backend}")
    tmpdir = scratch / "tmp"
    tmpdir.mkdir()
    if backend == "sqlite":
        # Never created: the plan is for an empty database.
        env = {"HANDMIG_SAMPLE_DB_NAME": str(scratch / "target.sqlite3")}
    else:
        prefix = os.environ.get("HANDMIG_TEST_DB_PREFIX", "handmig_test")
        name = f"{prefix}_sig"
        # Unreachable: create_database raises, and every test here fails.
        create_database(backend, name)
        server = server_settings(backend, name)
        env = {
            "HANDMIG_SAMPLE_DB_NAME": name,
            **{f"HANDMIG_SAMPLE_DB_{key}": str(server[key]) for key in _SERVER_KEYS},
        }
    full_env = {
        **os.environ,
        **env,
        "HANDMIG_SAMPLE_DB": backend,
        "PYTHONPATH": str(ROOT),
        "TMPDIR": str(tmpdir),
    }
    full_env.pop("DJANGO_SETTINGS_MODULE", None)
    TALLY[backend] = [0, 0]
    yield Target(backend, full_env, tmpdir)
    if backend != "sqlite":
        drop_database(backend, name)
    runs, leaks = TALLY[backend]
    # Past the capture, on the terminal: how often it was tried.
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"{backend}: {runs} signal runs, {leaks} left a scratch database behind"
            )


@pytest.mark.parametrize("point", list(POINTS))
@pytest.mark.parametrize("signum", list(SIGNALS), ids=lambda s: signal.Signals(s).name)
def test_a_signal_leaves_nothing_behind(target, signum, point):
    for _ in range(POINTS[point]):
        process, stderr = run_and_signal(target, signum, point)
        _assert_clean_exit(target, process, stderr, signum)


@pytest.mark.parametrize("point", ["first", "last"])
@pytest.mark.parametrize("signum", list(SIGNALS), ids=lambda s: signal.Signals(s).name)
def test_more_signals_cannot_cut_the_clean_up_short(target, signum, point):
    process, stderr = run_and_signal(target, signum, point, burst=True)
    _assert_clean_exit(target, process, stderr, signum, burst=True)


def test_the_next_run_removes_what_a_killed_run_left(target):
    killed, _ = run_and_signal(target, signal.SIGKILL, "first")
    assert killed.returncode == -signal.SIGKILL
    assert len(_leftovers(target, killed.pid)) == 1, "killed on the shadow"
    after = subprocess.Popen(
        [sys.executable, "-m", "handmig", *PLAN],
        cwd=ROOT,
        env=target.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, stderr = after.communicate(timeout=120)
    assert after.returncode == 0, stderr
    assert _said(stderr) == []
    assert f"_{killed.pid}_" not in stderr, "dropped, not listed"
    assert _leftovers(target, killed.pid) == []
    assert _leftovers(target, after.pid) == []


@pytest.mark.parametrize("backend", selected_backends())
def test_a_failed_drop_names_what_is_left(backends, backend, monkeypatch, tmp_path):
    from django.db import DatabaseError, connections

    from handmig import cli
    from handmig.errors import ShadowLeftBehind
    from handmig.shadow import shadow

    connection = connections[f"{backend}_scratch"]
    if backend == "sqlite":
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

        def refuse(path, *args, **kwargs):
            raise PermissionError(13, "Permission denied", path)

        monkeypatch.setattr(shutil, "rmtree", refuse)
    else:
        _on_drop(monkeypatch, connection, DatabaseError("permission denied"))
    with pytest.raises(ShadowLeftBehind) as caught:
        with shadow(connection) as (wrapper, _):
            made = str(wrapper.settings_dict["NAME"])
    monkeypatch.undo()
    error, message = caught.value, str(caught.value)
    assert cli.exit_code(error) != 0
    assert "\n" not in message
    if backend == "sqlite":
        directory = os.path.dirname(made)
        assert error.name == directory
        assert message.endswith(f"remove it by hand: rm -r {directory}")
        shutil.rmtree(directory)
        return
    quoted = connection.ops.quote_name(made)
    assert error.name == made
    assert (
        f"could not be dropped (permission denied); drop it by hand: DROP DATABASE {quoted}"
        in message
    )
    # The statement it gives is the one that works.
    with connection._nodb_cursor() as cursor:
        cursor.execute(message.split("drop it by hand: ")[1].rstrip(";"))
    assert made not in _server_names(backend)


@pytest.mark.parametrize("backend", selected_backends())
def test_an_interrupt_inside_the_drop_does_not_stop_it(backends, backend, monkeypatch):
    from django.db import connections

    from handmig.shadow import shadow

    if backend == "sqlite":
        return  # no driver call that Ctrl-C could interrupt: the next test
    connection = connections[f"{backend}_scratch"]
    # As psycopg does when Ctrl-C comes while the DROP runs.
    _on_drop(monkeypatch, connection, KeyboardInterrupt(), once=True)
    with pytest.raises(KeyboardInterrupt):
        with shadow(connection) as (wrapper, _):
            made = wrapper.settings_dict["NAME"]
    monkeypatch.undo()
    assert made not in _server_names(backend)


@pytest.mark.parametrize("backend", selected_backends())
def test_a_signal_just_before_the_clean_up_holds_signals_does_not_skip_it(
    backends, backend, monkeypatch, tmp_path
):
    # It did: SIGTERM right after the last migration (1 run in 10 on
    # PostgreSQL) raised before the clean-up held signals, and the DROP
    # never ran.
    from django.db import connections

    from handmig import shadow

    connection = connections[f"{backend}_scratch"]
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    real, calls = shadow._run_held, []

    def cut_short(clean_up, finished):
        calls.append(clean_up)
        if len(calls) == 1:
            raise KeyboardInterrupt
        real(clean_up, finished)

    monkeypatch.setattr(shadow, "_run_held", cut_short)
    with pytest.raises(KeyboardInterrupt):
        with shadow.shadow(connection) as (wrapper, _):
            made = str(wrapper.settings_dict["NAME"])
    monkeypatch.undo()
    assert len(calls) == 2
    if backend == "sqlite":
        assert not os.path.exists(os.path.dirname(made))
    else:
        assert made not in _server_names(backend)


@pytest.mark.parametrize("backend", selected_backends())
def test_a_signal_while_the_drop_runs_waits_for_it(
    backends, backend, monkeypatch, tmp_path
):
    from django.db import connections

    from handmig.shadow import shadow

    connection = connections[f"{backend}_scratch"]
    finished = []
    if backend == "sqlite":
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        real_rmtree = shutil.rmtree

        def rmtree(path, *args, **kwargs):
            os.kill(os.getpid(), signal.SIGINT)
            real_rmtree(path, *args, **kwargs)
            finished.append(path)

        monkeypatch.setattr(shutil, "rmtree", rmtree)
    else:
        _on_drop(monkeypatch, connection, signal.SIGINT, finished=finished)
    with pytest.raises(KeyboardInterrupt):
        with shadow(connection) as (wrapper, _):
            made = str(wrapper.settings_dict["NAME"])
    monkeypatch.undo()
    # Held until the DROP was done, on the first try: then delivered.
    assert len(finished) == 1
    if backend == "sqlite":
        assert not os.path.exists(os.path.dirname(made))
    else:
        assert made not in _server_names(backend)


@pytest.mark.parametrize("backend", selected_backends())
def test_a_sweep_removes_only_what_finished_runs_of_this_host_left(
    backends, backend, monkeypatch, tmp_path
):
    from django.db import connections

    from handmig import shadow

    ours = shadow.host_tag()
    other = "1" * 6 if ours == "0" * 6 else "0" * 6
    dead = _dead_pid()
    names = {
        "gone": f"handmig_shadow_{ours}_{dead}_00c0ffee",
        "running": f"handmig_shadow_{ours}_{os.getpid()}_00c0ffee",
        "other host": f"handmig_shadow_{other}_{dead}_00c0ffee",
        "older": "handmig_shadow_00c0ffee",
    }
    if backend == "sqlite":
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        for key, name in names.items():
            names[key] = name.replace("_", "-") + "-x1y2z3"
            (tmp_path / names[key]).mkdir()
        found = shadow._sweep_directories()
        remaining = {p.name for p in tmp_path.iterdir()}
        monkeypatch.undo()
    else:
        connection = connections[f"{backend}_scratch"]
        try:
            for name in names.values():
                _server_execute(connection, f"CREATE DATABASE {name}")
            found = shadow._sweep_server(connection)
            remaining = set(_server_names(backend))
        finally:
            for name in names.values():
                _server_execute(connection, f"DROP DATABASE IF EXISTS {name}")
    assert names["gone"] not in remaining
    assert {names["running"], names["other host"], names["older"]} <= remaining
    [warning] = found
    assert names["other host"] in warning and "another host" in warning
    assert names["running"] not in warning
    if backend == "sqlite":
        # The system clears its temporary directory; a server, nobody.
        assert names["older"] not in warning
    else:
        assert names["older"] in warning and "older handmig" in warning


def test_scratch_names_say_which_host_and_process():
    from handmig import shadow

    name = shadow.scratch_name()
    tag = shadow.host_tag()
    assert name.startswith(f"handmig_shadow_{tag}_{os.getpid()}_")
    assert re.fullmatch(r"[0-9a-f]{6}", tag)
    assert len(name.encode()) <= 63
    assert shadow._SERVER_NAME.fullmatch(name)


def test_leftovers_of_other_runs_are_a_warning_of_the_runbook(tmp_path):
    from handmig.shadow import host_tag

    other = "1" * 6 if host_tag() == "0" * 6 else "0" * 6
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    elsewhere = tmpdir / f"handmig-shadow-{other}-42-00c0ffee-x1y2z3"
    elsewhere.mkdir()
    env = {
        **os.environ,
        "HANDMIG_SAMPLE_DB": "sqlite",
        "HANDMIG_SAMPLE_DB_NAME": str(tmp_path / "target.sqlite3"),
        "PYTHONPATH": str(ROOT),
        "TMPDIR": str(tmpdir),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    argv = [sys.executable, "-m", "handmig", *PLAN]
    shown = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "warning" not in shown.stderr
    # The runbook's warnings name it, with what to do (the SQL comments
    # wrap it: read it as one line).
    text = " ".join(
        line[3:] for line in shown.stdout.splitlines() if line.startswith("-- ")
    )
    assert "WARNING: Scratch directories of other" in text
    assert str(elsewhere) in text and "another host" in text
    assert elsewhere.exists()
    quiet = [sys.executable, "-m", "handmig", *PLAN[:4], "-q", *PLAN[6:]]
    hushed = subprocess.run(quiet, cwd=ROOT, env=env, capture_output=True, text=True)
    assert hushed.returncode == 0 and hushed.stderr == ""


def test_sigterm_in_process_gives_143_and_puts_the_handlers_back(monkeypatch, capsys):
    import gc

    from handmig import cli

    cleaned = []

    def execute(options, progress):
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            # A second signal while the first unwinds: the clean-up goes on.
            signal.raise_signal(signal.SIGINT)
            cleaned.append(True)

    def mine(signum, frame):
        raise AssertionError("handmig's handler should be in place")

    monkeypatch.setattr(cli, "setup_django", lambda *args: None)
    monkeypatch.setattr(cli, "execute", execute)
    before = signal.signal(signal.SIGTERM, mine)
    try:
        interrupt = signal.getsignal(signal.SIGINT)
        assert cli.main(["plan"]) == 143
        assert cleaned == [True]
        assert capsys.readouterr().err == "handmig: terminated; nothing was written.\n"
        assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.getsignal(signal.SIGINT) is interrupt
        with pytest.raises(SystemExit):
            cli.main(["--no-such-option"])
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)
        gc.unfreeze()


def test_a_signal_swallowed_by_a_finalizer_still_ends_the_run(monkeypatch, capsys):
    """Python ignores an exception raised in __del__ (a driver's connection
    collected as the signal came): the run must still end, writing nothing."""
    import gc

    from handmig import cli

    class Collected:
        def __del__(self):
            signal.raise_signal(signal.SIGTERM)

    def execute(options, progress):
        Collected()  # collected at once: the handler raises inside __del__
        return "the runbook"

    monkeypatch.setattr(cli, "setup_django", lambda *args: None)
    monkeypatch.setattr(cli, "execute", execute)
    try:
        assert cli.main(["plan"]) == 143
        out, err = capsys.readouterr()
        assert out == ""
        # One line: Python's report of what it could not raise is left out.
        assert err == "handmig: terminated; nothing was written.\n"
    finally:
        gc.unfreeze()


def run_and_signal(target, signum, point, burst=False):
    """Start the plan, send ``signum`` at ``point``; return (process, stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "handmig", *PLAN],
        cwd=ROOT,
        env=target.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    sent = False
    try:
        if point == "start":
            _wait_for_handlers(process)
            sent = _send(process, signum, burst)
        else:
            assert process.stderr is not None
            for line in process.stderr:
                lines.append(line)
                match = PROGRESS.match(line)
                if match and _reached(point, int(match[1]), int(match[2])):
                    sent = _send(process, signum, burst)
                    break
        assert process.stderr is not None
        lines.append(process.stderr.read())
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = "".join(lines)
    assert sent, f"the run never reached {point}: {stderr}"
    if signum in SIGNALS:
        runs = TALLY.setdefault(target.backend, [0, 0])
        runs[0] += 1
        runs[1] += bool(_leftovers(target, process.pid))
    return process, stderr


def _reached(point, done, total):
    wanted = {"first": 1, "tenth": 10, "last": total}[point]
    return done == wanted


def _send(process, signum, burst):
    process.send_signal(signum)
    # More of the same while it unwinds, as from someone pressing Ctrl-C
    # again and again.
    deadline = time.monotonic() + 10
    while burst and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
    return True


def _wait_for_handlers(process):
    """Wait until handmig's own SIGTERM handler is in place."""
    status = Path(f"/proc/{process.pid}/status")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            caught = re.search(r"^SigCgt:\s*([0-9a-f]+)", status.read_text(), re.M)
        except OSError:
            caught = None
        if caught is None:
            # No /proc: by now Python has long reached handmig's main().
            time.sleep(0.5)
            return
        if int(caught[1], 16) & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.001)
    raise AssertionError("handmig never put its SIGTERM handler in place")


def _assert_clean_exit(target, process, stderr, signum, burst=False):
    code, message = SIGNALS[signum]
    returncode = process.returncode
    if burst and returncode == -signum:
        # One of the burst came after main() had returned and put Python's
        # own handlers back: the process ended by the signal, which a shell
        # reports as 128 + n all the same.
        returncode = 128 + signum
    assert returncode == code, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert _said(stderr) == [message]
    assert _leftovers(target, process.pid) == []


def _said(stderr):
    """Return the lines of ``stderr`` that are neither progress nor a warning.

    Runs sharing the server (other tests, other checkouts) can have scratch
    databases of their own there, which the warning lists.
    """
    return [
        line
        for line in stderr.splitlines()
        if not PROGRESS.match(line) and not line.startswith("handmig: warning: ")
    ]


def _leftovers(target, pid):
    """Return the scratch databases (directories on SQLite) run ``pid`` left."""
    if target.backend == "sqlite":
        # The directory is the run's own: anything in it is left over.
        return sorted(path.name for path in target.tmpdir.iterdir())
    from handmig.shadow import host_tag

    mine = f"handmig_shadow_{host_tag()}_{pid}_"
    return [name for name in _server_names(target.backend) if name.startswith(mine)]


def _server_names(backend):
    """Return the names of the server's databases that start with handmig."""
    if backend == "postgresql":
        sql = "SELECT datname FROM pg_database WHERE datname LIKE 'handmig%'"
    else:
        sql = (
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
            "WHERE SCHEMA_NAME LIKE 'handmig%'"
        )
    rows = server_rows(backend, sql)
    return sorted(row[0] for row in rows)


def _server_execute(connection, sql):
    with connection._nodb_cursor() as cursor:
        cursor.execute(sql)


def _on_drop(monkeypatch, connection, what, once=False, finished=None):
    """Make DROP DATABASE on ``connection``'s server raise ``what``, or signal.

    ``what`` a signal number: the process sends it to itself, then the DROP
    runs, and ``finished`` gets the statement when it has.
    """
    original = connection._nodb_cursor
    fired = []

    @contextlib.contextmanager
    def nodb_cursor():
        with original() as cursor:
            execute = cursor.execute

            def guarded(sql, params=None):
                if not sql.startswith("DROP DATABASE") or (once and fired):
                    return execute(sql, params)
                fired.append(sql)
                if isinstance(what, BaseException):
                    raise what
                os.kill(os.getpid(), what)
                result = execute(sql, params)
                finished.append(sql)
                return result

            cursor.execute = guarded
            yield cursor

    monkeypatch.setattr(connection, "_nodb_cursor", nodb_cursor)


def _dead_pid():
    """Return the pid of a process that has ended."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return ended.pid


@pytest.mark.parametrize("backend", selected_backends())
def test_a_clean_up_cut_short_is_finished_on_the_way_out(
    backends, backend, monkeypatch
):
    """A signal can land as a clean-up's finally begins, before it holds
    signals, and end it there: the CLI finishes the clean-up on its way out."""
    from django.db import connections

    from handmig import cli, shadow

    class CutShort(BaseException):
        """Ends the finally where it stands, as that signal would."""

    def cut_short(*args, **kwargs):
        raise CutShort

    connection = connections[f"{backend}_scratch"]
    # What tests before this one left there (failed drops they then undid).
    shadow._PENDING.clear()
    with pytest.raises(CutShort):
        with shadow.shadow(connection) as (wrapper, _):
            made = str(wrapper.settings_dict["NAME"])
            monkeypatch.setattr(shadow, "_run_held", cut_short)
    monkeypatch.undo()
    assert list(shadow._PENDING) == [
        os.path.dirname(made) if backend == "sqlite" else made
    ]
    assert cli._finish_clean_up() == []
    assert shadow._PENDING == {}
    if backend == "sqlite":
        assert not os.path.exists(os.path.dirname(made))
    else:
        assert made not in _server_names(backend)
    connection.close()


def test_a_signal_python_cannot_raise_is_not_printed_as_a_traceback():
    from types import SimpleNamespace

    from handmig import cli

    passed_on = []
    for error in (KeyboardInterrupt(), ValueError("a real bug")):
        cli._quiet_interruptions(passed_on.append, SimpleNamespace(exc_value=error))
    assert [type(u.exc_value) for u in passed_on] == [ValueError]
