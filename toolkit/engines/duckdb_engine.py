"""DuckDB: the staged tables as views in one in-process connection: of their Parquet
parts (`read_parquet`, nothing copied), or of Arrow tables (frames given to `load`).

DuckDB spills joins and aggregations to its temporary directory when they outgrow
`memory_limit`, which is what makes it the engine for data larger than memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl

from toolkit.engines.base import Engine, EngineUnavailable


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(self, *, memory_limit: str | None = None, threads: int | None = None) -> None:
        super().__init__()
        try:
            import duckdb
        except ImportError:
            raise EngineUnavailable(
                "the duckdb engine needs the duckdb package: pip install 'factkit[duckdb]'"
            ) from None
        config: dict[str, Any] = {}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        self._con = duckdb.connect(config=config)
        self._held: list[Any] = []  # Arrow tables the relations read from

    def _native(self, frame: pl.DataFrame, name: str) -> nw.LazyFrame[Any]:
        arrow = frame.to_arrow()
        self._held.append(arrow)
        return nw.from_native(self._con.from_arrow(arrow))

    def _scan(self, paths: Sequence[Path], name: str) -> nw.LazyFrame[Any]:
        return nw.from_native(self._con.read_parquet([str(p) for p in paths]))

    def close(self) -> None:
        super().close()
        self._held = []
        self._con.close()
