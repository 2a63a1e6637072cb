"""Write a rendered runbook to a file all at once, or not at all."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from handmig.errors import OutputFailed

# What a path can be besides a regular file, as the refusal names it.
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A reader never sees half a runbook, and a failure leaves nothing behind.
    Only a regular file is replaced: a device, FIFO, socket or directory is
    refused before anything is written, and a symbolic link stays a link to
    the file that gets the runbook.
    """
    target, existing = _destination(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise OutputFailed(_message(path, exc)) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        _copy_ownership(temporary, existing)
        os.replace(temporary, target)
    except BaseException as exc:
        with _ignored():
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise OutputFailed(_message(path, exc)) from None
        raise


def _destination(path: str) -> tuple[Path, os.stat_result | None]:
    """Return the file to replace for ``path`` and its status, if it exists."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        status = None
    except OSError as exc:
        # A loop of links, or a file where a directory should be.
        raise OutputFailed(_message(path, exc)) from None
    if status is not None:
        for test, kind in _KINDS:
            if test(status.st_mode):
                raise OutputFailed(
                    f"{path} is {kind}, not a regular file; choose a file path with -o."
                )
    if not os.path.islink(path):
        return Path(path), status
    # Replacing the link itself would turn it into a file of its own.
    target = Path(os.path.realpath(path))
    if status is None and not target.parent.is_dir():
        raise OutputFailed(
            f"{path} is a symbolic link to {target}, whose directory does not "
            "exist; create it or choose another path with -o."
        )
    return target, status


def _copy_ownership(temporary: str, existing: os.stat_result | None) -> None:
    """Give the new file the mode (and owner) of the one it replaces."""
    if existing is None:
        # mkstemp creates the file private; give it the mode open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        return
    mine = os.stat(temporary)
    if (mine.st_uid, mine.st_gid) != (existing.st_uid, existing.st_gid):
        # Only root (or a member of the group) may; a file owned by whoever
        # ran handmig is the next best thing.
        with _ignored():
            os.chown(temporary, existing.st_uid, existing.st_gid)
    # After chown, which clears the set-id bits.
    os.chmod(temporary, stat.S_IMODE(existing.st_mode))


def _message(path: str, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return f"Cannot write {path}: {reason}; choose a writable path with -o."


class _ignored:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return exc_info[0] is not None and issubclass(exc_info[0], OSError)
