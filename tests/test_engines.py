"""Every engine gives the same report, problem for problem, over every fixture and the
dataset: the checks are written once and only where they run differs.

DuckDB runs each case on its own, against the polars report test_fixtures also reads
(conftest's `polars_report`). Spark runs every case and the dataset in one run on a local
session shared by the test run (conftest's `spark`): every Spark job costs a fraction of a
second, so seventy runs of every check would take most of CI's time, while one run over
all cases holds each case's problems (and the ones their ids cause across cases) to
polars' in one pass. FACTKIT_SPARK_EACH=1 runs Spark case by case as well, to find which
case differs.
Without pyspark or Java the Spark tests are skipped with the reason, unless
FACTKIT_REQUIRE_SPARK=1 (CI sets it), which turns the skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.checker import validate
from toolkit.engines import open_engine
from toolkit.result import Report

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


def _datasets() -> list[Path]:
    kinds = ("valid", "invalid", "hostile")
    cases = [p / "data" for kind in kinds for p in sorted((FIXTURES / kind).iterdir())]
    return [p for p in cases if p.is_dir()] + [ROOT / "data"]


DATASETS = _datasets()


def _id(path: Path) -> str:
    return path.parent.name if path.name == "data" and path.parent != ROOT else "dataset"


def _problems(report: Report) -> list[dict[str, Any]]:
    return [p.to_dict() for p in report.problems]


@pytest.mark.parametrize("path", DATASETS, ids=_id)
def test_duckdb_gives_the_polars_report(
    path: Path, polars_report: Callable[[Path], Report]
) -> None:
    report = validate([str(path)], engine="duckdb")
    assert _problems(report) == _problems(polars_report(path))


def test_spark_gives_the_polars_report_over_every_case_at_once(spark: Any) -> None:
    paths = [str(path) for path in DATASETS]
    expected = _problems(validate(paths))
    wanted = {
        want["code"]
        for case in sorted((FIXTURES / "invalid").iterdir())
        for want in yaml.safe_load((case / "expected.yaml").read_text("utf-8"))["problems"]
    }
    # Nearly every code the cases show shows in this run too; merged, cases share ids
    # (two supersedes-newer agreements become one id), which can change a case's problem.
    assert len(wanted - {p["code"] for p in expected}) <= 2
    # every table through Parquet, as at scale (the small ones go through createDataFrame
    # in the export tests below): the copies are Parquet files in a folder of the engine's,
    # the tables are scanned from them, and the folder goes with the engine, not the session
    # (this run also holds what test_spark_engine would check on a run of its own)
    # the files read on the executors, a slice of about 256 KB per task (several slices,
    # each moved on by those before it: toolkit.stage.slices)
    with open_engine("spark", session=spark, parquet_rows=0, slice_bytes=1 << 18) as engine:
        tasks: list[tuple[str, int]] = []
        run_tasks = engine._map  # type: ignore[attr-defined]

        def counted(fn: Any, items: Any) -> Any:
            tasks.append((fn.__name__, len(items)))
            return run_tasks(fn, items)

        engine._map = counted  # type: ignore[attr-defined]
        assert _problems(validate(paths, engine=engine)) == expected
        assert [name for name, _ in tasks] == ["stage_slice", "shift_slice"]
        assert tasks[0][1] > 1 and tasks[1][1] == tasks[0][1] - 1
        folder = engine._copies  # type: ignore[attr-defined]
        assert folder is not None
        written = sorted(os.listdir(folder))
        assert written and all(name.endswith(".parquet") for name in written)
        native = engine.table("sources").to_native()
        assert "Parquet" in native._jdf.queryExecution().executedPlan().toString()
    assert not os.path.exists(folder)
    assert not spark.sparkContext._jsc.sc().isStopped()  # a session given is left running


@pytest.mark.skipif(
    os.environ.get("FACTKIT_SPARK_EACH") != "1",
    reason="case by case only with FACTKIT_SPARK_EACH=1",
)
@pytest.mark.parametrize("path", DATASETS, ids=_id)
def test_spark_gives_the_polars_report_case_by_case(
    path: Path, spark: Any, polars_report: Callable[[Path], Report]
) -> None:
    with open_engine("spark", session=spark) as engine:
        report = validate([str(path)], engine=engine)
    assert _problems(report) == _problems(polars_report(path))


def test_an_unknown_engine_is_a_usage_error() -> None:
    from toolkit.errors import UsageError

    with pytest.raises(UsageError, match="choose one of: polars, duckdb, spark"):
        validate([str(ROOT / "data")], engine="dask")


# Every valid case and the dataset: what each engine checked, polars writes, so the files
# must not depend on the engine (the invalid cases write nothing; their reports are above).
EXPORTED = [p for p in DATASETS if p.parent.parent.name == "valid"] + [ROOT / "data"]


def _export(path: Path, out: Path, engine: Any) -> dict[Path, bytes]:
    from toolkit import checker
    from toolkit.export import export

    with checker.options(engine=engine):
        assert export([str(path)], out).written
    return _files(out)


def _files(out: Path) -> dict[Path, bytes]:
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def polars_exports(
    tmp_path_factory: pytest.TempPathFactory, seed_export: tuple[Any, Path]
) -> dict[Path, dict[Path, bytes]]:
    """Each case's export on polars; the dataset's is conftest's `seed_export`."""
    return {
        path: _files(seed_export[1])
        if path == ROOT / "data"
        else _export(path, tmp_path_factory.mktemp("polars") / "out", "polars")
        for path in EXPORTED
    }


@pytest.mark.parametrize("name", ["duckdb", "spark"])
def test_an_export_writes_the_same_files_on_every_engine(
    name: str,
    request: pytest.FixtureRequest,
    polars_exports: dict[Path, dict[Path, bytes]],
    tmp_path: Path,
) -> None:
    options = {"session": request.getfixturevalue("spark")} if name == "spark" else {}
    with open_engine(name, **options) as engine:
        for i, path in enumerate(EXPORTED):
            files = _export(path, tmp_path / str(i), engine)
            assert len(files) > 20, path
            assert files == polars_exports[path], path
        if name == "spark":  # the tables of every run were small: none went through Parquet
            assert engine._copies is None  # type: ignore[attr-defined]


def _counted(engine: Any, name: str) -> list[int]:
    """The number of items of each batch of tasks named `name` the engine runs from now on."""
    counts: list[int] = []
    run_tasks = engine._map

    def counted(fn: Any, items: Any) -> Any:
        if fn.__name__ == name:
            counts.append(len(items))
        return run_tasks(fn, items)

    engine._map = counted
    return counts


def test_spark_executors_write_the_partitioned_tables(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the partitioned layout, the fact and part tables are written by Spark's
    executors, a few years of a table per task (toolkit.export.tasks): the files are
    those polars writes on the driver."""
    from toolkit import checker
    from toolkit.export import export, tasks
    from toolkit.synth import synthesize

    monkeypatch.setattr(tasks, "ROWS_PER_TASK", 40)
    synthetic = tmp_path / "synthetic" / "bundles.jsonl"
    synthetic.parent.mkdir()
    synthesize(synthetic, 400, seed=3)
    for i, path in enumerate([synthetic.parent, ROOT / "data"]):
        out = tmp_path / str(i)
        assert export([str(path)], out / "polars", layout="partitioned").written
        with open_engine("spark", session=spark) as engine:
            written = _counted(engine, "write")
            with checker.options(engine=engine):
                result = export([str(path)], out / "spark", layout="partitioned")
        assert result.written
        assert len(written) == 1 and written[0] > 1, written
        assert _files(out / "spark") == _files(out / "polars"), path
        # Spark reads a table's dataset as one table, the year a column of it
        statements = spark.read.parquet(str(out / "spark" / "statements"))
        assert statements.count() == result.tables["statements"] > 0
        assert "published_year" in statements.columns


def test_polars_a_document_range_at_a_time_gives_the_report_of_one_query(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checks whose groups stay inside a document (I201) run a `_doc` range of about
    RANGE_ROWS rows at a time on polars; with ranges of a few rows, every case at once gives
    the report of one query per check."""
    from toolkit.checks import base
    from toolkit.engines.polars_engine import PolarsEngine

    paths = [str(path) for path in DATASETS]
    expected = _problems(validate(paths))
    assert "I201" in {p["code"] for p in expected}
    ranges: list[int] = []
    collect_ranges = PolarsEngine.collect_ranges

    def counted(self: PolarsEngine, build: Any, spans: Any) -> Any:
        ranges.append(len(spans))
        return collect_ranges(self, build, spans)

    monkeypatch.setattr(base, "RANGE_ROWS", 3)
    monkeypatch.setattr(PolarsEngine, "collect_ranges", counted)
    assert _problems(validate(paths)) == expected
    assert max(ranges) > 100
