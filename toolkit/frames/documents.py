"""The documents of a run, by `_doc` index, without keeping JSONL files in memory.

A YAML or JSON document is kept as it is. A JSONL line is kept as three numbers (its line
number, byte offset and size in its file): `documents[i]` gives back a Document without a
value whose positions are read from the file again, which is needed only for the few
documents a problem points into. A million lines cost a few dozen megabytes this way,
instead of their text.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

import polars as pl

from toolkit.parsers.base import Document, Role
from toolkit.parsers.jsonl_stream import LineLocator


class _Lines:
    """Consecutive JSONL documents of one file."""

    __slots__ = ("file", "lines", "offsets", "path", "role", "root", "sizes")

    def __init__(self, file: str, path: Path, role: Role, root: Path | None) -> None:
        self.file = file
        self.path = path
        self.role = role
        self.root = root
        self.lines = array("q")
        self.offsets = array("q")
        self.sizes = array("q")

    def __len__(self) -> int:
        return len(self.lines)

    def get(self, i: int) -> Document:
        line = self.lines[i]
        locator = LineLocator(self.path, self.offsets[i], self.sizes[i], line)
        return Document(self.file, self.path, self.role, None, locator, line, self.root)

    def cut(self, n: int) -> None:
        del self.lines[n:], self.offsets[n:], self.sizes[n:]


_Segment = list[Document] | _Lines
_FILES_SCHEMA = {"_doc": pl.UInt32, "file": pl.String, "stem": pl.String, "line": pl.Int64}


class Documents(Sequence[Document]):
    """Every document of a run in `_doc` order (see the module docstring)."""

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        self._starts: list[int] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> Document: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Document]: ...

    def __getitem__(self, index: int | slice) -> Document | Sequence[Document]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        k = bisect_right(self._starts, index) - 1
        segment = self._segments[k]
        at = index - self._starts[k]
        return segment[at] if isinstance(segment, list) else segment.get(at)

    def origin(self, index: int) -> tuple[Path, Path | None]:
        """(path, root) of document `index`, without making a Document."""
        k = bisect_right(self._starts, index) - 1
        segment = self._segments[k]
        if isinstance(segment, list):
            doc = segment[index - self._starts[k]]
            return doc.path, doc.root
        return segment.path, segment.root

    def __iter__(self) -> Iterator[Document]:
        for segment in self._segments:
            if isinstance(segment, list):
                yield from segment
            else:
                for i in range(len(segment)):
                    yield segment.get(i)

    def _open(self, segment: _Segment) -> None:
        self._segments.append(segment)
        self._starts.append(self._len)

    def add(self, documents: Sequence[Document]) -> None:
        """Keep documents as they are."""
        last = self._segments[-1] if self._segments else None
        if not isinstance(last, list):
            last = []
            self._open(last)
        last.extend(documents)
        self._len += len(documents)

    def add_lines(
        self, documents: Sequence[Document], offsets: Sequence[int], sizes: Sequence[int]
    ) -> None:
        """Keep JSONL documents as (line, offset, size) of their file; values are dropped."""
        if not documents:
            return
        first = documents[0]
        last = self._segments[-1] if self._segments else None
        if not (isinstance(last, _Lines) and last.path == first.path and last.file == first.file):
            last = _Lines(first.file, first.path, first.role, first.root)
            self._open(last)
        last.lines.extend(d.line for d in documents)
        last.offsets.extend(offsets)
        last.sizes.extend(sizes)
        self._len += len(documents)

    def extend(self, other: Documents) -> None:
        """Add `other`'s documents after these (a slice staged elsewhere): its document
        `i` becomes `len(self) + i`."""
        for start, segment in zip(other._starts, other._segments, strict=True):
            self._segments.append(segment)
            self._starts.append(self._len + start)
        self._len += len(other)

    def truncate(self, n: int) -> None:
        """Forget every document from index `n` on."""
        while self._segments and self._starts[-1] >= n:
            self._segments.pop()
            self._starts.pop()
        if self._segments:
            keep = n - self._starts[-1]
            segment = self._segments[-1]
            if isinstance(segment, list):
                del segment[keep:]
            else:
                segment.cut(keep)
        self._len = min(self._len, n)

    def files(self) -> pl.DataFrame:
        """`_doc`, `file`, `stem` and `line` of every document, built without a Document
        per JSONL line."""
        files: list[pl.Series] = []
        stems: list[pl.Series] = []
        lines: list[pl.Series] = []
        for segment in self._segments:
            if isinstance(segment, list):
                files.append(pl.Series([d.file for d in segment], dtype=pl.String))
                stems.append(pl.Series([d.path.stem for d in segment], dtype=pl.String))
                lines.append(pl.Series([d.line for d in segment], dtype=pl.Int64))
            else:
                n = len(segment)
                stem = segment.path.stem
                files.append(pl.repeat(segment.file, n, dtype=pl.String, eager=True))
                stems.append(pl.repeat(stem, n, dtype=pl.String, eager=True))
                lines.append(pl.Series(segment.lines, dtype=pl.Int64))
        if not files:
            return pl.DataFrame(schema=_FILES_SCHEMA)
        return pl.DataFrame(
            {
                "_doc": pl.arange(0, self._len, dtype=pl.UInt32, eager=True),
                "file": pl.concat(files),
                "stem": pl.concat(stems),
                "line": pl.concat(lines),
            },
            schema=_FILES_SCHEMA,
        )
