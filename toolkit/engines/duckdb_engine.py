"""DuckDB: the staged tables as views in one in-process connection: of their Parquet
parts (`read_parquet`, nothing copied), or of Arrow tables (frames given to `load`).

DuckDB spills joins and aggregations to its temporary directory when they outgrow
`memory_limit`, which is what makes it the engine for data larger than memory. The limit
is `memory_limit` (the command line's `--memory-limit`), else `$FACTKIT_MEMORY_LIMIT`,
else DuckDB's own (80% of the machine's memory); a run spills into a folder of its own
run folder (removed with it), not DuckDB's default `.tmp` in the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl

from toolkit.engines.base import Engine, EngineUnavailable
from toolkit.errors import UsageError

MEMORY_LIMIT = "FACTKIT_MEMORY_LIMIT"


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
        memory_limit = memory_limit or os.environ.get(MEMORY_LIMIT)
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        try:
            self._con = duckdb.connect(config=config)
        except duckdb.Error as error:  # a size DuckDB cannot read, e.g. '2 bananas'
            raise UsageError(f"memory limit '{memory_limit}': {error}") from None
        self._held: list[Any] = []  # Arrow tables the relations read from

    def load_parts(
        self,
        parts: Mapping[str, Sequence[Path]],
        schemas: Mapping[str, Mapping[str, pl.DataType]],
        folder: Path,
        *,
        held: Mapping[str, pl.DataFrame] | None = None,
    ) -> None:
        """As `Engine.load_parts`, and spill into the run's folder."""
        super().load_parts(parts, schemas, folder, held=held)
        spill = folder / "duckdb-spill"
        self._con.execute("SET temp_directory = ?", [str(spill)])

    def _native(self, frame: pl.DataFrame, name: str) -> nw.LazyFrame[Any]:
        arrow = frame.to_arrow()
        self._held.append(arrow)
        return nw.from_native(self._con.from_arrow(arrow))

    def _scan(self, paths: Sequence[Path], name: str) -> nw.LazyFrame[Any]:
        return nw.from_native(self._con.read_parquet([str(p) for p in paths]))

    def with_hash(self, frame: nw.LazyFrame[Any], column: str, alias: str) -> nw.LazyFrame[Any]:
        """DuckDB's `hash` (UBIGINT) moved down by 2^63 into BIGINT's range: one to one,
        where a plain cast would overflow on half the values."""
        value = _quoted(column)
        hashed = (
            f"CASE WHEN {value} IS NOT NULL THEN "
            f"CAST(CAST(hash({value}) AS HUGEINT) - {2**63} AS BIGINT) END"
        )
        out: nw.LazyFrame[Any] = nw.from_native(
            frame.to_native().project(f"*, {hashed} AS {_quoted(alias)}")
        )
        return out

    def close(self) -> None:
        super().close()
        self._held = []
        self._con.close()


def _quoted(name: str) -> str:
    """A column name as a DuckDB SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
