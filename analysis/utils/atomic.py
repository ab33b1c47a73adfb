"""Crash-safe writing: atomic files, atomic folder swaps and a run lock.

Every output of si-survey is written so that an interrupted run (Ctrl-C,
SIGTERM, power cut) leaves the previous outputs exactly as they were:

* a single file is written to a temporary name in the same folder, flushed to
  disk, then renamed over the target (:func:`atomic_write_bytes`,
  :func:`atomic_path`);
* a whole output folder (``data/processed/``, ``reports/``) is built in a
  staging folder next to it and swapped in with two renames
  (:func:`staged_directory`); a run that dies between the two renames is
  repaired by the next one (:func:`recover_directory`);
* two runs on the same folder are kept apart by an exclusive lock
  (:class:`RunLock`), with a clear message for the second one.

A process forked by a run dies with the run: :mod:`analysis.utils.forking`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from analysis.errors import SiSurveyError

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "staged_directory",
    "recover_directory",
    "RunLock",
    "LockedError",
    "sha256_file",
]


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Return the SHA-256 hex digest of a file, read in chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    Use it with writers that want a file name (``DataFrame.to_parquet``,
    ``Document.save``, ``Figure.savefig``). On an exception the temporary file
    is removed and ``target`` is left untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> target.read_text()
    'hello'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    sfx = suffix if suffix is not None else target.suffix
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{sfx}", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the target path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically (UTF-8, ``\\n`` line ends) and return the path."""
    return atomic_write_bytes(target, text.encode(encoding))


def _backup_name(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.previous"


def recover_directory(folder: str | os.PathLike) -> None:
    """Repair ``folder`` after a run that died in the middle of a folder swap.

    If ``folder`` is missing but its backup exists, the backup is put back;
    leftover staging folders of dead runs are removed.
    """
    folder = Path(folder)
    backup = _backup_name(folder)
    if not folder.exists() and backup.exists():
        os.replace(backup, folder)
    elif backup.exists():
        shutil.rmtree(backup, ignore_errors=True)
    if folder.parent.exists():
        for stale in folder.parent.glob(f".{folder.name}.staging-*"):
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staged_directory(folder: str | os.PathLike, keep: tuple[str, ...] = (".gitkeep",)) -> Iterator[Path]:
    """Build the new content of ``folder`` in a staging folder, then swap it in.

    Files of the old folder whose names are in ``keep`` are carried over. On
    an exception the staging folder is removed and ``folder`` is untouched.
    The caller must hold a :class:`RunLock` on the folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "reports"
    >>> with staged_directory(out) as stage:
    ...     _ = (stage / "table.md").write_text("| a |")
    >>> sorted(p.name for p in out.iterdir())
    ['table.md']
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(folder)
    stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.staging-", dir=folder.parent))
    try:
        if folder.exists():
            for name in keep:
                if (folder / name).exists():
                    shutil.copy2(folder / name, stage / name)
        yield stage
        backup = _backup_name(folder)
        if folder.exists():
            os.replace(folder, backup)
        os.replace(stage, folder)
        _fsync_dir(folder.parent)
        shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


class LockedError(SiSurveyError):
    """Another si-survey run holds the lock on the same output folder."""

    exit_code = 75


class RunLock:
    """An exclusive, non-blocking lock on an output folder (``fcntl.flock``).

    The lock file ``.si-survey.lock`` lives next to the folder and records the
    process id of the holder. The operating system releases the lock when the
    process dies, so a killed run never leaves a stale lock behind.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "processed"
    >>> with RunLock(out):
    ...     pass
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder.parent / f".{self.folder.name}.si-survey.lock"
        self._fh = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise LockedError(
                f"another si-survey run (process {holder}) is writing to '{self.folder}'; "
                "wait for it to finish, then run again"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        recover_directory(self.folder)
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
