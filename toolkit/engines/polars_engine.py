"""The default engine: the staged polars frames themselves, lazily."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from toolkit.engines.base import Engine


class PolarsEngine(Engine):
    name = "polars"

    def _native(self, frame: pl.DataFrame, name: str) -> nw.LazyFrame[Any]:
        return nw.from_native(frame.lazy())
