"""The engine contract: staged tables in, narwhals frames out, failure cases collected.

Every engine receives the same staged tables (polars frames built by the stage step) and
gives each one back as a `narwhals.LazyFrame` on its own backend. What differs between
backends is settled here, once, so that checks need not know where they run:

- `_doc` is a signed 64-bit integer (Spark has no unsigned types);
- every table has `_row`, its row number in staging order: engines keep no row order, so
  "the first occurrence" is the lowest `_row`;
- a list column's elements come with their positions (`items`), since narwhals has no
  positional explode and a pointer names the element (`/about/1`).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import narwhals as nw
import polars as pl

from toolkit.errors import UsageError
from toolkit.frames.base import DOC, PTR

ROW = "_row"

# name → module:class, imported only when chosen (Spark and DuckDB are optional).
ENGINES: dict[str, str] = {
    "polars": "toolkit.engines.polars_engine:PolarsEngine",
    "duckdb": "toolkit.engines.duckdb_engine:DuckDBEngine",
    "spark": "toolkit.engines.spark_engine:SparkEngine",
}


class EngineUnavailable(UsageError):
    """The chosen engine cannot start here (a package or Java missing); says what to install."""


def staged(frame: pl.DataFrame) -> pl.DataFrame:
    """A table as every engine receives it: `_doc` as Int64 and a `_row` order column."""
    if DOC in frame.columns:
        frame = frame.with_columns(pl.col(DOC).cast(pl.Int64))
    return frame.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))


def items_of(frame: pl.DataFrame, column: str) -> pl.DataFrame:
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

    def __init__(self) -> None:
        self._tables: dict[str, pl.DataFrame] = {}
        self._frames: dict[str, nw.LazyFrame[Any]] = {}

    def load(self, tables: Mapping[str, pl.DataFrame]) -> None:
        """Stage the run's tables (the engine may copy or spill them)."""
        self._tables = {name: staged(frame) for name, frame in tables.items()}
        self._frames = {}

    def table(self, name: str) -> nw.LazyFrame[Any]:
        """A staged table, with `_row`."""
        if name not in self._frames:
            self._frames[name] = self._native(self._tables[name], name)
        return self._frames[name]

    def items(self, table: str, column: str) -> nw.LazyFrame[Any]:
        """The elements of a list column with their positions `_i` (see `items_of`)."""
        key = f"{table}.{column}"
        if key not in self._frames:
            self._frames[key] = self._native(items_of(self._tables[table], column), key)
        return self._frames[key]

    def derived(
        self, key: str, build: Callable[[Mapping[str, pl.DataFrame]], pl.DataFrame]
    ) -> nw.LazyFrame[Any]:
        """A table computed once from the staged tables with polars, then handed to the
        engine: for what backends cannot compute alike (Unicode NFKC, a Python function),
        done where the tables are staged. `key` names it for reuse within the run."""
        if key not in self._frames:
            self._frames[key] = self._native(build(self._tables), key)
        return self._frames[key]

    def small(self, frame: pl.DataFrame, name: str = "") -> nw.LazyFrame[Any]:
        """A small driver-side table (codes of a vocabulary, ISO codes) for joins."""
        return self._native(frame, name)

    def collect(self, frame: nw.LazyFrame[Any]) -> pl.DataFrame:
        """Bring failure cases (few rows) back to the driver as a polars frame."""
        out = frame.collect(backend="polars").to_native()
        assert isinstance(out, pl.DataFrame)
        return out

    def has(self, name: str) -> bool:
        return name in self._tables

    def columns(self, name: str) -> list[str]:
        return list(self._tables[name].columns)

    @abstractmethod
    def _native(self, frame: pl.DataFrame, name: str) -> nw.LazyFrame[Any]:
        """The frame as a lazy frame of this backend."""

    def close(self) -> None:
        """Release what the engine holds (a connection, a session it started)."""
        self._tables = {}
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
