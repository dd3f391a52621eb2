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
