"""What every check family receives and returns.

A check is a function `(ctx) -> list[Failures]`. A `Failures` is one code and a
polars frame of failure cases (pandera-style): `_doc`, `pointer`, optional
`hint`, `key`, and one column per parameter of the code's message template.
The checker turns them into located `Problem`s; checks never touch files or
line numbers themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import narwhals as nw
import polars as pl
import pycountry

from toolkit.engines.base import ROW, Engine
from toolkit.frames.base import DOC, PTR, Frames
from toolkit.frames.documents import Documents
from toolkit.model.model import Model
from toolkit.model.tables import Column
from toolkit.parsers.base import Document
from toolkit.problems import Problem

if TYPE_CHECKING:  # the stage package imports the checks' budget and marks
    from toolkit.stage.texts import SourceTexts


@dataclass(frozen=True, slots=True)
class Failures:
    code: str
    frame: pl.DataFrame  # _doc, pointer, [hint], [key], template parameters…


@dataclass
class CheckContext:
    model: Model
    frames: Frames
    roots: list[Path] = field(default_factory=list)
    # Results one family computes and another (or the export) reuses, e.g. source texts.
    cache: dict[str, Any] = field(default_factory=dict)
    # Where checks written with narwhals run (`lazy`, `values`, `collect`); None: polars,
    # over `frames.tables` as they are.
    engine: Engine | None = None

    def table(self, name: str) -> pl.DataFrame:
        return self.frames.tables[name]

    def _engine(self) -> Engine:
        if self.engine is None:
            from toolkit.engines.polars_engine import PolarsEngine

            self.engine = PolarsEngine()
            self.engine.load(dict(self.frames.tables))
        return self.engine

    def lazy(self, name: str) -> nw.LazyFrame[Any]:
        """A check table on the run's engine, with `_doc` (Int64) and `_row` (its order)."""
        return self._engine().table(name)

    def items(self, table: str, column: str) -> nw.LazyFrame[Any]:
        """The elements of a list column on the engine, with `_doc`, `_ptr`, `_row` and their
        position `_i` (see `Engine.items`)."""
        return self._engine().items(table, column)

    def small(self, frame: pl.DataFrame) -> nw.LazyFrame[Any]:
        """A small driver-side table (a vocabulary's codes) on the run's engine, to join."""
        return self._engine().small(frame)

    def lazy_docs(self) -> nw.LazyFrame[Any]:
        """`doc_files` on the engine (`_doc` as Int64), to join file names into messages."""
        return self._engine().derived(
            "_documents", lambda _: self.doc_files.with_columns(pl.col(DOC).cast(pl.Int64))
        )

    def derived(
        self, key: str, build: Callable[[dict[str, pl.LazyFrame]], pl.DataFrame]
    ) -> nw.LazyFrame[Any]:
        """A table computed with polars from the staged tables (lazy: `_doc` Int64, `_row`)
        and handed to the engine: see `Engine.derived`."""
        return self._engine().derived(key, lambda tables: build(dict(tables)))

    def with_hash(self, frame: nw.LazyFrame[Any], column: str, alias: str) -> nw.LazyFrame[Any]:
        """`frame` with `alias`, an Int64 hash of string column `column` made by the engine
        (`Engine.with_hash`): to group or join on it instead of long strings."""
        return self._engine().with_hash(frame, column, alias)

    def collect(self, frame: nw.LazyFrame[Any]) -> pl.DataFrame:
        """Failure cases back on the driver, `_doc` as the documents index."""
        out = self._engine().collect(frame)
        if DOC in out.columns:
            out = out.with_columns(pl.col(DOC).cast(pl.UInt32))
        return out

    def values(
        self,
        table: str,
        col: Column,
        keep: Callable[[nw.LazyFrame[Any]], nw.LazyFrame[Any]] | None = None,
    ) -> nw.LazyFrame[Any]:
        """`_doc`, `pointer`, `value` of every non-null value of
        a column, list elements each pointing at its own index.

        `keep` narrows the values (a frame of `_doc`, `_ptr`, `_row`, `value`, and `_i` for
        lists) before pointers, a new string per value, are built.
        """
        engine = self._engine()
        path = "/" + "/".join(col.path)
        if col.kind in ("string_list", "vocabulary_list"):
            raw = engine.items(table, col.name)
            pointer = nw.concat_str(
                [nw.col(PTR), nw.lit(path + "/"), nw.col("_i").cast(nw.String())]
            )
        else:
            raw = (
                engine.table(table)
                .filter(~nw.col(col.name).is_null())
                .select(DOC, PTR, ROW, nw.col(col.name).alias("value"))
            )
            pointer = nw.concat_str([nw.col(PTR), nw.lit(path)])
        if keep is not None:
            raw = keep(raw)
        return raw.select(nw.col(DOC).alias("_doc"), pointer.alias("pointer"), "value")

    @cached_property
    def iso3(self) -> pl.Series:
        """ISO 3166-1 alpha-3 codes: every state is an actor without a registry entry."""
        return pl.Series("id", sorted(c.alpha_3 for c in pycountry.countries), pl.String())

    @cached_property
    def doc_files(self) -> pl.DataFrame:
        """`_doc` → file name, for messages that name another file."""
        docs = self.frames.documents
        if isinstance(docs, Documents):
            return docs.files()
        return pl.DataFrame(
            {
                "_doc": list(range(len(docs))),
                "file": [d.file for d in docs],
                "stem": [d.path.stem for d in docs],
                "line": [d.line for d in docs],
            },
            schema={"_doc": pl.UInt32, "file": pl.String, "stem": pl.String, "line": pl.Int64},
        )

    def columns_where(self, keep: Callable[[Column], bool]) -> list[tuple[str, Column]]:
        """(table name, column) of every column of a staged table that `keep` selects and
        that is read from the data (has a path)."""
        return [
            (t.name, c)
            for t in self.model.tables.values()
            if t.name in self.frames.tables
            for c in t.columns
            if c.path and keep(c)
        ]

    def reference_columns(self, *refs: str) -> list[tuple[str, Column]]:
        """Every column holding a reference of one of the given kinds."""
        return self.columns_where(lambda c: c.ref in refs)

    # Typed results of the stages around the checks (issue #13), instead of `cache` keys:
    # the staged source texts (also on the engine as the table `texts`), and the evidence
    # grounding found only after normalising, with its offsets (`toolkit.checks.grounding`).
    texts: SourceTexts | None = None
    evidence: pl.DataFrame | None = None

    def columns(self, name: str) -> list[str]:
        """A staged table's columns (with `_row`), without reading the table."""
        return self._engine().columns(name)

    def collect_ranges(
        self,
        build: Callable[[tuple[int, int] | None], nw.LazyFrame[Any]],
        ranges: Sequence[tuple[int, int]],
    ) -> pl.DataFrame:
        """As `collect`, for a query the engine may run a `_doc` range at a time (see
        `Engine.collect_ranges`)."""
        out = self._engine().collect_ranges(build, ranges)
        if DOC in out.columns:
            out = out.with_columns(pl.col(DOC).cast(pl.UInt32))
        return out


# Rows of the tables a per-document check reads in one `_doc` range (`doc_ranges`): about
# what a 1M-fact run holds in one query, so that larger runs hold no more.
RANGE_ROWS = 1_000_000


def doc_ranges(
    ctx: CheckContext, tables: Sequence[str], rows: int | None = None
) -> list[tuple[int, int]]:
    """The documents cut into `_doc` ranges (first, last) of about `rows` rows of `tables`
    each (`RANGE_ROWS` by default), for a check whose groups never cross a document
    (`CheckContext.collect_ranges`): one range up to that many rows. Rows are counted as
    staged, no table is read."""
    height = getattr(ctx.frames.tables, "height", None)
    total = sum(
        height(name) if callable(height) else ctx.frames.tables[name].height
        for name in tables
        if name in ctx.frames.tables
    )
    docs = len(ctx.frames.documents)
    ranges = max(1, -(-total // (rows or RANGE_ROWS)))  # rounded up
    step = max(1, -(-docs // ranges))  # documents per range
    return [(first, min(first + step, docs) - 1) for first in range(0, docs, step)]


def in_range(frame: nw.LazyFrame[Any], span: tuple[int, int] | None) -> nw.LazyFrame[Any]:
    """The rows of `frame` in `_doc` range `span` (all of them: None)."""
    if span is None:
        return frame
    return frame.filter(nw.col(DOC).is_between(span[0], span[1]))


def ordered(fails: Failures) -> Failures:
    """Failure cases in document order, whichever engine found them: by `_doc`, then by
    pointer with its numbers compared as numbers (`/a/2` before `/a/10`). Engines keep no
    row order, and a file's problem budget keeps the first cases of a frame."""
    frame = fails.frame
    if frame.height < 2 or "pointer" not in frame.columns:
        return fails
    key = pl.col("pointer").str.split("/").list.eval(pl.element().str.zfill(12)).list.join("/")
    return Failures(fails.code, frame.sort(pl.col("_doc"), key, maintain_order=True))


def failures(code: str, frame: pl.DataFrame) -> list[Failures]:
    """Wrap a frame of failure cases, dropping it when empty."""
    return [Failures(code, frame)] if frame.height else []


def make_problem(
    doc: Document,
    code: str,
    pointer: str,
    *,
    key: bool = False,
    hint: str | None = None,
    **params: Any,
) -> Problem:
    """A problem at `pointer` in `doc`, located to file, line and column."""
    line, column = doc.locate(pointer, key=key)
    return Problem.of(
        code, doc.file, line=line, column=column, pointer=pointer, hint=hint, **params
    )


def to_problems(fails: Failures, documents: Sequence[Document]) -> list[Problem]:
    """Render a frame of failure cases; the only per-row Python work is for failures."""
    out: list[Problem] = []
    has_hint = "hint" in fails.frame.columns
    has_key = "key" in fails.frame.columns
    for row in fails.frame.iter_rows(named=True):
        doc = documents[row.pop("_doc")]
        pointer = row.pop("pointer")
        hint = row.pop("hint") if has_hint else None
        key = bool(row.pop("key")) if has_key else False
        out.append(make_problem(doc, fails.code, pointer, key=key, hint=hint, **row))
    return out


def with_hints(frame: pl.DataFrame, hint: Callable[[str], str | None]) -> pl.DataFrame:
    """Add a hint column, computed once per distinct failing value."""
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, pl.String).alias("hint"))
    distinct = frame["value"].unique().to_list()
    table = pl.DataFrame(
        {"value": distinct, "hint": [hint(v) for v in distinct]},
        schema={"value": frame.schema["value"], "hint": pl.String},
    )
    return frame.join(table, on="value", how="left")


def lowest(frame: nw.LazyFrame[Any], by: Sequence[str], *order: str) -> nw.LazyFrame[Any]:
    """The row of each `by` group that sorts first by `order` on any engine (which keeps no
    row order): the lowest first key, ties broken by the next (end with `_row`)."""
    for key in order:
        frame = frame.filter(nw.col(key) == nw.col(key).min().over(*by))
    return frame
