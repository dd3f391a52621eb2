"""Where the cross-record checks run: polars (embedded, the default), DuckDB (out of core on
one machine) or Spark (a cluster, or a local session).

A check is written once with narwhals expressions over `Engine.table(...)`; the engine
decides where they execute. Only failure cases come back to the driver, as polars frames:
hints, positions and the report are made there, over those few rows.
"""

from __future__ import annotations

from toolkit.engines.base import ENGINES, Engine, EngineFailed, EngineUnavailable, open_engine

__all__ = ["ENGINES", "Engine", "EngineFailed", "EngineUnavailable", "open_engine"]
