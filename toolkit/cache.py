"""A parse cache for hand-written YAML repositories: re-validating after one file changed
reads every file but parses and schema-checks only the changed one.

An entry holds what parsing and the per-document schema check made of one file: the
document's value and the problems found (without the file name, which is the reader's).
It is keyed by the SHA-256 of the file's bytes together with everything else that decides
the result: factkit's version, a digest of the schemas folder, the file's role and suffix,
and the limits. An entry is never trusted across schema or toolkit versions, because they
are part of its key. It keeps no positions: a document read from the cache finds them,
when a problem first asks for one, by parsing the file's bytes (those the key was made
from) again.

The entries of a cache folder are the lines of one file, `entries.pack`, so a warm run
reads one file instead of thousands, and a cold run appends to it instead of creating
thousands of files. A line is

    signature TAB key TAB file TAB entry

where `file` is the absolute path (a JSON string) of the file the entry was made for, the
entry is JSON (never pickle, so reading one cannot run code) and the signature is an
HMAC-SHA256 over the rest of the line with a random key kept outside any repository (in
the user's cache folder). A line is verified when the pack is read and again when its
entry is used: one that arrives with a pull request, was edited by hand or was torn by a
run killed while writing it does not verify and is a miss, as is anything unreadable or
malformed. New entries are appended, one write per line; a line is dead once it does not
verify or a later line replaces it (the same key, or the same file changed since), and
when dead lines make up half the pack it is rewritten without them (and without the
entries of files that no longer exist). A pack that is a link is neither read nor written.

The cache lives in `.factkit-cache/` next to the data folder (ignored by git;
$FACTKIT_CACHE_DIR moves it); `--no-cache` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import mmap
import os
import secrets
import stat
import tempfile
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

from toolkit.codes import CODES
from toolkit.parsers.base import Document, Limits, Role
from toolkit.parsers.yaml_parser import YamlPositions
from toolkit.problems import Problem

CACHE_DIR = ".factkit-cache"
PACK = "entries.pack"
FORMAT = 3
# A pack larger than this is not read (nor appended to) but started again: it did not
# come from factkit, which keeps it near the size of one entry per file.
MAX_PACK_BYTES = 4 * 1024**3
# Past these a pack is not factkit's either: the rest of it is dead (and rewritten away).
_MAX_LINES = 4_000_000  # two per entry (an entry starts on a line of its own)
_MAX_LINE_BYTES = 256 * 1024 * 1024  # the entry of a file at the 32 MB limit is far less
_COMPACT_AT = 1024 * 1024  # dead bytes that are worth a rewrite (and half the pack)
_SEVERITIES = ("error", "warning")
_PROBLEM_KEYS = frozenset(("code", "message", "line", "column", "pointer", "hint", "severity"))


def _toolkit_version() -> str:
    import toolkit

    return str(getattr(toolkit, "__version__", "0+unknown"))


@cache
def schemas_digest(folder: Path | None = None) -> str:
    """SHA-256 over every file of the schemas folder (names and bytes)."""
    from toolkit.model.schemas import schema_dir

    base = folder or schema_dir()
    digest = hashlib.sha256()
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        digest.update(path.relative_to(base).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _key_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "factkit" / "cache-key"


def _signing_key() -> bytes | None:
    """This user's key for signing entries, created on first use; None when it cannot be."""
    path = _key_file()
    try:
        key = path.read_bytes()
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
            key = path.read_bytes()
        except OSError:
            return None
        return key if len(key) >= 32 else None
    except OSError:
        return None


class _Pack:
    """The lines of one `entries.pack` that verify, by key: mapped, not read into memory.
    A line is verified when the pack is read and again when it is used, so a pack that
    did not come from this user's factkit costs one pass over it and is then rewritten."""

    def __init__(self, path: Path, signer: bytes) -> None:
        self.path = path
        self.signer = signer
        self.index: dict[bytes, tuple[int, int]] = {}  # key -> (start, end) of its line
        self.data: mmap.mmap | bytes = b""
        self.handle: Any = None  # the pack opened for appending, once something is stored
        self.usable = True
        self._open()

    def _open(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return
        except OSError:
            self.usable = False
            return
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                self.usable = False
                return
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
            self._compact()

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

    def _compact(self) -> None:
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
        try:
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(body)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
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
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
                fd = os.open(self.path, flags, 0o600)
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    os.close(fd)
                    raise OSError("not a regular file")
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


class ParseCache:
    """Entries under `folder`, or, with no folder, in `.factkit-cache/` beside each data
    folder. `hits`, `misses` and `writes` count what a run did."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._key: bytes | bool | None = False  # False: not read yet
        self._common: tuple[tuple[str, str, Limits], str] | None = None
        self._packs: dict[Path, _Pack] = {}
        # id(root) -> (root, $FACTKIT_CACHE_DIR, its pack): found once per data folder
        self._roots: dict[int, tuple[Path, str | None, _Pack]] = {}

    def _signer(self) -> bytes | None:
        if self._key is False:
            self._key = _signing_key()
        return self._key if isinstance(self._key, bytes) else None

    def location(self, root: Path) -> Path:
        """Where entries for the data folder `root` go: the cache's own folder, else
        $FACTKIT_CACHE_DIR, else `.factkit-cache/` beside the data folder."""
        if self.folder is not None:
            return self.folder
        override = os.environ.get("FACTKIT_CACHE_DIR")
        if override:
            return Path(override)
        return root.absolute().parent / CACHE_DIR

    def key(self, data: bytes, suffix: str, role: Role, limits: Limits) -> str:
        """What decides a file's result, as one digest."""
        common = (_toolkit_version(), schemas_digest(), limits)
        if self._common is None or self._common[0] != common:
            parts = {
                "format": FORMAT,
                "toolkit": common[0],
                "schemas": common[1],
                "limits": asdict(limits),
            }
            self._common = (common, json.dumps(parts, sort_keys=True, separators=(",", ":")))
        digest = hashlib.sha256(self._common[1].encode("utf-8"))
        digest.update(f"\0{suffix.lower()}\0{role}\0".encode())
        digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()

    def _pack(self, root: Path) -> _Pack | None:
        override = os.environ.get("FACTKIT_CACHE_DIR")
        found = self._roots.get(id(root))
        if found is not None and found[0] is root and found[1] == override:
            return found[2]
        signer = self._signer()
        if signer is None:
            return None
        where = self.location(root) / PACK
        pack = self._packs.get(where)
        if pack is None:
            pack = self._packs[where] = _Pack(where, signer)
        self._roots[id(root)] = (root, override, pack)  # a folder's files share its root
        return pack

    def load(
        self,
        key: str,
        root: Path,
        file: str,
        path: Path,
        role: Role,
        *,
        data: bytes = b"",
        limits: Limits | None = None,
    ) -> tuple[list[Document], list[Problem], list[list[Problem]]] | None:
        """(documents, parse problems, schema problems per document), or None on a miss.

        `data` is the file's bytes the key was made from: a document's positions are found
        in them when a problem asks (parsed with `limits`, the key's)."""
        entry = self._read(root, key)
        if entry is None:
            self.misses += 1
            return None
        limits = limits or Limits()
        try:
            documents = [
                Document(
                    file,
                    path,
                    role,
                    d["value"],
                    YamlPositions(data, limits),
                    _int(d["line"]),
                    root,
                )
                for d in _list(entry["documents"])
            ]
            problems = [_problem(p, file) for p in _list(entry["problems"])]
            schema = [[_problem(p, file) for p in _list(ps)] for ps in _list(entry["schema"])]
        except (KeyError, TypeError, ValueError):
            self.misses += 1
            return None
        if len(schema) != len(documents):
            self.misses += 1
            return None
        self.hits += 1
        return documents, problems, schema

    def _read(self, root: Path, key: str) -> dict[str, Any] | None:
        pack = self._pack(root)
        if pack is None:
            return None
        body = pack.line(key.encode("ascii"))
        if body is None:
            return None
        fields = body.split(b"\t")
        if len(fields) != 3 or fields[0] != key.encode("ascii"):
            return None
        try:
            value = json.loads(fields[2])
        except ValueError:
            return None
        return value if type(value) is dict else None

    def store(
        self,
        key: str,
        root: Path,
        documents: list[Document],
        problems: list[Problem],
        schema: list[list[Problem]],
        *,
        path: Path | None = None,
    ) -> None:
        """Add an entry for the file at `path`, replacing the one it had; a cache that
        cannot be written is simply not used."""
        pack = self._pack(root)
        if pack is None:
            return
        value = {
            "documents": [{"value": doc.value, "line": doc.line} for doc in documents],
            "problems": [_problem_dict(p) for p in problems],
            "schema": [[_problem_dict(p) for p in ps] for ps in schema],
        }
        file = os.path.abspath(path if path is not None else key)
        try:
            try:
                body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
            except UnicodeEncodeError:  # a lone surrogate from a YAML escape: write it escaped
                body = json.dumps(value, separators=(",", ":")).encode("ascii")
        except (TypeError, ValueError):
            return
        line = b"\t".join((key.encode("ascii"), json.dumps(file).encode("ascii"), body))
        signature = hmac.digest(pack.signer, line, "sha256").hex().encode("ascii")
        if pack.append(signature + b"\t" + line):
            self.writes += 1

    def close(self) -> None:
        """Close the packs opened for appending (also done when the cache is collected)."""
        for pack in self._packs.values():
            pack.close()


def _problem_dict(p: Problem) -> dict[str, Any]:
    return {
        "code": p.code,
        "message": p.message,
        "line": p.line,
        "column": p.column,
        "pointer": p.pointer,
        "hint": p.hint,
        "severity": p.severity,
    }


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise TypeError("not a list")
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _str(value: Any) -> str:
    if type(value) is not str:
        raise TypeError("not a string")
    return value


def _problem(value: Any, file: str) -> Problem:
    if type(value) is not dict or value.keys() != _PROBLEM_KEYS:
        raise TypeError("not a problem")
    code = _str(value["code"])
    severity = value["severity"]
    if code not in CODES or severity not in _SEVERITIES:
        raise ValueError("unknown code or severity")
    hint = value["hint"]
    return Problem(
        code=code,
        message=_str(value["message"]),
        file=file,
        line=_opt_int(value["line"]),
        column=_opt_int(value["column"]),
        pointer=_str(value["pointer"]),
        hint=None if hint is None else _str(hint),
        severity=severity,
    )
