"""Replace an export folder as a whole: readers see the old export or the new one, never a mix.

Files are written into a fresh hidden folder beside the target (same filesystem,
so renames are atomic), each one fsynced. On success the new folder is swapped
in: with one `renameat2(RENAME_EXCHANGE)` where Linux offers it, else by renaming
the old folder aside, the new one in, and deleting the old one. An exception
removes the staging folder and leaves the target as it was; a process killed
mid-way leaves only hidden leftovers, which the next export (holding the lock)
cleans up or, if the kill fell between the two renames, restores.

Concurrent exports into one folder take an exclusive `flock` on a lock file
beside it, so they run one after the other and the result is always one
complete export.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from toolkit.errors import ExportError, UsageError
from toolkit.export.target import MARKER, check_target, marker_bytes

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class Staging:
    """The folder a new export is written into; every file is synced before it counts.
    Files may be written from two threads at once (a table's Parquet and its CSV)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: list[str] = []
        self.folders: set[str] = set()  # sub-folders (a partitioned table's), synced at the end
        self._lock = threading.Lock()  # over `files` and `folders`

    def write(self, name: str, fill: Callable[[BinaryIO], None]) -> Path:
        """Create file `name` (a path inside the folder, '/'-separated), let `fill` write
        it, then flush and fsync it."""
        target = self.path / name
        if "/" in name:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders_of(name)
        with open(target, "xb") as handle:
            try:
                fill(handle)
            except OSError:
                raise
            except Exception as exc:  # a writer that wraps the OSError it met (polars)
                found = _os_error(exc)
                if found is None:
                    raise
                raise found from exc
            handle.flush()
            os.fsync(handle.fileno())
        with self._lock:
            self.files.append(name)
        return target

    def write_bytes(self, name: str, data: bytes) -> Path:
        def fill(handle: BinaryIO) -> None:
            handle.write(data)

        return self.write(name, fill)

    def adopt(self, names: list[str]) -> None:
        """Count files another writer made (and synced) in the folder, e.g. polars' sink."""
        for name in names:
            self._folders_of(name)
        with self._lock:
            self.files += names

    def _folders_of(self, name: str) -> None:
        parts = name.split("/")[:-1]
        with self._lock:
            self.folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))

    def sync_folders(self) -> None:
        """fsync every sub-folder, deepest first, so their entries are durable."""
        for folder in sorted(self.folders, key=lambda f: (-f.count("/"), f)):
            _fsync_dir(self.path / folder)


_ERRNO = re.compile(r"\[Errno (\d+)\]|\(os error (\d+)\)")


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError behind a writer's own exception ('… IO error: [Errno 28] No space left
    on device'), so a full disk is reported as one and not as an internal error."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    m = _ERRNO.search(str(exc))
    if m is None:
        return None
    code = int(m.group(1) or m.group(2))
    return OSError(code, os.strerror(code))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the system cannot."""
    libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter runs on
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), os.fspath(b))


def _leftovers(parent: Path, name: str, kind: str) -> list[Path]:
    return sorted(parent.glob(f".{name}.{kind}-*"))


def _recover(target: Path) -> None:
    """Undo what a killed export left behind; runs under the lock."""
    parent, name = target.parent, target.name
    old = _leftovers(parent, name, "old")
    if not os.path.lexists(target) and old:
        # Killed between the two renames: the previous export returns.
        latest = max(old, key=lambda p: p.stat().st_mtime_ns)
        os.rename(latest, target)
        old.remove(latest)
    for path in [*old, *_leftovers(parent, name, "tmp")]:
        shutil.rmtree(path, ignore_errors=True)


def _swap(staging: Path, target: Path) -> None:
    parent = target.parent
    if not os.path.lexists(target):
        os.rename(staging, target)
    elif _exchange(staging, target):
        shutil.rmtree(staging)  # now holds the previous export
    else:
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
        os.rename(target, aside)  # replaces the empty placeholder folder
        os.rename(staging, target)
        _fsync_dir(parent)
        shutil.rmtree(aside)
    _fsync_dir(parent)


def _check_target(target: Path) -> None:
    if target.is_symlink():
        raise UsageError(f"{target}: is a symbolic link; give the real folder as --out")
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: exists and is not a folder")
    check_target(target)


@contextlib.contextmanager
def replace_folder(out: str | os.PathLike[str]) -> Iterator[Staging]:
    """Yield a Staging folder; on normal exit it becomes `out`, on error `out` is untouched."""
    target = Path(os.path.abspath(out))
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(parent / f".{target.name}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise ExportError(f"cannot prepare {parent}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _recover(target)
        _check_target(target)
        staging = parent / f".{target.name}.tmp-{secrets.token_hex(8)}"
        os.mkdir(staging)  # the usual umask-based mode, unlike mkdtemp's 0700
        try:
            written = Staging(staging)
            yield written
            written.write_bytes(MARKER, marker_bytes(written.files))
            written.sync_folders()
            _fsync_dir(staging)
            _swap(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except OSError as exc:
        why = exc.strerror or str(exc)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            why = f"the disk that holds {parent} is full ({why})"
        raise ExportError(f"cannot write {target}: {why}") from exc
    finally:
        os.close(lock)  # closing releases the lock
