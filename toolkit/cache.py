"""A parse cache for hand-written YAML repositories: re-validating after one file changed
reads every file but parses and schema-checks only the changed one.

An entry holds what parsing and the per-document schema check made of one file: the
problems found (without the file name, which is the reader's) as JSON, then each document's
value as JSON text after it, decoded only when the file's flattened rows were not kept
(`toolkit.cache_frames`): a warm run parses only the small JSON in front.
It is keyed by the SHA-256 of the file's bytes together with everything else that decides
the result: factkit's version, a digest of the schemas folder, the file's role and suffix,
and the limits. An entry is never trusted across schema or toolkit versions, because they
are part of its key. It keeps no positions: a document read from the cache finds them,
when a problem first asks for one, by parsing the file's bytes (those the key was made
from) again.

The entries of a cache folder are the lines of one file, `entries.pack` (`toolkit.pack`),
so a warm run reads one file instead of thousands, and a cold run appends to it instead of
creating thousands of files. An entry is JSON (never pickle, so reading one cannot run
code) on a line signed with a random key kept outside any repository (in the user's cache
folder): an entry that arrives with a pull request, was edited by hand or was torn by a
run killed while writing it does not verify and is a miss, as is anything unreadable or
malformed.

The cache lives in `.factkit-cache/` next to the data folder (ignored by git;
$FACTKIT_CACHE_DIR moves it); `--no-cache` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from toolkit.cache_frames import FrameStore, Schemas
from toolkit.codes import CODES
from toolkit.pack import Pack, signing_key
from toolkit.parsers.base import Document, Limits, Role
from toolkit.parsers.fast_lane import count_facts
from toolkit.parsers.yaml_parser import YamlPositions
from toolkit.problems import Problem

CACHE_DIR = ".factkit-cache"
PACK = "entries.pack"
FORMAT = 6  # 6: the values after the rest of the entry, each behind a record separator
# JSON text never holds this byte raw (control characters are escaped), so it splits an entry
_SEP = b"\x1e"
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


class ParseCache:
    """Entries under `folder`, or, with no folder, in `.factkit-cache/` beside each data
    folder. `hits`, `misses` and `writes` count what a run did."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._key: bytes | bool | None = False  # False: not read yet
        # what every key starts from (version, schemas, limits), hashed once
        self._common: tuple[tuple[str, str, Limits], Any] | None = None
        self._packs: dict[Path, Pack] = {}
        # id(root) -> (root, $FACTKIT_CACHE_DIR, its pack): found once per data folder
        self._roots: dict[int, tuple[Path, str | None, Pack]] = {}
        self._schemas: Schemas | None = None
        self._stores: dict[Path, FrameStore] = {}
        self._store_roots: dict[int, tuple[Path, str | None, FrameStore]] = {}

    def _signer(self) -> bytes | None:
        if self._key is False:
            self._key = signing_key()
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
            text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
            self._common = (common, hashlib.sha256(text.encode("utf-8")))
        digest = self._common[1].copy()
        digest.update(f"\0{suffix.lower()}\0{role}\0".encode())
        digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()

    def _pack(self, root: Path) -> Pack | None:
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
            pack = self._packs[where] = Pack(where, signer)
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
        values: bool = True,
    ) -> Cached | None:
        """The file's documents and problems, or None on a miss.

        `data` is the file's bytes the key was made from: a document's positions are found
        in them when a problem asks (parsed with `limits`, the key's). Without `values`
        the documents' values are not decoded (None: the caller has the file's flattened
        rows and needs only positions); `facts` then says how many facts they hold."""
        found = self._read(root, key)
        if found is None:
            self.misses += 1
            return None
        entry, texts = found
        limits = limits or Limits()
        try:
            lines = [_int(d["line"]) for d in _list(entry["documents"])]
            if values:
                parts = texts.split(_SEP) if lines else []
                if len(parts) != len(lines):
                    raise ValueError("not a value per document")
            documents = [
                Document(
                    file,
                    path,
                    role,
                    _value(parts[i]) if values else None,
                    YamlPositions(data, limits),
                    line,
                    root,
                )
                for i, line in enumerate(lines)
            ]
            problems = [_problem(p, file) for p in _list(entry["problems"])]
            schema = [[_problem(p, file) for p in _list(ps)] for ps in _list(entry["schema"])]
            facts = 0 if values else _int(entry["facts"])
        except (KeyError, TypeError, ValueError):
            self.misses += 1
            return None
        if len(schema) != len(documents):
            self.misses += 1
            return None
        self.hits += 1
        return Cached(documents, problems, schema, facts)

    def _read(self, root: Path, key: str) -> tuple[dict[str, Any], bytes] | None:
        """The entry's JSON part, decoded, and the values' JSON texts after it."""
        pack = self._pack(root)
        line = pack.get(key) if pack is not None else None
        if line is None:
            return None
        entry, sep, texts = line.partition(_SEP)
        if not sep:
            return None
        try:  # orjson reads the common entry 3× faster; it refuses what only json
            value = orjson.loads(entry)  # writes (NaN, integers past 64 bits, lone surrogates)
        except orjson.JSONDecodeError:
            try:
                value = json.loads(entry)
            except ValueError:
                return None
        return (value, texts) if type(value) is dict else None

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
        file = os.path.abspath(path if path is not None else key)
        try:
            value = {
                "documents": [{"line": doc.line} for doc in documents],
                "problems": [_problem_dict(p) for p in problems],
                "schema": [[_problem_dict(p) for p in ps] for ps in schema],
                "facts": sum(count_facts(doc.value) for doc in documents),
            }
            texts = _SEP.join(_dumps(doc.value).encode("utf-8") for doc in documents)
            body = _dumps(value).encode("utf-8") + _SEP + texts
        except (TypeError, ValueError):
            return
        if pack.put(key, file, body):
            self.writes += 1

    def keep_rows(self, schemas: Schemas) -> None:
        """Keep each cached file's flattened rows too (`toolkit.cache_frames`), for
        tables of these columns and dtypes."""
        self._schemas = schemas

    def rows(self, root: Path) -> FrameStore | None:
        """Where the flattened rows of the data folder `root`'s files are kept (None
        unless `keep_rows` was called, or when the cache cannot be signed)."""
        signer = self._signer()
        if self._schemas is None or signer is None:
            return None
        override = os.environ.get("FACTKIT_CACHE_DIR")
        found = self._store_roots.get(id(root))
        if found is not None and found[0] is root and found[1] == override:
            return found[2]
        where = self.location(root)
        store = self._stores.get(where)
        if store is None:
            store = self._stores[where] = FrameStore(where, signer, self._schemas)
        self._store_roots[id(root)] = (root, override, store)  # found once per data folder
        return store

    def close(self) -> None:
        """Close the packs opened for appending (also done when the cache is collected)."""
        for pack in self._packs.values():
            pack.close()


class Cached(NamedTuple):
    """A file's entry: documents, parse problems, schema problems per document, and how
    many facts the documents hold (0 when their values were decoded: count them)."""

    documents: list[Document]
    problems: list[Problem]
    schema: list[list[Problem]]
    facts: int


def _dumps(value: Any) -> str:
    """JSON text (a lone surrogate from a YAML escape is written escaped)."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"))
    return text


def _value(text: bytes) -> Any:
    """A document's value from its JSON text (kept as text in the entry, so an entry
    whose rows are kept is read without building its values)."""
    try:  # orjson reads the common value 3× faster; it refuses what only json writes
        return orjson.loads(text)  # (NaN, integers past 64 bits, lone surrogates)
    except orjson.JSONDecodeError:
        return json.loads(text)


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
