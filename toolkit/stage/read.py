"""The read side of staging: one file's batches, through the parse cache or the fast lane.

What only staging needs to know about the readers lives here: which files the fast lane
may read, how a cached YAML file comes back as one batch with its schema problems, and
that a format-1 bundle gives no rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from toolkit.cache_frames import FrameStore, Fresh, StoredRows, rows_key
from toolkit.checks.schema import SchemaChecker
from toolkit.frames.from_json import integer_paths
from toolkit.model.model import Model
from toolkit.parsers import Batch, FileEntry, parse_bytes, stream_file
from toolkit.parsers.base import Document, Limits
from toolkit.parsers.decode import read_bytes
from toolkit.parsers.fast_lane import FastLane
from toolkit.problems import Problem

if TYPE_CHECKING:
    from toolkit.cache import ParseCache
    from toolkit.stage.parts import PartTables

__all__ = [
    "CachedBatch",
    "Placed",
    "batches",
    "file_size",
    "keep_rows",
    "open_lane",
    "prefetch_rows",
    "set_aside_old_format",
]

_CACHED = (".yaml", ".yml")  # hand-written files: slow to parse, rarely changed


def file_size(entry: FileEntry) -> int:
    """The file's size in bytes (0 when it cannot be read: reading reports why)."""
    try:
        return os.stat(entry.path).st_size
    except (OSError, ValueError):
        return 0


def _lane_may_read(entry: FileEntry) -> bool:
    return entry.role == "bundle" and entry.path.suffix.lower() == ".jsonl"


def open_lane(
    model: Model, entries: Sequence[FileEntry], sizes: Sequence[int], limits: Limits
) -> FastLane | None:
    """A fast lane for the run's JSONL bundles when they are large enough to repay it."""
    streams = [s for e, s in zip(entries, sizes, strict=True) if _lane_may_read(e)]
    if not FastLane.wanted(streams):
        return None
    return FastLane(model.bundle_schema, integer_paths(model), limits)


def set_aside_old_format(
    documents: Sequence[Document], checked: list[list[Problem]], reported: bool
) -> bool:
    """A format-1 bundle (S109) gives no rows, so nothing else in it is checked; a file
    reports S109 once (a JSONL file of old bundles is one fix, not one per line)."""
    for i, errors in enumerate(checked):
        if errors and errors[0].code == "S109":
            documents[i].value = {}  # no rows (None would be decoded again from its line)
            if reported:
                checked[i] = []
            reported = True
    return reported


def batches(
    entry: FileEntry,
    limits: Limits,
    schema: SchemaChecker,
    cache: ParseCache | None,
    lane: FastLane | None = None,
) -> Iterator[Batch]:
    """One file's batches; YAML through the parse cache when there is one."""
    if cache is None or entry.path.suffix.lower() not in _CACHED:
        yield from stream_file(entry.path, entry.file, entry.role, limits, entry.root, lane)
        return
    data, problems = read_bytes(entry.path, entry.file, limits)
    if data is None:
        yield Batch(problems=problems)
        return
    key = cache.key(data, entry.path.suffix, entry.role, limits)
    store = cache.rows(entry.root)
    kept = None if store is None else rows_key(key, _bundle_file(entry))
    rows = store.get(kept) if store is not None and kept is not None else None
    found = cache.load(
        key,
        entry.root,
        entry.file,
        entry.path,
        entry.role,
        data=data,
        limits=limits,
        values=rows is None,  # kept rows need no values: only positions, and a count
    )
    if found is not None:
        documents, problems, checked, facts = found
        yield CachedBatch(
            documents, problems, schema=checked, facts=facts, store=store, key=kept, rows=rows
        )
        return
    result = parse_bytes(data, entry.path, entry.file, entry.role, limits, entry.root)
    checked = [schema.check(doc) for doc in result.documents]
    cache.store(key, entry.root, result.documents, result.problems, checked, path=entry.path)
    yield CachedBatch(
        result.documents, result.problems, schema=checked, store=store, key=kept, rows=rows
    )


def prefetch_rows(cache: ParseCache, entries: Sequence[FileEntry]) -> None:
    """Start reading the kept rows of the data folders whose YAML files the cache reads."""
    roots = {id(e.root): e.root for e in entries if e.path.suffix.lower() in _CACHED}
    for root in roots.values():
        store = cache.rows(root)
        if store is not None:
            store.prefetch()


def _bundle_file(entry: FileEntry) -> str:
    """The file's `bundle_file` (as `toolkit.frames.base.bundle_file` makes it); a path
    written under its root's is cut, not resolved (thousands of files a run)."""
    path, root = str(entry.path), str(entry.root)
    rest = path[len(root) + 1 :]
    if root and path.startswith(root + os.sep) and ".." not in rest.split(os.sep):
        return rest.replace(os.sep, "/")
    return os.path.relpath(entry.path, entry.root).replace(os.sep, "/")


@dataclass(slots=True)
class CachedBatch(Batch):
    """A YAML file read through the parse cache: where its flattened rows are kept
    (`store`, under `key`) and, when they were, the rows (`rows`: not flattened again)."""

    store: FrameStore | None = None
    key: str | None = None
    rows: StoredRows | None = None

    def placed(self, first: int) -> Placed | None:
        """What `keep_rows` needs of this file once its documents are at `first`."""
        if self.store is None or self.key is None:
            return None
        fresh = self.rows is None and self.documents  # only a fresh file's path is kept
        file = os.path.abspath(self.documents[0].path) if fresh else ""
        return Placed(self.store, self.rows, Fresh(self.key, first, len(self.documents), file))


@dataclass(frozen=True, slots=True)
class Placed:
    """A cached file's documents in the run's tables, and its rows if they were kept."""

    store: FrameStore
    rows: StoredRows | None
    fresh: Fresh


def keep_rows(tables: PartTables, placed: Sequence[Placed]) -> None:
    """Keep the flattened rows of this run's cached files for the next run (of the files
    flattened in this run, only their documents' rows are read from the parts)."""
    fresh = [p.fresh for p in placed if p.rows is None]
    docs = [f.first + i for f in fresh for i in range(f.count)]
    rows: Mapping[str, pl.DataFrame] = tables.read_documents(docs) if docs else {}
    stores: dict[int, tuple[FrameStore, list[Placed]]] = {}
    for p in placed:
        stores.setdefault(id(p.store), (p.store, []))[1].append(p)
    for store, files in stores.values():
        hits = [p.rows.fid for p in files if p.rows is not None]
        store.update(rows, hits, [p.fresh for p in files if p.rows is None])
