"""Spark: the staged tables as Spark DataFrames, on a cluster or a local session.

Which session: the one given (tests share one), else the active one, else a Spark Connect
server (`remote`, e.g. `sc://host:15002`), else under `spark-submit` a session with the
configuration it was submitted with (its `--master`, memory, ...), else a new local session
on `master` (default `local[2]`). A session this engine started is stopped when the run
ends; one it was given or found is left running.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import narwhals as nw
import polars as pl

from toolkit.engines.base import Engine, EngineUnavailable

_INSTALL = "the spark engine needs pyspark: pip install 'factkit[spark]'"
_JAVA = (
    "Spark could not start: it needs a Java 17 or 21 runtime (e.g. the Debian package "
    "openjdk-17-jre-headless) on PATH or in JAVA_HOME"
)


def local_session(master: str = "local[2]", driver_memory: str = "2g") -> Any:
    """A local session sized for one machine: no web UI, few shuffle partitions, bound to
    the loopback interface, UTC."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(_INSTALL) from None
    builder = (
        SparkSession.builder.master(master)
        .appName("factkit")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # pyspark raises its own runtime errors when Java is missing
        raise EngineUnavailable(f"{_JAVA} ({type(exc).__name__})") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


# pyspark warns on import that it does not fully support pandas 3; factkit hands Spark
# Arrow data and never goes through pandas, so the warning says nothing to a user.
_PANDAS_WARNING = "PySpark does not yet fully support pandas"


class SparkEngine(Engine):
    name = "spark"

    def __init__(
        self,
        *,
        session: Any = None,
        master: str | None = None,
        remote: str | None = None,
    ) -> None:
        super().__init__()
        warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise EngineUnavailable(_INSTALL) from None
        self._owned = False
        remote = remote or os.environ.get("FACTKIT_SPARK_REMOTE")
        if session is None and remote is None and master is None:
            session = SparkSession.getActiveSession()
        if session is None and remote is not None:
            try:
                session = SparkSession.builder.remote(remote).getOrCreate()
            except Exception as exc:
                raise EngineUnavailable(
                    f"cannot reach Spark Connect at {remote}: {type(exc).__name__}"
                ) from None
            self._owned = True
        if session is None and master is None and "PYSPARK_GATEWAY_PORT" in os.environ:
            # spark-submit started the JVM and holds no session yet: take its configuration
            # as it is (a master set here would override the one it was given).
            session = SparkSession.builder.appName("factkit").getOrCreate()
            self._owned = True
        if session is None:
            session = local_session(master or os.environ.get("FACTKIT_SPARK_MASTER", "local[2]"))
            self._owned = True
        self.session = session

    def _native(self, frame: pl.DataFrame, name: str) -> nw.LazyFrame[Any]:
        arrow = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
        frame_: nw.LazyFrame[Any] = nw.from_native(self.session.createDataFrame(arrow))
        return frame_

    def close(self) -> None:
        super().close()
        if self._owned:
            self.session.stop()

    def _scan(self, paths: Any, name: str) -> nw.LazyFrame[Any]:
        """The parts read by Spark itself when its executors share this machine's files (a
        local master); a cluster or Spark Connect gets them through Arrow, since the run's
        folder is on the driver only. (`paths`: a sequence of `Path`s, as `Engine._scan`.)"""
        files = [str(p) for p in paths]
        try:
            local = str(self.session.conf.get("spark.master", "")).startswith("local")
        except Exception:  # Spark Connect may not say: hand the data over
            local = False
        if not local:
            return self._native(pl.read_parquet(files), name)
        frame: nw.LazyFrame[Any] = nw.from_native(self.session.read.parquet(*files))
        return frame
