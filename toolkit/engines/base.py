"""The engine contract: staged tables in, narwhals frames out, failure cases collected.

Every engine receives the same staged tables and gives each one back as a
`narwhals.LazyFrame` on its own backend: Parquet parts that staging wrote (`load_parts`,
what a run does; the backend scans them, nothing is copied into memory) or polars frames
(`load`, for tests and callers that built tables themselves). What differs between
backends is settled here, once, so that checks need not know where they run:

- `_doc` is a signed 64-bit integer (Spark has no unsigned types);
- every table has `_row`, its row number in staging order: engines keep no row order, so
  "the first occurrence" is the lowest `_row`;
- a list column's elements come with their positions (`items`), since narwhals has no
  positional explode and a pointer names the element (`/about/1`);
- a string column hashes to an Int64 column (`with_hash`), since narwhals has no hash.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import narwhals as nw
import polars as pl

from toolkit.errors import FactkitError, UsageError
from toolkit.frames.base import DOC, PTR
from toolkit.progress import NULL, Progress

if TYPE_CHECKING:
    from toolkit.cache import ParseCache
    from toolkit.checks.limits import ProblemBudget
    from toolkit.model.model import Model
    from toolkit.parsers.base import Limits
    from toolkit.stage import Staged

ROW = "_row"

# name → module:class, imported only when chosen (Spark and DuckDB are optional).
ENGINES: dict[str, str] = {
    "polars": "toolkit.engines.polars_engine:PolarsEngine",
    "duckdb": "toolkit.engines.duckdb_engine:DuckDBEngine",
    "spark": "toolkit.engines.spark_engine:SparkEngine",
}


# `fn` over each item on an engine's workers, the results in the items' order
Workers = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]


class EngineUnavailable(UsageError):
    """The chosen engine cannot start here (a package or Java missing); says what to install."""


class EngineFailed(FactkitError):
    """The engine started but could not finish the run's queries on this data (out of
    memory); says what to give it."""


def staged(frame: pl.DataFrame) -> pl.DataFrame:
    """A table as every engine receives it: `_doc` as Int64 and a `_row` order column."""
    if DOC in frame.columns:
        frame = frame.with_columns(pl.col(DOC).cast(pl.Int64))
    return frame.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))


def items_of(frame: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """`_doc`, `_ptr`, `_row`, `_i`, `value`: one row per non-null element of a list column."""
    return (
        frame.select(
            DOC,
            PTR,
            ROW,
            pl.col(column).alias("value"),
            pl.col(column).list.eval(pl.int_range(pl.len(), dtype=pl.Int64)).alias("_i"),
        )
        .explode(["value", "_i"])
        .filter(pl.col("value").is_not_null())
    )


class Engine(ABC):
    """One backend for one run: `load` the staged tables, then `table`, `items`, `small`
    and `collect` as the checks need; `close` when the run ends."""

    name: str = ""
    # whether `load_parts` may be handed staged polars frames (`held`) instead of files
    takes_frames: bool = False

    def __init__(self) -> None:
        self._tables: dict[str, pl.DataFrame] = {}
        self._parts: dict[str, list[Path]] = {}
        self._schemas: dict[str, dict[str, pl.DataType]] = {}
        self._folder: Path | None = None
        self._frames: dict[str, nw.LazyFrame[Any]] = {}

    def stage(
        self,
        model: Model,
        paths: Sequence[str],
        limits: Limits,
        budget: ProblemBudget,
        *,
        cache: ParseCache | None = None,
        progress: Progress = NULL,
    ) -> Staged:
        """Read, check and flatten the files into staged tables (`toolkit.stage.stage`), in
        this process; an engine with workers of its own may have them read the files."""
        from toolkit.stage import stage  # the stage package hands its tables to engines

        return stage(model, paths, limits, budget, cache=cache, progress=progress)

    def load(self, tables: Mapping[str, pl.DataFrame]) -> None:
        """Stage the run's tables from polars frames (the engine may copy or spill them)."""
        self._tables = {name: staged(frame) for name, frame in tables.items()}
        self._parts, self._schemas, self._folder = {}, {}, None
        self._frames = {}

    def load_parts(
        self,
        parts: Mapping[str, Sequence[Path]],
        schemas: Mapping[str, Mapping[str, pl.DataType]],
        folder: Path,
        *,
        held: Mapping[str, pl.DataFrame] | None = None,
    ) -> None:
        """Stage the run's tables from Parquet parts that already hold `_doc` (Int64) and
        `_row` (`toolkit.stage.parts`); `schemas` gives the columns of a table without
        parts; `folder` (the run's) takes the item tables; `held`: tables as their parts
        would hold them, in memory (only for an engine that `takes_frames`)."""
        self._tables = dict(held or {})
        self._parts = {name: list(paths) for name, paths in parts.items()}
        self._schemas = {name: dict(schema) for name, schema in schemas.items()}
        self._folder = folder
        self._frames = {}

    def _polars(self, name: str) -> pl.LazyFrame:
        """A staged table as polars sees it, lazily (a scan of its parts)."""
        if name in self._tables:
            return self._tables[name].lazy()
        if not self._parts[name]:
            return pl.LazyFrame(schema=self._schemas[name])
        return pl.scan_parquet(self._parts[name])

    def table(self, name: str) -> nw.LazyFrame[Any]:
        """A staged table, with `_row`."""
        if name not in self._frames:
            paths = self._parts.get(name)
            if paths:
                self._frames[name] = self._scan(paths, name)
            else:
                self._frames[name] = self._native(self._polars(name).collect(), name)
        return self._frames[name]

    def items(self, table: str, column: str) -> nw.LazyFrame[Any]:
        """The elements of a list column with their positions `_i` (see `items_of`); from
        parts, exploded by a streaming polars query into one more part, then scanned."""
        key = f"{table}.{column}"
        if key not in self._frames:
            items = items_of(self._polars(table), column)
            if self._parts.get(table) and self._folder is not None:
                path = self._folder / f"items-{table}-{column}.parquet"
                items.sink_parquet(path, compression="lz4")
                self._frames[key] = self._scan([path], key)
            else:
                self._frames[key] = self._native(items.collect(), key)
        return self._frames[key]

    def derived(
        self, key: str, build: Callable[[Mapping[str, pl.LazyFrame]], pl.DataFrame]
    ) -> nw.LazyFrame[Any]:
        """A table computed once from the staged tables with polars, then handed to the
        engine: for what backends cannot compute alike (Unicode NFKC, a Python function),
        done where the tables are staged. `build` gets the tables as lazy polars frames
        (scans of the parts), so it reads only the columns and rows it selects. `key`
        names it for reuse within the run."""
        if key not in self._frames:
            lazy = {name: self._polars(name) for name in [*self._tables, *self._parts]}
            self._frames[key] = self._native(build(lazy), key)
        return self._frames[key]

    def small(self, frame: pl.DataFrame, name: str = "") -> nw.LazyFrame[Any]:
        """A small driver-side table (codes of a vocabulary, ISO codes) for joins."""
        return self._native(frame, name)

    def collect(self, frame: nw.LazyFrame[Any]) -> pl.DataFrame:
        """Bring failure cases (few rows) back to the driver as a polars frame."""
        out = frame.collect(backend="polars").to_native()
        assert isinstance(out, pl.DataFrame)
        return out

    def collect_ranges(
        self,
        build: Callable[[tuple[int, int] | None], nw.LazyFrame[Any]],
        ranges: Sequence[tuple[int, int]],
    ) -> pl.DataFrame:
        """`build(None)`, a query over every document, collected. An engine that holds a
        join's inputs in memory (polars) collects `build(r)` for each `_doc` range `r`
        (first, last) instead and concatenates them, holding one range's rows at a time:
        grounding joins the texts, 4 GB at 10M facts, range by range of their parts. The
        ranges must cover every document the query can find rows for."""
        return self.collect(build(None))

    def workers(self) -> Workers | None:
        """A way to run `fn` over items on workers of the engine's own, results in order,
        where the workers see the run's folder and the export's at the driver's paths
        (the export has them write the large tables, `toolkit.export.tasks`); None when
        the engine has none, and everything runs in this process."""
        return None

    def has(self, name: str) -> bool:
        return name in self._tables or name in self._parts

    def columns(self, name: str) -> list[str]:
        if name in self._tables:
            return list(self._tables[name].columns)
        return list(self._schemas[name])

    @abstractmethod
    def with_hash(self, frame: nw.LazyFrame[Any], column: str, alias: str) -> nw.LazyFrame[Any]:
        """`frame` with `alias`, a 64-bit signed hash (Int64) of string column `column`,
        null where it is null: narwhals has no hash expression, each backend has its own.
        Equal strings hash alike within a run (engines need not agree with each other), so
        a group-by or join on long strings can run on the hash and compare the strings of
        the few rows it pairs (G606)."""

    @abstractmethod
    def _native(self, frame: pl.DataFrame, name: str) -> nw.LazyFrame[Any]:
        """The frame as a lazy frame of this backend."""

    def _scan(self, paths: Sequence[Path], name: str) -> nw.LazyFrame[Any]:
        """Parquet files as a lazy frame of this backend; backends that read Parquet
        themselves override it (this reads them into memory and hands them over)."""
        return self._native(pl.read_parquet(list(paths)), name)

    def close(self) -> None:
        """Release what the engine holds (a connection, a session it started)."""
        self._tables = {}
        self._parts = {}
        self._frames = {}


def engine_class(name: str) -> type[Engine]:
    try:
        target = ENGINES[name]
    except KeyError:
        choices = ", ".join(ENGINES)
        raise UsageError(f"unknown engine '{name}' (choose one of: {choices})") from None
    module, _, attr = target.partition(":")
    cls: type[Engine] = getattr(importlib.import_module(module), attr)
    return cls


@contextmanager
def open_engine(name: str = "polars", **options: Any) -> Iterator[Engine]:
    """Start engine `name` for one run and close it afterwards."""
    engine = engine_class(name)(**options)
    try:
        yield engine
    finally:
        engine.close()
