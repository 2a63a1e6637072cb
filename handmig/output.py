"""Write a rendered runbook to a file all at once, or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from handmig.errors import OutputFailed


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A reader never sees half a runbook, and a failure leaves nothing behind.
    """
    target = Path(path)
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
        # mkstemp creates the file private; give it the mode open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException as exc:
        with _ignored():
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise OutputFailed(_message(path, exc)) from None
        raise


def _message(path: str, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return f"Cannot write {path}: {reason}; choose a writable path with -o."


class _ignored:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return exc_info[0] is not None and issubclass(exc_info[0], OSError)
