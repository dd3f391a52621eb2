"""A parse cache for hand-written YAML repositories: re-validating after one file changed
reads every file but parses and schema-checks only the changed one.

An entry holds what parsing and the per-document schema check made of one file: the
document's value, its positions, and the problems found (without the file name, which is
the reader's). It is keyed by the SHA-256 of the file's bytes together with everything
else that decides the result: factkit's version, a digest of the schemas folder, the
file's role and suffix, and the limits. An entry is never trusted across schema or
toolkit versions, because they are part of its key.

Entries are JSON, never pickle, so reading one cannot run code. They are also signed
(HMAC-SHA256) with a random key kept outside any repository (in the user's cache folder),
so an entry that arrives with a pull request, or was edited by hand, does not verify and
counts as a miss, as does anything unreadable or malformed. The cache lives in
`.factkit-cache/` next to the data folder (ignored by git; $FACTKIT_CACHE_DIR moves it);
`--no-cache` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

from toolkit.codes import CODES
from toolkit.parsers.base import Document, Limits, Role
from toolkit.parsers.locate import DictLocator
from toolkit.problems import Problem

CACHE_DIR = ".factkit-cache"
FORMAT = 2
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

    def _path(self, root: Path, key: str) -> Path:
        return self.location(root) / key[:2] / f"{key}.json"

    def load(
        self, key: str, root: Path, file: str, path: Path, role: Role
    ) -> tuple[list[Document], list[Problem], list[list[Problem]]] | None:
        """(documents, parse problems, schema problems per document), or None on a miss."""
        found = self._read(self._path(root, key), key)
        if found is None:
            self.misses += 1
            return None
        try:
            documents = [
                Document(
                    file,
                    path,
                    role,
                    d["value"],
                    _Positions(_str(d["positions"])),
                    _int(d["line"]),
                    root,
                )
                for d in _list(found["documents"])
            ]
            problems = [_problem(p, file) for p in _list(found["problems"])]
            schema = [[_problem(p, file) for p in _list(ps)] for ps in _list(found["schema"])]
        except (KeyError, TypeError, ValueError):
            self.misses += 1
            return None
        if len(schema) != len(documents):
            self.misses += 1
            return None
        self.hits += 1
        return documents, problems, schema

    def _read(self, path: Path, key: str) -> dict[str, Any] | None:
        signer = self._signer()
        if signer is None:
            return None
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        signature, _, body = raw.partition(b"\n")
        expected = hmac.new(signer, body, hashlib.sha256).hexdigest().encode("ascii")
        if not hmac.compare_digest(signature, expected):
            return None
        try:
            value = json.loads(body)
        except ValueError:
            return None
        if type(value) is not dict or value.get("key") != key or value.get("format") != FORMAT:
            return None
        return value

    def store(
        self,
        key: str,
        root: Path,
        documents: list[Document],
        problems: list[Problem],
        schema: list[list[Problem]],
    ) -> None:
        """Write an entry; a cache that cannot be written is simply not used."""
        signer = self._signer()
        if signer is None:
            return
        entries = []
        for doc in documents:
            locator = doc.locator
            if not isinstance(locator, DictLocator):
                return  # only YAML positions are kept
            # positions as a JSON text inside the entry: decoded only if a problem asks
            positions = json.dumps([locator.values, locator.keys], separators=(",", ":"))
            entries.append({"value": doc.value, "positions": positions, "line": doc.line})
        value = {
            "format": FORMAT,
            "key": key,
            "documents": entries,
            "problems": [_problem_dict(p) for p in problems],
            "schema": [[_problem_dict(p) for p in ps] for ps in schema],
        }
        try:
            body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a YAML escape: write it escaped
            body = json.dumps(value, separators=(",", ":")).encode("ascii")
        except (TypeError, ValueError):
            return
        signature = hmac.new(signer, body, hashlib.sha256).hexdigest().encode("ascii")
        target = self._path(root, key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(signature + b"\n" + body)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            return
        self.writes += 1


class _Positions:
    """A DictLocator read from its JSON text on first use (most documents never need it)."""

    __slots__ = ("_locator", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._locator: DictLocator | None = None

    def locate(self, pointer: str, *, key: bool = False) -> tuple[int, int] | None:
        if self._locator is None:
            try:
                values, keys = json.loads(self._text)
                self._locator = DictLocator(_positions(values), _positions(keys))
            except (TypeError, ValueError):
                return None
        return self._locator.locate(pointer, key=key)


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


def _positions(value: Any) -> dict[str, int]:
    if type(value) is not dict or not all(type(v) is int for v in value.values()):
        raise TypeError("not positions")
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
