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
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from toolkit.errors import ExportError, UsageError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_EXPORT_SUFFIXES = (".parquet", ".csv", ".sqlite")
_EXPORT_NAMES = ("datapackage.json", "metadata.json")


class Staging:
    """The folder a new export is written into; every file is synced before it counts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: list[str] = []

    def write(self, name: str, fill: Callable[[BinaryIO], None]) -> Path:
        """Create file `name`, let `fill` write it, then flush and fsync it."""
        target = self.path / name
        with open(target, "xb") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        self.files.append(name)
        return target

    def write_bytes(self, name: str, data: bytes) -> Path:
        def fill(handle: BinaryIO) -> None:
            handle.write(data)

        return self.write(name, fill)


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


def _looks_like_export(path: Path) -> bool:
    """Only a folder of export files may be replaced, never someone's own folder."""
    names = [entry.name for entry in os.scandir(path)]
    return all(n.endswith(_EXPORT_SUFFIXES) or n in _EXPORT_NAMES for n in names)


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
    if target.is_dir() and not _looks_like_export(target):
        raise UsageError(
            f"{target}: holds files that are not part of an export; refusing to replace it"
        )


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
            yield Staging(staging)
            _fsync_dir(staging)
            _swap(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        os.close(lock)  # closing releases the lock
