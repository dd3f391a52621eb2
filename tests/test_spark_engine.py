"""The Spark engine's own housekeeping: the Parquet copies of the tables handed to it (derived
and driver-side tables; the staged ones it scans from the run's parts) live in a
folder of the engine's, removed when the run ends, whether it ended well or not; a local
session factkit starts says nothing on stderr.

That a run's copies are Parquet files the tables are scanned from, in a folder removed with
the engine, and that small tables stay in memory, is checked on the runs test_engines makes
anyway (every case with `parquet_rows=0`; the exports), not on runs of their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from toolkit.checker import validate
from toolkit.checks import registry
from toolkit.checks.base import CheckContext, Failures
from toolkit.engines import open_engine
from toolkit.errors import ExportError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
INVALID = ROOT / "fixtures" / "invalid" / "vocabulary-typo" / "data"


def test_the_folder_is_removed_after_a_failing_run(
    spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def failing(ctx: CheckContext) -> list[Failures]:
        ctx.small(pl.DataFrame({"code": ["x"]})).collect()  # a table handed over: a copy
        seen.append(ctx.engine._copies)  # type: ignore[union-attr]
        raise RuntimeError("a check failed")

    monkeypatch.setattr(registry, "checks", lambda: (failing,))
    with (
        pytest.raises(RuntimeError, match="a check failed"),
        open_engine("spark", session=spark, parquet_rows=0) as engine,
    ):
        validate([str(DATA)], engine=engine)
    assert seen and seen[0] is not None
    assert not os.path.exists(seen[0])


def test_a_session_factkit_starts_prints_nothing_of_its_own_on_stderr(spark: Any) -> None:
    """In a fresh interpreter (a JVM of its own): Spark's start-up lines, its warnings and
    the JVM's notes stay out of what a user sees; factkit's output is polars' output."""

    def validate_cli(engine: str) -> subprocess.CompletedProcess[str]:
        argv = ["validate", "--no-cache", "--engine", engine, str(INVALID)]
        return subprocess.run(
            [sys.executable, "-m", "toolkit", *argv],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )

    polars, spark_run = validate_cli("polars"), validate_cli("spark")
    assert polars.returncode == spark_run.returncode == 1
    assert spark_run.stderr == polars.stderr
    assert spark_run.stdout == polars.stdout


def test_where_files_are_read_is_a_choice_checked_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from toolkit.engines.spark_engine import SparkEngine
    from toolkit.errors import UsageError

    monkeypatch.setenv("FACTKIT_SPARK_PARSE", "workers")
    with pytest.raises(UsageError, match="FACTKIT_SPARK_PARSE must be one of executors, driver"):
        SparkEngine(session=object())


def test_a_task_that_fails_on_a_worker_says_why_in_one_line() -> None:
    from toolkit.engines.base import EngineUnavailable
    from toolkit.engines.spark_engine import _worker_error

    trace = (
        "An exception was thrown from the Python worker: Traceback (most recent call last):\n"
        '  File "worker.py", line 1, in <module>\n'
        "ModuleNotFoundError: No module named 'polars'\n"
    )
    error = _worker_error(RuntimeError(trace))
    assert isinstance(error, EngineUnavailable)
    assert "No module named 'polars'" in str(error) and "PYSPARK_PYTHON" in str(error)
    assert "Traceback" not in str(error)
    other = _worker_error(RuntimeError("Traceback:\n  ...\nValueError: bad slice\n"))
    assert str(other) == "a Spark task failed: ValueError: bad slice"
    # what a task of the export says, and a file it could not write, are the export's errors
    said = _worker_error(RuntimeError("...\ntoolkit.errors.ExportError: statements: a bug\n"))
    assert isinstance(said, ExportError) and str(said) == "statements: a bug"
    full = _worker_error(RuntimeError("...\nOSError: [Errno 28] No space left on device\n"))
    assert isinstance(full, ExportError) and "No space left on device" in str(full)
    # no Python error: Spark's own reason for aborting the job
    java = (
        "An error occurred while calling z:org.apache.spark.api.python.PythonRDD.collect.\n"
        ": org.apache.spark.SparkException: Job aborted due to stage failure: Total size of "
        "serialized results of 8 tasks (1107.4 MiB) is bigger than spark.driver.maxResultSize\n"
        "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages\n"
    )
    aborted = str(_worker_error(RuntimeError(java)))
    assert aborted.startswith("a Spark task failed: org.apache.spark.SparkException: Job abor")
    assert "maxResultSize" in aborted and "DAGScheduler" not in aborted


def test_files_are_read_on_a_cluster_only_when_its_executors_share_the_run_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A cluster's executors write the slices' parts where the driver must read them: only
    with FACTKIT_WORK_DIR (taken as shared storage); asked for without it, a usage error."""
    from types import SimpleNamespace

    from toolkit.engines.spark_engine import SparkEngine
    from toolkit.errors import UsageError

    cluster = SimpleNamespace(sparkContext=SimpleNamespace(master="spark://head:7077"))
    monkeypatch.delenv("FACTKIT_WORK_DIR", raising=False)
    monkeypatch.delenv("FACTKIT_SPARK_PARSE", raising=False)
    assert not SparkEngine(session=cluster).parses_on_executors()  # read on the driver
    with pytest.raises(UsageError, match="FACTKIT_WORK_DIR on storage every executor sees"):
        SparkEngine(session=cluster, parse="executors").parses_on_executors()
    monkeypatch.setenv("FACTKIT_WORK_DIR", str(tmp_path))
    assert SparkEngine(session=cluster).parses_on_executors()
    assert not SparkEngine(session=cluster, parse="driver").parses_on_executors()
    local = SimpleNamespace(sparkContext=SimpleNamespace(master="local[2]"))
    monkeypatch.delenv("FACTKIT_WORK_DIR")
    assert SparkEngine(session=local).parses_on_executors()


def test_the_export_is_written_on_executors_that_share_its_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A local session's executors write the partitioned tables; a cluster's only when
    FACTKIT_SPARK_WRITE=executors says they see the export's folder (and FACTKIT_WORK_DIR
    the run's); FACTKIT_SPARK_WRITE=driver keeps the writing on the driver."""
    from types import SimpleNamespace

    from toolkit.engines.spark_engine import WRITE, SparkEngine
    from toolkit.errors import UsageError

    local = SimpleNamespace(sparkContext=SimpleNamespace(master="local[2]"))
    cluster = SimpleNamespace(sparkContext=SimpleNamespace(master="spark://head:7077"))
    monkeypatch.delenv("FACTKIT_WORK_DIR", raising=False)
    monkeypatch.delenv(WRITE, raising=False)
    assert SparkEngine(session=local).workers() is not None
    assert SparkEngine(session=cluster).workers() is None
    monkeypatch.setenv(WRITE, "executors")
    with pytest.raises(UsageError, match="FACTKIT_WORK_DIR on storage every executor sees"):
        SparkEngine(session=cluster).workers()
    monkeypatch.setenv("FACTKIT_WORK_DIR", str(tmp_path))
    assert SparkEngine(session=cluster).workers() is not None
    monkeypatch.setenv(WRITE, "driver")
    assert SparkEngine(session=local).workers() is None
    monkeypatch.setenv(WRITE, "everywhere")
    with pytest.raises(UsageError, match="must be one of executors, driver"):
        SparkEngine(session=local).workers()


def test_spark_out_of_memory_says_what_to_give_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check's query or a staging task that Spark cannot finish for want of memory is an
    EngineFailed naming the knob (exit 2, one line), not a Java stack trace; any other
    failure is left as it is."""
    from types import SimpleNamespace

    from toolkit.engines.base import Engine, EngineFailed
    from toolkit.engines.spark_engine import SparkEngine, _worker_error

    java = (
        "An error occurred while calling o9475.getResult.\n"
        ": org.apache.spark.SparkException: Job aborted\n"
        "org.apache.spark.memory.SparkOutOfMemoryError: [UNABLE_TO_ACQUIRE_MEMORY] Unable to "
        "acquire 262144 bytes of memory, got 65536.\n\tat org.apache.spark.memory..."
    )

    def failing(self: Engine, frame: Any) -> Any:
        raise RuntimeError(java)

    monkeypatch.setattr(Engine, "collect", failing)
    engine = SparkEngine(session=SimpleNamespace(sparkContext=SimpleNamespace(master="local[2]")))
    with pytest.raises(EngineFailed, match="FACTKIT_SPARK_DRIVER_MEMORY=16g") as caught:
        engine.collect(object())  # type: ignore[arg-type]
    assert "\n" not in str(caught.value) and "at org.apache" not in str(caught.value)
    assert isinstance(_worker_error(RuntimeError(java)), EngineFailed)

    def other(self: Engine, frame: Any) -> Any:
        raise ValueError("not memory")

    monkeypatch.setattr(Engine, "collect", other)
    with pytest.raises(ValueError, match="not memory"):
        engine.collect(object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("memory", "expected"),
    [(1 << 30, "2g"), (24 << 30, "12g"), (23 << 30, "11g"), (256 << 30, "32g")],
)
def test_a_local_driver_takes_half_the_memory(
    monkeypatch: pytest.MonkeyPatch, memory: int, expected: str
) -> None:
    """At 2g, 10M facts ran out of memory in a check; half of a 24 GB machine held them."""
    from toolkit.engines import spark_engine

    monkeypatch.setattr(spark_engine, "machine_memory", lambda: memory)
    assert spark_engine.default_driver_memory() == expected


def test_machine_memory_is_positive_and_at_most_the_machine() -> None:
    from toolkit.engines.spark_engine import machine_memory

    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < machine_memory() <= total
