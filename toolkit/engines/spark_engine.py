"""Spark: the staged tables as Spark DataFrames, on a cluster or a local session.

Which session: the one given (tests share one), else the active one, else a Spark Connect
server (`remote`, e.g. `sc://host:15002`), else under `spark-submit` a session with the
configuration it was submitted with (its `--master`, memory, ...), else a new local session
on `master` (default `local[2]`). A session this engine started is stopped when the run
ends; one it was given or found is left running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import IO, Any

import narwhals as nw
import polars as pl

from toolkit.engines.base import Engine, EngineUnavailable

_INSTALL = "the spark engine needs pyspark: pip install 'factkit[spark]'"
_JAVA = (
    "Spark could not start: it needs a Java 17 or 21 runtime (e.g. the Debian package "
    "openjdk-17-jre-headless) on PATH or in JAVA_HOME"
)


# errors only, on stderr: for the sessions factkit starts itself (see `local_session`)
LOG4J = Path(__file__).with_name("log4j2.properties")
# Lines the JVM prints on stderr past any logging configuration: the JVM's note on the
# incubator module Spark's launcher always adds, and Spark's note on the level of a shell.
_JVM_NOTES = (
    b"WARNING: Using incubator modules",
    b"Setting default log level to",
    b"To adjust logging level use sc.setLogLevel",
)


def local_session(master: str = "local[2]", driver_memory: str = "2g") -> Any:
    """A local session sized for one machine: no web UI, few shuffle partitions, bound to
    the loopback interface, UTC; started quietly (factkit's logging configuration, and
    the JVM's notes left out of stderr)."""
    try:
        from pyspark import SparkConf
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(_INSTALL) from None
    conf = (
        SparkConf()
        .setMaster(master)
        .setAppName("factkit")
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
        .set("spark.sql.shuffle.partitions", "4")
        .set("spark.default.parallelism", "4")
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.driver.memory", driver_memory)
        .set("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG4J.as_uri()}")
        .set("spark.sql.session.timeZone", "UTC")
        .set("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    try:
        _launch_quietly(conf)
        session = SparkSession.builder.config(conf=conf).getOrCreate()
    except Exception as exc:  # pyspark raises its own runtime errors when Java is missing
        raise EngineUnavailable(f"{_JAVA} ({type(exc).__name__})") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def _launch_quietly(conf: Any) -> None:
    """Start the JVM as pyspark would, its stderr passed on without `_JVM_NOTES`. A JVM
    already running (an earlier session of this process) is reused as it is."""
    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None:
        return
    gateway = launch_gateway(conf, popen_kwargs={"stderr": subprocess.PIPE})  # type: ignore[no-untyped-call]
    stream = gateway.proc.stderr
    threading.Thread(target=_pass_on, args=(stream,), daemon=True).start()
    SparkContext._gateway = gateway
    SparkContext._jvm = gateway.jvm


def _pass_on(stream: IO[bytes]) -> None:
    for line in iter(stream.readline, b""):
        if not line.startswith(_JVM_NOTES):
            sys.stderr.write(line.decode("utf-8", "replace"))
            sys.stderr.flush()


# pyspark warns on import that it does not fully support pandas 3; factkit hands Spark
# Arrow data and never goes through pandas, so the warning says nothing to a user.
_PANDAS_WARNING = "PySpark does not yet fully support pandas"
# Arrow as Spark reads it: plain strings and lists, not polars' string views
OLDEST = pl.CompatLevel.oldest()


class SparkEngine(Engine):
    name = "spark"

    def __init__(
        self,
        *,
        session: Any = None,
        master: str | None = None,
        remote: str | None = None,
        parquet_rows: int = 10_000,
    ) -> None:
        super().__init__()
        warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise EngineUnavailable(_INSTALL) from None
        self._owned = False
        # where staged tables are written as Parquet for a local session (see `_native`)
        self._copies: str | None = None
        self.parquet_rows = parquet_rows
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
        """A table of `parquet_rows` rows or more, on a local session, is written once to
        Parquet in a folder of the engine's and read from there; smaller ones, and every
        table on a cluster or Spark Connect (whose executors do not see this machine's
        files), go through `createDataFrame`.

        `createDataFrame` keeps the Arrow batches in the driver and decodes every column
        of them again in each query that scans the table: X704's one query over every
        text column scanned each table once per column. Parquet is read column by column.
        """
        if frame.height < self.parquet_rows or not self._local():
            arrow = frame.to_arrow(compat_level=OLDEST)
            created: nw.LazyFrame[Any] = nw.from_native(self.session.createDataFrame(arrow))
            return created
        # Parquet has no column of nulls only: such columns are added back as Spark's.
        nulls = [c for c, dtype in frame.schema.items() if dtype == pl.Null]
        from pyspark.sql.pandas.types import from_arrow_schema

        if self._copies is None:
            self._copies = tempfile.mkdtemp(prefix="factkit-spark-")
        path = os.path.join(self._copies, f"{len(os.listdir(self._copies))}.parquet")
        written = frame.drop(nulls)
        written.write_parquet(path, statistics=False)
        # the schema given, Spark reads no footer to infer it (a job per table)
        schema = from_arrow_schema(written.head(0).to_arrow(compat_level=OLDEST).schema)
        native = self.session.read.schema(schema).parquet(path)
        if nulls:
            from pyspark.sql import functions as F

            native = native.select(
                *(F.lit(None).alias(c) if c in nulls else F.col(c) for c in frame.columns)
            )
        read: nw.LazyFrame[Any] = nw.from_native(native)
        return read

    def _local(self) -> bool:
        """Whether the session is a classic one on this machine (`local[...]`)."""
        try:
            master = str(self.session.sparkContext.master)
        except Exception:  # Spark Connect has no SparkContext
            return False
        return master.startswith("local")

    def close(self) -> None:
        super().close()
        try:
            if self._owned:
                self.session.stop()
        finally:
            if self._copies is not None:
                shutil.rmtree(self._copies, ignore_errors=True)
                self._copies = None

    def _scan(self, paths: Any, name: str) -> nw.LazyFrame[Any]:
        """The parts read by Spark itself when its executors share this machine's files (a
        local master); a cluster or Spark Connect gets them through Arrow, since the run's
        folder is on the driver only. (`paths`: a sequence of `Path`s, as `Engine._scan`.)"""
        files = [str(p) for p in paths]
        if not self._local():
            return self._native(pl.read_parquet(files), name)
        frame: nw.LazyFrame[Any] = nw.from_native(self.session.read.parquet(*files))
        return frame
