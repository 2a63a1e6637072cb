"""Writing the runbook with -o: regular files only, replaced whole.

A device, FIFO, socket or directory at the path is refused before anything
is written; a symbolic link keeps pointing at the file that gets the
runbook; an existing file keeps its mode.
"""

import contextlib
import os
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from handmig import output
from handmig.errors import OutputFailed

ROOT = Path(__file__).resolve().parent.parent


def _leftovers(directory):
    return sorted(p.name for p in Path(directory).iterdir() if p.name.endswith(".tmp"))


@contextlib.contextmanager
def _umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_new_file_gets_the_mode_open_would_give(tmp_path):
    target = tmp_path / "runbook.md"
    with _umask(0o022):
        output.write_atomically(str(target), "one\n")
    assert target.read_text() == "one\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("mode", [0o600, 0o640])
def test_existing_file_keeps_its_mode(tmp_path, mode):
    target = tmp_path / "runbook.md"
    target.write_text("old\n")
    target.chmod(mode)
    with _umask(0o022):
        output.write_atomically(str(target), "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert _leftovers(tmp_path) == []


def test_existing_file_keeps_its_group_when_allowed(tmp_path):
    target = tmp_path / "runbook.md"
    target.write_text("old\n")
    groups = [g for g in os.getgroups() if g != target.stat().st_gid]
    if os.geteuid() != 0 and not groups:
        pytest.skip("no second group to give the file")
    group = groups[0] if groups else 1
    os.chown(target, -1, group)
    output.write_atomically(str(target), "new\n")
    assert target.stat().st_gid == group


def test_symlink_to_a_file_stays_a_link(tmp_path):
    real = tmp_path / "real.md"
    real.write_text("old\n")
    real.chmod(0o600)
    link = tmp_path / "link.md"
    link.symlink_to(real)
    output.write_atomically(str(link), "new\n")
    assert link.is_symlink() and link.readlink() == real
    assert real.read_text() == "new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert _leftovers(tmp_path) == []


def test_symlink_chain_replaces_the_last_file(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    real = elsewhere / "real.md"
    real.write_text("old\n")
    middle = tmp_path / "middle.md"
    middle.symlink_to(real)
    first = tmp_path / "first.md"
    # A relative link resolves from its own directory, not the working one.
    first.symlink_to("middle.md")
    output.write_atomically(str(first), "new\n")
    assert first.is_symlink() and middle.is_symlink()
    assert real.read_text() == "new\n"
    # The temporary file lived next to the target, so the rename was atomic.
    assert _leftovers(tmp_path) == [] and _leftovers(elsewhere) == []


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.md"
    link.symlink_to(tmp_path / "not-yet.md")
    output.write_atomically(str(link), "new\n")
    assert link.is_symlink()
    assert (tmp_path / "not-yet.md").read_text() == "new\n"


def test_dangling_symlink_into_a_missing_directory_is_refused(tmp_path):
    link = tmp_path / "link.md"
    link.symlink_to(tmp_path / "missing" / "out.md")
    with pytest.raises(OutputFailed, match="directory does not exist") as info:
        output.write_atomically(str(link), "new\n")
    assert "\n" not in str(info.value) and "-o" in str(info.value)
    assert link.is_symlink() and not (tmp_path / "missing").exists()
    assert _leftovers(tmp_path) == []


def test_symlink_loop_is_refused(tmp_path):
    loop = tmp_path / "loop.md"
    loop.symlink_to(loop)
    with pytest.raises(OutputFailed, match="writable path with -o"):
        output.write_atomically(str(loop), "new\n")
    assert loop.is_symlink()
    assert _leftovers(tmp_path) == []


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # A reader on the other end: a write that opened the FIFO by mistake
    # would not hang the test, it would show up as data here.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with pytest.raises(OutputFailed, match=r"is a FIFO, not a regular file"):
            output.write_atomically(str(fifo), "new\n")
        assert os.read(reader, 10) == b""
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _leftovers(tmp_path) == []


def test_character_device_is_refused(tmp_path):
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except OSError:
        pytest.skip("mknod is not permitted here; /dev/null is tested below")
    with pytest.raises(OutputFailed, match="is a character device") as info:
        output.write_atomically(str(device), "new\n")
    assert str(info.value).endswith("choose a file path with -o.")
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert _leftovers(tmp_path) == []


def test_dev_null_is_refused_before_anything_is_written(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("wrote before refusing a device")

    # Were the check missing, root could replace /dev/null: anything that
    # would write fails the test before it touches /dev.
    monkeypatch.setattr(output.tempfile, "mkstemp", forbidden)
    monkeypatch.setattr(output.os, "replace", forbidden)
    with pytest.raises(OutputFailed, match="is a character device, not a regular"):
        output.write_atomically(os.devnull, "new\n")
    assert stat.S_ISCHR(os.lstat(os.devnull).st_mode)


def test_socket_is_refused(tmp_path):
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(OutputFailed, match="is a socket"):
            output.write_atomically(str(path), "new\n")
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_directory_is_refused(tmp_path):
    directory = tmp_path / "out"
    directory.mkdir()
    with pytest.raises(OutputFailed, match="is a directory, not a regular file"):
        output.write_atomically(str(directory), "new\n")
    assert directory.is_dir() and list(directory.iterdir()) == []
    assert _leftovers(tmp_path) == []


def test_symlink_to_a_directory_is_refused(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    with pytest.raises(OutputFailed, match="is a directory"):
        output.write_atomically(str(link), "new\n")
    assert link.is_symlink()


@contextlib.contextmanager
def _unprivileged():
    """Drop root's right to write anywhere for the block (a no-op otherwise)."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def test_unwritable_directory(tmp_path):
    # Somewhere the unprivileged user can reach: tmp_path is root's alone.
    base = Path(tempfile.mkdtemp(prefix="handmig-output-"))
    try:
        base.chmod(0o755)
        locked = base / "locked"
        locked.mkdir()
        (locked / "runbook.md").write_text("old\n")
        locked.chmod(0o555)
        with _unprivileged():
            with pytest.raises(OutputFailed, match="writable path with -o"):
                output.write_atomically(str(locked / "runbook.md"), "new\n")
        assert (locked / "runbook.md").read_text() == "old\n"
        assert _leftovers(locked) == []
    finally:
        (base / "locked").chmod(0o755)
        for path in sorted(base.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        base.rmdir()


def test_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "runbook.md"
    target.write_text("old\n")

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "replace", full)
    with pytest.raises(OutputFailed, match="No space left on device"):
        output.write_atomically(str(target), "new\n")
    assert target.read_text() == "old\n"
    assert _leftovers(tmp_path) == []


def test_cli_refuses_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HANDMIG_SAMPLE_DB_NAME": str(tmp_path / "sample.sqlite3"),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    argv = [
        "--pythonpath",
        str(ROOT / "samples"),
        "--settings",
        "sampleproject.settings",
        "runbook",
        "shop",
        "0001",
        "-o",
        str(fifo),
    ]
    # main() freezes the garbage collector and configures Django: a process
    # of its own, as for the installed script.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from handmig.cli import main; sys.exit(main(sys.argv[1:]))",
            *argv,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 6, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "is a FIFO, not a regular file; choose a file path with -o" in lines[0]
    assert "Traceback" not in result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]
