"""Every engine gives the same report, problem for problem, over every fixture and the
dataset: the checks are written once and only where they run differs.

DuckDB runs each case on its own. Spark runs each case too, on one local session shared
by the module (a session takes seconds to start). Without pyspark or Java the Spark
tests are skipped with the reason, unless FACTKIT_REQUIRE_SPARK=1 (CI sets it), which
turns the skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from toolkit.checker import validate
from toolkit.engines import EngineUnavailable, open_engine
from toolkit.result import Report

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


def _datasets() -> list[Path]:
    cases = [
        p / "data" for kind in ("valid", "invalid") for p in sorted((FIXTURES / kind).iterdir())
    ]
    return [p for p in cases if p.is_dir()] + [ROOT / "data"]


DATASETS = _datasets()


def _id(path: Path) -> str:
    return path.parent.name if path.name == "data" and path.parent != ROOT else "dataset"


def _problems(report: Report) -> list[dict[str, Any]]:
    return [p.to_dict() for p in report.problems]


@pytest.fixture(scope="module")
def polars_reports() -> dict[Path, list[dict[str, Any]]]:
    return {path: _problems(validate([str(path)])) for path in DATASETS}


@pytest.mark.parametrize("path", DATASETS, ids=_id)
def test_duckdb_gives_the_polars_report(
    path: Path, polars_reports: dict[Path, list[dict[str, Any]]]
) -> None:
    report = validate([str(path)], engine="duckdb")
    assert _problems(report) == polars_reports[path]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from toolkit.engines.spark_engine import local_session

    try:
        session = local_session("local[1]", driver_memory="1g")
    except EngineUnavailable as exc:
        if os.environ.get("FACTKIT_REQUIRE_SPARK") == "1":
            pytest.fail(f"Spark is required here (FACTKIT_REQUIRE_SPARK=1): {exc}")
        pytest.skip(f"no local Spark session: {exc}")
    yield session
    session.stop()


@pytest.mark.parametrize("path", DATASETS, ids=_id)
def test_spark_gives_the_polars_report(
    path: Path, spark: Any, polars_reports: dict[Path, list[dict[str, Any]]]
) -> None:
    with open_engine("spark", session=spark) as engine:
        report = validate([str(path)], engine=engine)
    assert _problems(report) == polars_reports[path]


def test_an_unknown_engine_is_a_usage_error() -> None:
    from toolkit.errors import UsageError

    with pytest.raises(UsageError, match="choose one of: polars, duckdb, spark"):
        validate([str(ROOT / "data")], engine="dask")
