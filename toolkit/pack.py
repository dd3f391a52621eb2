"""The parse cache's storage: signed lines in one append-only file, found by key.

A line is

    signature TAB key TAB file TAB entry

where `key` is the entry's key (64 hex digits), `file` the absolute path (a JSON string)
of the file the entry was made for, `entry` the caller's bytes (JSON, without a tab or a
line break), and the signature an HMAC-SHA256 over the rest of the line with a random
key kept outside any repository (in the user's cache folder, `signing_key`).

A line is verified when the pack is read and again when its entry is used: one that
arrived with a pull request, was edited by hand or was torn by a run killed while writing
it does not verify and is never used. New entries are appended, one write per line, each
on a line of its own. A line is dead once it does not verify or a later line replaces it
(the same key, or the same file changed since); when dead lines make up half the pack it
is rewritten without them (and without the entries of files that no longer exist). The
pack is read through `mmap`, so it costs no memory but its index, and reading one is
bounded (in size, lines, line length).

A cache folder can arrive in a pull request or an unpacked archive, so nothing in it is
trusted to be what its name says: the folder is opened without following a link (a
`.factkit-cache` that is a link is not used at all) and every file relative to that
handle, also without following links, and without blocking, so a FIFO, socket or device
named `entries.pack` is refused instead of hanging the run.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import mmap
import os
import secrets
import stat
from pathlib import Path
from typing import Any

# A pack larger than this is not read (nor appended to) but started again: it did not
# come from factkit, which keeps it near the size of one entry per file.
MAX_PACK_BYTES = 4 * 1024**3
# Past these a pack is not factkit's either: the rest of it is dead (and rewritten away).
_MAX_LINES = 4_000_000  # two per entry (an entry starts on a line of its own)
_MAX_LINE_BYTES = 256 * 1024 * 1024  # the entry of a file at the 32 MB limit is far less
_COMPACT_AT = 1024 * 1024  # dead bytes that are worth a rewrite (and half the pack)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def open_regular(
    path: str | Path, flags: int, mode: int = 0o600, *, dir_fd: int | None = None
) -> int:
    """A descriptor on the regular file `path`, opened without following a link or
    blocking (a FIFO would block an ordinary open forever); OSError for anything else."""
    fd = os.open(path, flags | _NOFOLLOW | _NONBLOCK, mode, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def replace_file(folder: int, name: str, body: bytes) -> None:
    """Write `body` as `name` in the folder open as `folder`: into a fresh temporary file
    first, then renamed over it, so a reader sees the old file or the new one, whole."""
    tmp = f".{secrets.token_hex(8)}.tmp"
    fd = open_regular(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, dir_fd=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=folder)
        raise


def open_folder(folder: Path, *, create: bool) -> int | None:
    """A descriptor on `folder`, never through a link; None when it does not exist and
    `create` is false. Raises OSError for a link or anything else that is not a folder."""
    flags = os.O_RDONLY | _DIRECTORY | _NOFOLLOW
    try:
        return os.open(folder, flags)
    except FileNotFoundError:
        if not create:
            return None
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    return os.open(folder, flags)


def _key_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "factkit" / "cache-key"


def signing_key() -> bytes | None:
    """This user's key for signing entries, created on first use; None when it cannot be."""
    path = _key_file()
    try:
        key = _read_key(path)
        if len(key) >= 32:
            return key
    except OSError:
        pass
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key
    except FileExistsError:  # another run made it meanwhile
        try:
            key = _read_key(path)
        except OSError:
            return None
        return key if len(key) >= 32 else None
    except OSError:
        return None


def _read_key(path: Path) -> bytes:
    fd = open_regular(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(4096)


class Pack:
    """The lines of one `entries.pack` that verify, by key: mapped, not read into memory.
    A line is verified when the pack is read and again when it is used, so a pack that
    did not come from this user's factkit costs one pass over it and is then rewritten."""

    def __init__(self, path: Path, signer: bytes) -> None:
        self.path = path
        self.name = path.name
        self.folder: int | None = None  # the cache folder, opened without following links
        self.signer = signer
        self.index: dict[bytes, tuple[int, int]] = {}  # key -> (start, end) of its line
        self.data: mmap.mmap | bytes = b""
        self.handle: Any = None  # the pack opened for appending, once something is stored
        self.usable = True
        self._open()

    def _folder(self, *, create: bool) -> int | None:
        """The cache folder's descriptor (opened once); None if missing or refused."""
        if self.folder is None and self.usable:
            try:
                self.folder = open_folder(self.path.parent, create=create)
            except OSError:  # a link, a file, no permission: the cache is not used
                self.usable = False
        return self.folder

    def _open(self) -> None:
        folder = self._folder(create=False)
        if folder is None:
            return
        try:
            fd = open_regular(self.name, os.O_RDONLY, dir_fd=folder)
        except FileNotFoundError:
            return
        except OSError:
            self.usable = False
            return
        try:
            info = os.fstat(fd)
            if info.st_size > MAX_PACK_BYTES:
                self._rewrite([])
                return
            if info.st_size:
                self.data = mmap.mmap(fd, info.st_size, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return
        finally:
            os.close(fd)
        self._scan()

    def _scan(self) -> None:
        """Index every line that verifies by its key; rewrite the pack if it is half dead.

        A line is dead when it does not verify (torn by a run killed while writing it, or
        not written by this user's factkit), when a later line has the same key, or when
        a later line is the entry of the same file (the file changed since)."""
        data, index = self.data, self.index
        files: dict[bytes, bytes] = {}  # key -> its file, as written
        latest: dict[bytes, bytes] = {}  # file -> the key of its latest entry
        size = len(data)
        dead = start = lines = 0
        while start < size:
            lines += 1
            if lines > _MAX_LINES:
                dead += size - start
                break
            end = data.find(b"\n", start)
            if end < 0:
                end = size
            body = self._verified(data[start:end]) if end - start <= _MAX_LINE_BYTES else None
            fields = body.split(b"\t", 2) if body is not None else ()
            if len(fields) != 3:
                dead += end - start + 1
                start = end + 1
                continue
            key, file = fields[0], fields[1]
            replaced = [key]  # an earlier line with the same key
            previous = latest.get(file)
            if previous is not None and files.get(previous) == file:
                replaced.append(previous)  # the file's earlier entry: it changed since
            for old in replaced:
                span = index.pop(old, None)
                if span is not None:
                    dead += span[1] - span[0] + 1
            index[key], files[key], latest[file] = (start, end), file, key
            start = end + 1
        if dead >= _COMPACT_AT and 2 * dead >= size:
            self.compact_value()

    def get(self, key: str) -> bytes | None:
        """The entry stored under `key`, verified, or None."""
        body = self.line(key.encode("ascii"))
        if body is None:
            return None
        found, _, rest = body.partition(b"\t")
        entry = rest.partition(b"\t")[2]
        return entry if found == key.encode("ascii") and entry else None

    def put(self, key: str, file: str, entry: bytes) -> bool:
        """Sign and append the entry for `file` under `key` (it replaces the file's last)."""
        if b"\t" in entry or b"\n" in entry:
            return False  # not an entry this format can hold
        line = b"\t".join((key.encode("ascii"), json.dumps(file).encode("ascii"), entry))
        signature = hmac.digest(self.signer, line, "sha256").hex().encode("ascii")
        return self.append(signature + b"\t" + line)

    def line(self, key: bytes) -> bytes | None:
        """The verified line of `key` (without its signature), or None."""
        where = self.index.get(key)
        if where is None:
            return None
        return self._verified(self.data[where[0] : where[1]])

    def _verified(self, line: bytes) -> bytes | None:
        """The line without its signature, if the signature is this user's."""
        signature, body = line[:64], line[65:]
        if line[64:65] != b"\t":
            return None
        try:
            expected = bytes.fromhex(signature.decode("ascii"))
        except ValueError:
            return None
        actual = hmac.digest(self.signer, body, "sha256")
        return body if hmac.compare_digest(actual, expected) else None

    def compact_value(self) -> None:
        """Keep the lines that verify and belong to files that still exist."""
        keep = []
        for start, end in sorted(self.index.values()):
            line = bytes(self.data[start:end])
            body = self._verified(line)
            if body is None:
                continue
            try:
                file = json.loads(body.split(b"\t", 2)[1])
            except ValueError:
                continue
            if type(file) is str and os.path.lexists(file):
                keep.append(line)
        self._rewrite(keep)

    def _rewrite(self, lines: list[bytes]) -> None:
        """Replace the pack with `lines` (atomically; the old one stays mapped meanwhile)."""
        body = b"".join(line + b"\n" for line in lines)
        folder = self._folder(create=True)
        if folder is None:
            return
        try:
            replace_file(folder, self.name, body)
        except OSError:
            self.usable = False
            return
        self.data, self.index = body, {}
        self._scan()

    def append(self, line: bytes) -> bool:
        """Add a signed line at the end of the pack, in one write."""
        if not self.usable:
            return False
        if self.handle is None:
            folder = self._folder(create=True)
            if folder is None:
                return False
            try:
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
                fd = open_regular(self.name, flags, dir_fd=folder)
                self.handle = os.fdopen(fd, "ab", buffering=0)
            except OSError:
                self.usable = False
                return False
        # a line of its own even after a torn write (a run killed mid-write)
        record = b"\n" + line + b"\n"
        try:
            written = 0
            while written < len(record):
                written += self.handle.write(record[written:])
        except OSError:
            self.usable = False
            return False
        return True

    def close(self) -> None:
        if self.handle is not None:
            with contextlib.suppress(OSError):
                self.handle.close()
            self.handle = None
        if self.folder is not None:
            with contextlib.suppress(OSError):
                os.close(self.folder)
            self.folder = None
