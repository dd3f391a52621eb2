"""The default engine: the staged polars frames themselves, or scans of their parts, lazily."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl

from toolkit.engines.base import Engine


class PolarsEngine(Engine):
    name = "polars"
    takes_frames = True  # a run held in memory is checked there, without Parquet

    def _native(self, frame: pl.DataFrame, name: str) -> nw.LazyFrame[Any]:
        return nw.from_native(frame.lazy())

    def with_hash(self, frame: nw.LazyFrame[Any], column: str, alias: str) -> nw.LazyFrame[Any]:
        """polars' `hash` (UInt64), its bits read as Int64."""
        native: pl.LazyFrame = frame.to_native()
        value = pl.col(column)
        hashed = pl.when(value.is_not_null()).then(value.hash().reinterpret(signed=True))
        return nw.from_native(native.with_columns(hashed.alias(alias)))

    def _scan(self, paths: Sequence[Path], name: str) -> nw.LazyFrame[Any]:
        return nw.from_native(pl.scan_parquet(list(paths)))

    def collect_ranges(
        self,
        build: Callable[[tuple[int, int] | None], nw.LazyFrame[Any]],
        ranges: Sequence[tuple[int, int]],
    ) -> pl.DataFrame:
        """Range by range (see `Engine.collect_ranges`): polars holds a join's build side
        in memory; the parts' statistics let each range's scans skip the other rows."""
        if len(ranges) <= 1:
            return self.collect(build(None))
        return pl.concat([self.collect(build(r)) for r in ranges], how="vertical")
