"""Batches of documents to check tables, each batch by the fastest path it allows.

Documents that passed the schema are flattened column by column, or (JSONL lines) in
polars from their JSON text in a worker thread while the next batch is parsed; the
others, and any batch a fast path refuses, value by value. Every path gives the same
tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import orjson
import polars as pl

from toolkit.frames.base import DOC, bundle_file
from toolkit.frames.columnwise import Unexpected, columnwise
from toolkit.frames.exact import exact
from toolkit.frames.from_json import integer_paths, polars_bundles
from toolkit.model.model import Model
from toolkit.parsers.base import Document
from toolkit.parsers.fast_lane import integers_are_integers

if TYPE_CHECKING:
    from toolkit.cache_frames import FrameStore, StoredRows
    from toolkit.stage.parts import Parts

# Rows (all tables together) a builder writing parts holds before it writes them: a part
# of that size is a few tens of MB in polars, and large enough that scanning the parts
# costs no more than one file would (fewer, larger parts: more memory; smaller: more files
# for every engine to open, and more row groups to plan).
PART_ROWS = 250_000


def _merge(parts: list[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """Tables of disjoint sets of documents as one, in `_doc` order."""
    if len(parts) == 1:
        return parts[0]
    names = {name for part in parts for name in part}
    return {
        name: pl.concat([p[name] for p in parts if name in p]).sort(DOC, maintain_order=True)
        for name in names
    }


def _decode_undecoded(
    documents: Sequence[Document], lines: Sequence[bytes], skip: set[int]
) -> None:
    """Give a value to each document a fast lane left undecoded, except those in `skip`
    (polars flattens them from their text): the other paths read values."""
    for i, doc in enumerate(documents):
        if doc.value is None and i not in skip:
            doc.value = orjson.loads(lines[i])


class _Pending:
    """A batch being flattened in polars, with what is needed to do it again in Python
    should polars fail (the documents are kept until it is done)."""

    def __init__(
        self,
        future: Future[dict[str, pl.DataFrame]],
        documents: list[Document],
        indices: list[int],
        done: dict[str, pl.DataFrame] | None,
        lines: list[bytes],
    ) -> None:
        self.future = future
        self.documents = documents
        self.lines = lines
        self.indices = indices
        self.done = done  # the batch's other documents, already flattened


class _Stored:
    """Consecutive files whose rows a previous run flattened (`toolkit.cache_frames`), each
    with the `_doc` of its first document: taken together, in one join per table, when
    their place in the tables is written, so they stay in staging order."""

    def __init__(self) -> None:
        self.files: list[tuple[StoredRows, int]] = []

    def take(self) -> dict[str, pl.DataFrame]:
        stores: dict[int, tuple[FrameStore, list[tuple[int, int]]]] = {}
        for rows, first in self.files:
            stores.setdefault(id(rows.store), (rows.store, []))[1].append((rows.fid, first))
        taken = [store.take(placed) for store, placed in stores.values()]
        return _merge(taken) if taken else {}


class FrameBuilder:
    """The check tables, built batch by batch and written to `parts`: a batch's documents
    (and their values) are not needed once `add` returns (JSONL lines: once polars has
    flattened them, which it does in a worker thread while the next batch is parsed).
    Documents that passed the schema are flattened column by column or in polars; the
    others, value by value."""

    def __init__(
        self,
        model: Model,
        *,
        parts: Parts,
        threads: bool = True,
        part_rows: int | None = None,
    ) -> None:
        self.model = model
        # batches are written to `parts` every `part_rows` rows (see `_spill`);
        # `_base` counts the batches already written, `_rows` the rows held since
        self.parts = parts
        self.part_rows = PART_ROWS if part_rows is None else part_rows
        self._base = 0
        self._rows = 0
        self.tables = [t for t in model.tables.values() if t.kind not in ("vocabulary", "derived")]
        self._batches: list[dict[str, pl.DataFrame] | _Pending | _Stored] = []
        self._buffer: list[Document] = []
        self._integers = integer_paths(model)
        self._files: dict[tuple[int, int], tuple[Document, str]] = {}
        self._buffer_at: list[int] = []
        self._buffer_ok: list[bool] = []
        self._pool = (
            ThreadPoolExecutor(1, thread_name_prefix="factkit-flatten") if threads else None
        )

    def add(
        self,
        documents: Sequence[Document],
        first: int,
        valid: Sequence[bool],
        lines: Sequence[bytes] | None = None,
        plain: Sequence[bool] = (),
    ) -> None:
        """Flatten `documents`, whose `_doc` indices run from `first`. With `lines` (the
        UTF-8 JSON text of each document), valid bundles are flattened in polars; `plain[i]`:
        a fast lane vouched for line i, whose value was not decoded (None)."""
        if lines is None:  # whole files (YAML, JSON): flattened many at a time
            self._buffer.extend(documents)
            self._buffer_at.extend(range(first, first + len(documents)))
            self._buffer_ok.extend(valid)
            if len(self._buffer) >= self.BUFFER:
                self._flush()
            return
        self._flush()
        indices = list(range(first, first + len(documents)))
        late: list[int] = []
        if lines is not None and self._pool is not None:
            plan = self._integers
            vouched = plain or [False] * len(documents)
            late = [
                i
                for i, doc in enumerate(documents)
                if valid[i]
                and (
                    vouched[i]
                    or (
                        doc.role == "bundle"
                        and type(doc.value) is dict
                        and integers_are_integers(doc.value, plan)
                    )
                )
            ]
        if lines is not None:  # lines no polars path takes are decoded after all
            _decode_undecoded(documents, lines, set(late))
        later = set(late)
        now = [i for i in range(len(documents)) if i not in later]
        done = self._now(documents, indices, list(valid), now) if now else None
        if late and lines is not None and self._pool is not None:
            self._settle(keep=1)
            docs = [documents[i] for i in late]
            where = [indices[i] for i in late]
            text = [lines[i] for i in late]
            files = [self._file(d) for d in docs]
            future = self._pool.submit(polars_bundles, self.model, text, where, files)
            self._batches.append(_Pending(future, docs, where, done, text))
            self._held(done)
            self._spill()
        elif done is not None:
            self._push(done)

    def _file(self, doc: Document) -> str:
        """`bundle_file` of a document, computed once per file."""
        key = (id(doc.path), id(doc.root))
        found = self._files.get(key)
        if found is None or found[0].path is not doc.path or found[0].root is not doc.root:
            found = self._files[key] = (doc, bundle_file(doc))
        return found[1]

    def _flush(self) -> None:
        if self._buffer:
            docs, where, ok = self._buffer, self._buffer_at, self._buffer_ok
            self._buffer, self._buffer_at, self._buffer_ok = [], [], []
            self._push(self._now(docs, where, ok, list(range(len(docs)))))

    def _now(
        self,
        documents: Sequence[Document],
        indices: list[int],
        valid: list[bool],
        which: list[int],
    ) -> dict[str, pl.DataFrame]:
        fast = [i for i in which if valid[i]]
        slow = [i for i in which if not valid[i]]
        parts: list[dict[str, pl.DataFrame]] = []
        if fast:
            try:
                parts.append(
                    columnwise(self.model, [documents[i] for i in fast], [indices[i] for i in fast])
                )
            except (Unexpected, TypeError, ValueError, AttributeError, pl.exceptions.PolarsError):
                slow = sorted(fast + slow)
                parts = []
        if slow:
            parts.append(
                exact(self.model, [documents[i] for i in slow], [indices[i] for i in slow])
            )
        return _merge(parts)

    def _resolve(self, pending: _Pending) -> dict[str, pl.DataFrame]:
        try:
            frames = pending.future.result()
        except Exception:  # polars could not: the same documents, column by column
            docs = pending.documents
            _decode_undecoded(docs, pending.lines, set())
            frames = self._now(docs, pending.indices, [True] * len(docs), list(range(len(docs))))
        parts = [frames] if pending.done is None else [frames, pending.done]
        return {name: f for name, f in _merge(parts).items() if f.height}

    def _settle(self, keep: int = 0) -> None:
        """Wait for all but the last `keep` batches in flight."""
        pending = [i for i, b in enumerate(self._batches) if isinstance(b, _Pending)]
        for i in pending[: max(0, len(pending) - keep)]:
            batch = self._batches[i]
            assert isinstance(batch, _Pending)
            self._batches[i] = resolved = self._resolve(batch)
            self._held(resolved, pending=batch.done)

    def _push(self, batch: dict[str, pl.DataFrame]) -> None:
        self._batches.append(batch)
        self._held(batch)
        self._spill()

    def _held(
        self, batch: dict[str, pl.DataFrame] | None, pending: dict[str, pl.DataFrame] | None = None
    ) -> None:
        """Count the rows a batch adds to those held (`pending`: its part counted before)."""
        rows = sum(f.height for f in (batch or {}).values())
        self._rows += rows - sum(f.height for f in (pending or {}).values())

    def _spill(self, keep: int = 1) -> None:
        """Once `part_rows` rows are held, write the flattened batches, one part per table,
        and let them go. The batch in the worker thread (`keep`) stays in flight; the
        batches from it on wait for the next part."""
        if keep and self._rows < self.part_rows:
            return
        self._settle(keep=keep)
        ready = next(
            (i for i, b in enumerate(self._batches) if isinstance(b, _Pending)), len(self._batches)
        )
        taken = [b.take() if isinstance(b, _Stored) else b for b in self._batches[:ready]]
        batches = [b for b in taken if isinstance(b, dict)]  # all: none in flight before `ready`
        only = not keep and not self._base  # the run's only part: held until a file is asked
        for name in self.parts.parts:
            self.parts.write(name, [b.pop(name, None) for b in batches], self._base, hold=only)
        self._base += ready
        del self._batches[:ready]
        self._rows = self._count()

    def _count(self) -> int:
        """The rows held in flattened batches (of a batch in flight: its part done now)."""
        held = [
            b if isinstance(b, dict) else b.done or {}
            for b in self._batches
            if not isinstance(b, _Stored)
        ]
        return sum(f.height for b in held for f in b.values())

    BUFFER = 2048  # whole-file documents flattened together

    def mark(self) -> int:
        """A point `truncate` can return to (what came before is flattened first)."""
        self._flush()
        return self._base + len(self._batches)

    def truncate(self, mark: int) -> None:
        """Forget every batch added since `mark` (a file that failed as a whole), also
        those already written as parts."""
        held = max(0, mark - self._base)
        for batch in self._batches[held:]:
            if isinstance(batch, _Pending):
                batch.future.cancel()
        del self._batches[held:]
        if mark < self._base:
            self.parts.truncate(mark)
            self._base = mark
        self._rows = self._count()

    def write_parts(self) -> Parts:
        """Write what is held as the last parts and hand the parts over (call once)."""
        self._flush()
        self._settle()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._spill(keep=0)
        return self.parts

    def add_frames(self, rows: StoredRows, first: int) -> None:
        """A file's rows as a previous run flattened them (`toolkit.cache_frames`), its
        documents numbered from `first`: taken as they are, where the file's documents
        come (files kept one after another are taken together, in one join per table)."""
        self._flush()  # documents before this file come first
        last = self._batches[-1] if self._batches else None
        if not isinstance(last, _Stored):
            last = _Stored()
            self._batches.append(last)
        last.files.append((rows, first))
