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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import narwhals as nw
import polars as pl

from toolkit.engines.base import Engine, EngineFailed, EngineUnavailable, Workers
from toolkit.errors import ExportError, UsageError
from toolkit.progress import NULL, Progress
from toolkit.stage.parts import WORK_DIR

if TYPE_CHECKING:
    from toolkit.cache import ParseCache
    from toolkit.checks.limits import ProblemBudget
    from toolkit.model.model import Model
    from toolkit.parsers.base import Limits
    from toolkit.stage import Staged

In = TypeVar("In")
Out = TypeVar("Out")
PARSE = "FACTKIT_SPARK_PARSE"  # where the files are read: executors or driver
PARSE_CHOICES = ("executors", "driver")
WRITE = "FACTKIT_SPARK_WRITE"  # who writes the partitioned export's tables: executors or driver
SLICE_ENV = "FACTKIT_SPARK_SLICE_BYTES"  # input bytes per staging task, about
DRIVER_MEMORY = "FACTKIT_SPARK_DRIVER_MEMORY"  # of a local session factkit starts
_OUT_OF_MEMORY = ("SparkOutOfMemoryError", "UNABLE_TO_ACQUIRE_MEMORY", "java.lang.OutOfMemoryError")

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


def machine_memory() -> int:
    """Bytes of memory this process may use: the machine's, or its cgroup's limit if lower."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


def default_driver_memory() -> str:
    """A local session's driver (its executors too): half the memory this process may
    use, 2g to 32g. The JVM takes its heap as it needs it; at 2g, 10M facts ran out of
    memory in a check, at 8g they completed."""
    gigabytes = machine_memory() // 2 // (1 << 30)
    return f"{min(max(gigabytes, 2), 32)}g"


def local_session(master: str = "local[2]", driver_memory: str | None = None) -> Any:
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
        .set("spark.driver.memory", driver_memory or default_driver_memory())
        .set("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG4J.as_uri()}")
        .set("spark.sql.session.timeZone", "UTC")
        .set("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    # the Python workers the executors start: this interpreter (factkit and its packages
    # are here), unless the caller chose one
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
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


_OUT_OF_MEMORY_HINT = (
    "Spark ran out of memory (in a check's query or a staging task): give it more, e.g. "
    f"{DRIVER_MEMORY}=16g for the local session factkit starts (by default half the "
    "machine's memory), the cluster's executors more memory, or --engine duckdb with "
    "--memory-limit on one machine"
)


def _out_of_memory(exc: Exception) -> bool:
    return any(mark in str(exc) for mark in _OUT_OF_MEMORY)


def _worker_error(exc: Exception) -> Exception:
    """A failed task as one line: the Python error the worker raised (Spark's message
    carries its whole traceback); an executor that cannot import factkit is a usage error."""
    if _out_of_memory(exc):
        return EngineFailed(_OUT_OF_MEMORY_HINT)
    text = str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # the worker's own exception is the last line of its traceback ("Name: message")
    raised = next((line for line in reversed(lines) if "Error" in line.partition(":")[0]), "")
    if "ModuleNotFoundError" in raised or "ImportError" in raised:
        return EngineUnavailable(
            f"Spark's Python workers cannot import factkit ({raised}): they need the Python "
            "factkit is installed in (PYSPARK_PYTHON, or spark.pyspark.python)"
        )
    kind, _, message = raised.partition(":")
    if kind.rpartition(".")[2] == "ExportError":  # a task of the export's said why
        return ExportError(message.strip())
    if "[Errno" in raised:  # a file a task wrote or read: a full disk, a permission
        return ExportError(f"a Spark task could not write or read a file: {raised}")
    if not raised:  # Spark's own reason, e.g. "Job aborted due to stage failure: ..."
        found = next((line for line in lines if "aborted" in line), type(exc).__name__)
        raised = found.lstrip(": ")
    return RuntimeError(f"a Spark task failed: {raised[:400]}")


def _bytes(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"{SLICE_ENV} must be a number of bytes, not {value!r}")
    return int(value)


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
        parse: str | None = None,
        slice_bytes: int | None = None,
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
        # where the files are read: "executors" (see `stage`) or "driver"; None: decided
        # when staging (executors when they share the run's folder with the driver)
        self.parse = parse or os.environ.get(PARSE) or None
        if self.parse not in (None, *PARSE_CHOICES):
            raise UsageError(
                f"{PARSE} must be one of {', '.join(PARSE_CHOICES)}, not {self.parse!r}"
            )
        self.slice_bytes = slice_bytes
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
            session = local_session(
                master or os.environ.get("FACTKIT_SPARK_MASTER", "local[2]"),
                os.environ.get(DRIVER_MEMORY) or None,
            )
            self._owned = True
        self.session = session

    def collect(self, frame: nw.LazyFrame[Any]) -> pl.DataFrame:
        """As `Engine.collect`; a query Spark cannot finish for want of memory is an
        `EngineFailed` saying what to give it, not a Java stack trace."""
        try:
            return super().collect(frame)
        except Exception as exc:
            if _out_of_memory(exc):
                raise EngineFailed(_OUT_OF_MEMORY_HINT) from None
            raise

    def parses_on_executors(self) -> bool:
        """Whether the executors read the files: on a classic session (Spark Connect runs no
        Python of factkit's on them) whose executors see the run's folder at the driver's
        path (`_shared`), unless `FACTKIT_SPARK_PARSE=driver` says otherwise."""
        if self.parse == "driver":
            return False
        if self._shared():
            return True
        if self.parse == "executors":
            raise UsageError(
                f"{PARSE}=executors needs a classic session whose executors share the run's "
                f"folder: a local master, or {WORK_DIR} on storage every executor sees"
            )
        return False

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
        """The files staged by factkit's own reader on the executors, a slice of files per
        task (`toolkit.stage.slices`), into the run's folder; on the driver when they
        cannot share it (see `parses_on_executors`). No parse cache on the executors."""
        if not self.parses_on_executors():
            return super().stage(model, paths, limits, budget, cache=cache, progress=progress)
        from toolkit.stage.slices import SLICE_BYTES, stage_sliced

        target = self.slice_bytes or _bytes(os.environ.get(SLICE_ENV)) or SLICE_BYTES
        return stage_sliced(
            model, paths, limits, budget, self._map, target=target, progress=progress
        )

    def workers(self) -> Workers | None:
        """The executors, for the export's partitioned tables: on a local session; on a
        cluster when `FACTKIT_SPARK_WRITE=executors` says the export's folder, like the
        run's (`FACTKIT_WORK_DIR`), is on storage every executor sees at the driver's
        path. `FACTKIT_SPARK_WRITE=driver` keeps the writing on the driver."""
        choice = os.environ.get(WRITE) or None
        if choice not in (None, *PARSE_CHOICES):
            raise UsageError(f"{WRITE} must be one of {', '.join(PARSE_CHOICES)}, not {choice!r}")
        if choice == "driver" or not self._shared():
            if choice == "executors":
                raise UsageError(
                    f"{WRITE}=executors needs a classic session whose executors share the "
                    f"run's folder: a local master, or {WORK_DIR} on storage every executor sees"
                )
            return None
        if choice == "executors" or self._local():
            return self._map
        return None

    def _map(self, fn: Callable[[In], Out], items: Sequence[In]) -> list[Out]:
        """`fn` over each item as one task each, on the executors, results in order."""
        if not items:
            return []
        context = self.session.sparkContext
        context.setJobDescription(f"factkit: {fn.__name__} over {len(items)} tasks")
        try:
            found: list[Out] = context.parallelize(list(items), len(items)).map(fn).collect()
        except Exception as exc:
            raise _worker_error(exc) from None
        finally:
            context.setJobDescription(None)  # the checks' jobs are not staging
        return found

    def _native(self, frame: pl.DataFrame, name: str) -> nw.LazyFrame[Any]:
        """A table of `parquet_rows` rows or more, when the executors share the driver's
        files (`_shared`), is written once to Parquet in a folder of the engine's and read
        from there; smaller ones, and every table on Spark Connect or a cluster without a
        shared `FACTKIT_WORK_DIR`, go through `createDataFrame`.

        `createDataFrame` keeps the Arrow batches in the driver and decodes every column
        of them again in each query that scans the table: X704's one query over every
        text column scanned each table once per column. Parquet is read column by column.
        """
        if frame.height < self.parquet_rows or not self._shared():
            arrow = frame.to_arrow(compat_level=OLDEST)
            created: nw.LazyFrame[Any] = nw.from_native(self.session.createDataFrame(arrow))
            return created
        # Parquet has no column of nulls only: such columns are added back as Spark's.
        nulls = [c for c, dtype in frame.schema.items() if dtype == pl.Null]
        from pyspark.sql.pandas.types import from_arrow_schema

        if self._copies is None:
            base = os.environ.get(WORK_DIR) or None  # shared with a cluster's executors
            self._copies = tempfile.mkdtemp(prefix="factkit-spark-", dir=base)
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

    def with_hash(self, frame: nw.LazyFrame[Any], column: str, alias: str) -> nw.LazyFrame[Any]:
        """Spark's `xxhash64` (a long already); null stays null (xxhash64 gives its seed)."""
        from pyspark.sql import functions as F

        value = F.col(column)
        hashed = F.when(value.isNotNull(), F.xxhash64(value))
        out: nw.LazyFrame[Any] = nw.from_native(frame.to_native().withColumn(alias, hashed))
        return out

    def _master(self) -> str | None:
        """The session's master URL; None on Spark Connect, which has no SparkContext."""
        try:
            return str(self.session.sparkContext.master)
        except Exception:
            return None

    def _local(self) -> bool:
        """Whether the session is a classic one on this machine (`local[...]`)."""
        master = self._master()
        return master is not None and master.startswith("local")

    def _shared(self) -> bool:
        """Whether the executors see the run's folder at the driver's path: on this
        machine, or on a cluster when `FACTKIT_WORK_DIR` names shared storage for it."""
        master = self._master()
        return master is not None and (master.startswith("local") or bool(os.environ.get(WORK_DIR)))

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
        """The parts read by Spark itself when its executors share the run's folder
        (`_shared`); otherwise they go through Arrow, since the folder is on the driver
        only. (`paths`: a sequence of `Path`s, as `Engine._scan`.)"""
        files = [str(p) for p in paths]
        if not self._shared():
            return self._native(pl.read_parquet(files), name)
        frame: nw.LazyFrame[Any] = nw.from_native(self.session.read.parquet(*files))
        return frame
