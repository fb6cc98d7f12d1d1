"""Output files of ``export`` and ``report --html``: written so that what the path is stays what it was.

A regular file (or a missing one) is written to a temporary file beside it and renamed into place
only on success, so an interrupted or failed write never leaves half a file; the file keeps its
mode and owner. A path that is not a regular file (a FIFO, ``/dev/null``, ``/dev/stdout``, a
terminal) is written straight into: renaming over it replaced a device node with a world-readable
file holding the export. A symlink is followed to its target, which is then written as above. ``-``
is standard output.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dipwatch.core.errors import BadValueError

STDOUT = "-"


class OutputError(BadValueError):
    """An output that cannot be written; the message names the path and why (exit code 2)."""


@contextmanager
def atomic_output(path: Path | str, binary: bool = False) -> Iterator:
    """A file object to write ``path`` through (text: UTF-8 with no newline translation).

    :param path: the output; ``-`` for standard output.
    :param binary: a binary file object instead of text.
    :raises OutputError: when ``path`` cannot be written (a missing folder, no permission, the disk
        full): nothing is left at ``path`` but what was there before, unless it is not a regular file.
    """
    if str(path) == STDOUT:
        yield sys.stdout.buffer if binary else sys.stdout
        return
    path = Path(path)
    try:
        status = path.stat()  # follows a symlink: what its target is
    except FileNotFoundError:
        status = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None
    if status is not None and not stat.S_ISREG(status.st_mode):
        if stat.S_ISDIR(status.st_mode):
            raise OutputError(f"{path}: is a directory; expected a file name")
        with _failures(path), open(path, "wb" if binary else "w", **_text_options(binary)) as fh:
            yield fh
        return
    # A symlink (even one whose target does not exist yet) is replaced by nothing: its target is.
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    yield from _replace(target, status, binary, shown=path)


def _replace(target: Path, status: os.stat_result | None, binary: bool, shown: Path) -> Iterator:
    """Write a temporary file beside ``target``, give it ``status``'s mode and owner (or the usual
    mode of a new file), and rename it over ``target`` once written and flushed to disk."""
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"{shown}: the folder {folder} does not exist")
    with _failures(shown):
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    try:
        with _failures(shown):
            _take_over(fd, status, shown)
            with os.fdopen(fd, "wb" if binary else "w", **_text_options(binary)) as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())  # on disk before the rename makes it the file
            os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _take_over(fd: int, status: os.stat_result | None, shown: Path) -> None:
    """Give the temporary file the mode and owner the file it replaces has (mkstemp makes it 0600
    and ours); a new file gets 0666 less the umask, as any program's would."""
    if status is None:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        return
    if (status.st_uid, status.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.fchown(fd, status.st_uid, status.st_gid)
        except PermissionError:
            raise OutputError(f"{shown}: owned by user {status.st_uid}, group {status.st_gid}; replacing it "
                              "would make it ours: write it as its owner, or to another path") from None
    os.fchmod(fd, stat.S_IMODE(status.st_mode))


def _text_options(binary: bool) -> dict:
    """UTF-8 and no newline translation (the CSV writer ends its rows itself); nothing for bytes."""
    return {} if binary else {"newline": "", "encoding": "utf-8"}


@contextmanager
def _failures(shown: Path) -> Iterator[None]:
    """Turn a failed write (no space left, read-only file system, no permission) into one line."""
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise OutputError(f"{shown}: cannot write: {exc.strerror or exc}") from None
