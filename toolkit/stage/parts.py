"""The staged tables on disk: each table's rows as Parquet parts in a folder the run owns.

Staging writes a table a part at a time (`Parts.write`, called by the frame builder every
`PART_ROWS` rows), so a run holds one part's rows in memory, not the dataset. A run whose
tables fit in one part each holds them (`hold`): its parts are written only when an
engine that reads files asks for them (`paths`), and the polars engine takes the frames
(`held`), so a small run writes and reads no Parquet. The parts
already carry what every engine needs: `_doc` as Int64 and `_row`, the row's number in
staging order. Engines scan them (`Engine.load_parts`); consumers that still want a whole
polars table ask `PartTables` for it, which reads it once and keeps it.

The folder (`RunFolder`) is a temporary directory under `FACTKIT_WORK_DIR` (or the system's
temporary directory), removed by `close()`, by leaving its `with` block, or at the latest
when it is garbage-collected or the interpreter exits.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Collection, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import polars as pl

from toolkit.checks.rejected import mark
from toolkit.engines.base import ROW
from toolkit.frames.base import DOC, PTR, table_schema
from toolkit.model.model import Model

WORK_DIR = "FACTKIT_WORK_DIR"


def _removed(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _kept(path: str) -> None:
    """Closing a folder given to `RunFolder` leaves it in place."""


class RunFolder:
    """A temporary folder for one run's parts, removed when the run ends (also on errors)."""

    def __init__(self, path: Path | None = None) -> None:
        """A new temporary folder; or, given `path`, that folder (made if missing), which
        its owner removes: a slice staged on a worker writes into the run's folder."""
        self._count = 0
        owned = path is None
        if path is None:
            base = os.environ.get(WORK_DIR) or None
            if base is not None:
                os.makedirs(base, exist_ok=True)
            path = Path(tempfile.mkdtemp(prefix="factkit-run-", dir=base))
        else:
            path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._remove = weakref.finalize(self, _removed if owned else _kept, str(path))

    def file(self, stem: str) -> Path:
        """A new file name in the folder (never one given before)."""
        self._count += 1
        return self.path / f"{stem}-{self._count:06d}.parquet"

    @property
    def closed(self) -> bool:
        return not self._remove.alive

    def close(self) -> None:
        self._remove()

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def staged_schema(schema: Mapping[str, pl.DataType]) -> dict[str, pl.DataType]:
    """A table's columns as the parts hold them: `_row` first, `_doc` as Int64."""
    out: dict[str, pl.DataType] = {ROW: pl.Int64()}
    out.update({name: pl.Int64() if name == DOC else dtype for name, dtype in schema.items()})
    return out


@dataclass(slots=True)
class Part:
    """One Parquet file of a table: its rows, the first builder batch it holds and the rows
    after each of its batches (so a file that fails late can take its rows back)."""

    path: Path
    rows: int
    first_batch: int
    cuts: list[int] = field(default_factory=list)
    frame: pl.DataFrame | None = None  # its rows, while held in memory (not written yet)


class Parts:
    """Every table's parts, written in staging order, with `_row` numbered across them."""

    def __init__(self, folder: RunFolder, schemas: Mapping[str, Mapping[str, pl.DataType]]):
        self.folder = folder
        self.schemas = {name: staged_schema(schema) for name, schema in schemas.items()}
        self.parts: dict[str, list[Part]] = {name: [] for name in schemas}

    @classmethod
    def of(cls, folder: RunFolder, model: Model) -> Parts:
        """Parts for the check tables of `model`."""
        kinds = ("vocabulary", "derived")
        tables = [t for t in model.tables.values() if t.kind not in kinds]
        return cls(folder, {t.name: table_schema(t) for t in tables})

    def rows(self, name: str) -> int:
        return sum(p.rows for p in self.parts[name])

    def write(
        self,
        name: str,
        batches: list[pl.DataFrame | None],
        first_batch: int,
        *,
        hold: bool = False,
    ) -> None:
        """Write the rows of consecutive builder batches (None: none for this table) as one
        part, numbering them on from the table's last row; with `hold`, keep the part in
        memory until a file is asked for (the builder holds a run's only part)."""
        found = [b for b in batches if b is not None and b.height]
        if not found:
            return
        heights = [0 if b is None else b.height for b in batches]
        cuts = [sum(heights[: i + 1]) for i in range(len(heights))]
        start = self.rows(name)
        frame = pl.concat(found) if len(found) > 1 else found[0]
        frame = frame.select(
            pl.int_range(start, start + frame.height, dtype=pl.Int64).alias(ROW),
            *(pl.col(c).cast(pl.Int64) if c == DOC else pl.col(c) for c in frame.columns),
        )
        path = self.folder.file(name)
        if not hold:
            frame.write_parquet(path, compression="lz4")
        held = frame if hold else None
        self.parts[name].append(Part(path, frame.height, first_batch, cuts, held))

    def read(self, part: Part) -> pl.DataFrame:
        """A part's rows, held or read from its file."""
        return part.frame if part.frame is not None else pl.read_parquet(part.path)

    def replace(self, part: Part, frame: pl.DataFrame) -> None:
        """Give a part other rows (where it is: held, or in its file)."""
        if part.frame is not None:
            part.frame = frame
        else:
            frame.write_parquet(part.path, compression="lz4")

    def scan(self, name: str) -> pl.LazyFrame:
        """A table as its parts hold it (`_row`, `_doc` Int64), lazily."""
        parts = self.parts[name]
        if not parts:
            return pl.LazyFrame(schema=self.schemas[name])
        if all(p.frame is not None for p in parts):
            return pl.concat([self.read(p) for p in parts]).lazy()
        return pl.scan_parquet([p.path for p in self._written(parts)])

    def held(self) -> dict[str, pl.DataFrame] | None:
        """Each table's rows when every part is held in memory (tables without rows are
        left out), else None."""
        found = [p for parts in self.parts.values() for p in parts]
        if not found or any(p.frame is None for p in found):
            return None
        return {name: self.read(parts[0]) for name, parts in self.parts.items() if parts}

    def _written(self, parts: list[Part]) -> list[Part]:
        """The parts, each held one written to its file first (and let go)."""
        for part in parts:
            if part.frame is not None:
                part.frame.write_parquet(part.path, compression="lz4")
                part.frame = None
        return parts

    def truncate(self, batch: int) -> None:
        """Forget the rows of every batch from `batch` on: later parts are deleted, a part
        that holds batches on both sides is written again with the earlier ones only."""
        for name, parts in self.parts.items():
            kept: list[Part] = []
            for part in parts:
                if part.first_batch >= batch:
                    part.path.unlink(missing_ok=True)
                    continue
                held = batch - part.first_batch  # batches of this part that stay
                keep = part.cuts[held - 1] if held < len(part.cuts) else part.rows
                if keep < part.rows:
                    frame = self.read(part).head(keep)
                    part.path.unlink(missing_ok=True)
                    if not keep:
                        continue
                    part.path = self.folder.file(name)
                    self.replace(part, frame)
                    part.rows, part.cuts = keep, part.cuts[:held]
                kept.append(part)
            self.parts[name] = kept

    def paths(self) -> dict[str, list[Path]]:
        """Each table's parts as files (those held are written now)."""
        return {name: [p.path for p in self._written(parts)] for name, parts in self.parts.items()}


class PartTables(MutableMapping[str, pl.DataFrame]):
    """The staged tables by name, as polars frames read from their parts when first asked
    (the form the checks had before parts: `_doc` as UInt32, no `_row`) and kept.

    For the consumers that need a whole table (export, review, xref); the engines scan the
    parts (`paths`), and `read_columns` reads only some columns. `finish(name, frame)` is
    applied to a table when it is read (the checker attaches evidence offsets this way, so
    a run that exports nothing never reads a fact table whole). A table set by assignment
    replaces the one on disk for the mapping's readers, not for an engine already loaded.
    """

    def __init__(
        self,
        parts: Parts,
        *,
        finish: Callable[[str, pl.LazyFrame], pl.LazyFrame] | None = None,
    ) -> None:
        self.parts = parts
        self.finish = finish
        self._read: dict[str, pl.DataFrame] = {}
        self._assigned: set[str] = set()  # tables replaced in memory: their parts are stale

    def when_read(self, finish: Callable[[str, pl.LazyFrame], pl.LazyFrame]) -> None:
        """Apply `finish` to each table read whole from now on, and to those read already
        (a check may have read one)."""
        self.finish = finish
        self._read = {name: finish(name, f.lazy()).collect() for name, f in self._read.items()}

    @property
    def folder(self) -> RunFolder:
        return self.parts.folder

    def paths(self) -> dict[str, list[Path]]:
        """Each table's Parquet parts, in staging order."""
        return self.parts.paths()

    def schemas(self) -> dict[str, dict[str, pl.DataType]]:
        """Each table's columns as its parts hold them (what an empty table has too)."""
        return dict(self.parts.schemas)

    def height(self, name: str) -> int:
        """A table's rows, counted as written (no file is read)."""
        if name in self._read:
            return self._read[name].height
        return self.parts.rows(name)

    def scan(self, name: str) -> pl.LazyFrame:
        """A table as its parts hold it (`_row`, `_doc` Int64), lazily."""
        return self.parts.scan(name)

    def _plain(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.drop(ROW).with_columns(pl.col(DOC).cast(pl.UInt32))

    def read_columns(self, wanted: Mapping[str, Collection[str]]) -> dict[str, pl.DataFrame]:
        """Only the `wanted` columns (those it has, with `_doc` and `_ptr`) of some tables."""
        out: dict[str, pl.DataFrame] = {}
        ids = (DOC, PTR)
        for name, columns in wanted.items():
            if name in self._read:
                frame = self._read[name]
                out[name] = frame.select(c for c in frame.columns if c in columns or c in ids)
                continue
            if name not in self.parts.parts:
                continue
            schema = self.parts.schemas[name]
            keep = [c for c in schema if c in columns or c in ids]
            scan = self.scan(name).select(keep)
            out[name] = scan.with_columns(pl.col(DOC).cast(pl.UInt32)).collect()
        return out

    def read_documents(
        self, docs: Sequence[int], names: Collection[str] | None = None
    ) -> dict[str, pl.DataFrame]:
        """The rows of the documents `docs` of the tables `names` (default: every table),
        in the form `__getitem__` gives, read by a filtered scan: for what needs a few
        files' rows, not the tables."""
        return {
            name: self.of_documents(name, docs).collect()
            for name in self.parts.parts
            if names is None or name in names
        }

    def of_documents(self, name: str, docs: Sequence[int]) -> pl.LazyFrame:
        """A table's rows of the documents `docs` as a query of the parts (the filter
        applied as they are read), without `finish`: it reads the parts' files only, so
        another process that sees them can run it once they are written (`paths`)."""
        wanted = pl.Series(DOC, docs, dtype=pl.Int64).implode()
        return self._plain(self.scan(name).filter(pl.col(DOC).is_in(wanted)))

    def lazy(self, name: str) -> pl.LazyFrame:
        """A table as `[name]` gives it, as a query that is not kept: for a consumer that
        reads each table once (the export) and would otherwise hold two copies."""
        found = self._read.get(name)
        if found is not None:
            return found.lazy()
        if name not in self.parts.parts:
            raise KeyError(name)
        query = self._plain(self.scan(name))
        return query if self.finish is None else self.finish(name, query)

    def __getitem__(self, name: str) -> pl.DataFrame:
        found = self._read.get(name)
        if found is None:
            found = self.lazy(name).collect()
            self._read[name] = found
        return found

    def from_parts(self, name: str) -> bool:
        """The table is what its parts hold: none was assigned in its place. Only such a
        table may be read from the parts by another process (`of_documents`)."""
        return name in self.parts.parts and name not in self._assigned

    def __setitem__(self, name: str, frame: pl.DataFrame) -> None:
        self._read[name] = frame
        self._assigned.add(name)

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._read.pop(name, None)
        self._assigned.discard(name)
        self.parts.parts.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self.parts.parts
        yield from (name for name in self._read if name not in self.parts.parts)

    def __len__(self) -> int:
        return len(self.parts.parts.keys() | self._read.keys())

    def __contains__(self, name: object) -> bool:
        return name in self.parts.parts or name in self._read


def mark_parts(model: Model, parts: Parts, rejected: pl.DataFrame) -> pl.DataFrame:
    """`checks.rejected.mark` over the parts: only the rows of documents with a rejected
    value are read (a filtered scan), and only the parts that get a stand-in are written
    again. Returns the (_doc, pointer) of the cells filled."""
    held: dict[str, pl.DataFrame] = {}
    docs = rejected[DOC].unique().cast(pl.Int64).implode()
    for name, found in parts.parts.items():
        if rejected.is_empty() or not found:
            continue
        scan = parts.scan(name).filter(pl.col(DOC).is_in(docs))
        rows = scan.rename({ROW: _AT}).with_columns(pl.col(DOC).cast(pl.UInt32)).collect()
        if rows.height:
            held[name] = rows
    before = dict(held)
    filled = mark(model, held, rejected)
    for name, frame in held.items():
        if frame is not before[name]:
            _patch(parts, name, frame.rename({_AT: ROW}).with_columns(pl.col(DOC).cast(pl.Int64)))
    return filled


_AT = "_staged_row"  # `_row` while `mark` numbers the rows it reads with a `_row` of its own


def _patch(parts: Parts, name: str, rows: pl.DataFrame) -> None:
    """Write again each part of `name` that holds one of `rows` (by `_row`), with their
    values where the part has nulls."""
    start = 0
    for part in parts.parts[name]:
        inside = rows.filter(pl.col(ROW).is_between(start, start + part.rows - 1))
        start += part.rows
        if inside.is_empty():
            continue
        data = parts.read(part)
        others = [c for c in data.columns if c != ROW]
        patch = inside.select(ROW, *(pl.col(c).alias(f"{c}\x00") for c in others))
        data = data.join(patch, on=ROW, how="left", maintain_order="left").select(
            ROW, *(pl.coalesce(c, f"{c}\x00").alias(c) for c in others)
        )
        parts.replace(part, data)
