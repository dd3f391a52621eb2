"""The partitioned layout's tables written by an engine's workers (`toolkit.export.tasks`).

Workers here are this process, each task and its result passed through pickle as they
would be to a Spark executor and back; tests/test_engines.py runs them on Spark's. The
files must be byte for byte those the driver writes, whatever the tasks' sizes.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from toolkit import checker
from toolkit.engines.polars_engine import PolarsEngine
from toolkit.errors import ExportError
from toolkit.export import ExportResult, assemble, export, tasks
from toolkit.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]


class Workers(PolarsEngine):
    """The polars engine with workers of its own: this process, through pickle."""

    def __init__(self, keep: Callable[[list[Any]], list[Any]] = list) -> None:
        super().__init__()
        self.batches: list[list[str]] = []  # the tables of each batch of tasks
        self.keep = keep  # which results come back

    def workers(self) -> Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]:
        def run(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
            self.batches.append([item.table for item in items])
            sent = [pickle.loads(pickle.dumps(item)) for item in items]
            return self.keep([pickle.loads(pickle.dumps(fn(item))) for item in sent])

        return run


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few hundred facts from sources published over a decade."""
    bundles = tmp_path_factory.mktemp("synthetic") / "bundles.jsonl"
    synthesize(bundles, 400, seed=3)
    return bundles.parent


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _export(
    data: Path, out: Path, engine: PolarsEngine | None = None, **options: Any
) -> ExportResult:
    with checker.options(engine=engine or "polars"):
        result = export([str(data)], out, layout="partitioned", **options)
    assert result.written
    return result


@pytest.mark.parametrize("rows", [40, tasks.ROWS_PER_TASK])
@pytest.mark.parametrize("formats", [("parquet", "csv"), ("csv",), ("parquet",)])
def test_workers_write_the_files_the_driver_writes(
    synthetic: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: int,
    formats: tuple[str, ...],
) -> None:
    driver = _export(synthetic, tmp_path / "driver", formats=formats)
    monkeypatch.setattr(tasks, "ROWS_PER_TASK", rows)
    engine = Workers()
    elsewhere = _export(synthetic, tmp_path / "workers", engine, formats=formats)
    assert _tree(tmp_path / "workers") == _tree(tmp_path / "driver")
    assert (elsewhere.files, elsewhere.tables) == (driver.files, driver.tables)
    (batch,) = engine.batches  # one batch, every fact and part table with rows in it
    partitioned = {t for t, n in driver.tables.items() if n and t in set(batch)}
    assert set(batch) == partitioned and "statements" in partitioned
    if rows == 40:  # small tasks: tables cut into several, each of whole years
        assert batch.count("statements") > 1
    else:
        assert len(batch) == len(partitioned)


def test_the_dataset_written_by_workers(tmp_path: Path) -> None:
    driver = _export(ROOT / "data", tmp_path / "driver")
    _export(ROOT / "data", tmp_path / "workers", Workers())
    assert _tree(tmp_path / "workers") == _tree(tmp_path / "driver")
    assert driver.tables["statements"] > 0


def test_a_table_replaced_in_memory_is_written_by_the_driver(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers read a table from its parts; one assigned in its place (as a check could)
    is what the driver holds, so the driver writes it, and its values reach the files."""
    planned = assemble.plan

    def plan(model: Any, tables: Any, **options: Any) -> assemble.Plan:
        tables["statements"] = tables["statements"].with_columns(pl.lit("replaced").alias("text"))
        return planned(model, tables, **options)

    monkeypatch.setattr(assemble, "plan", plan)
    engine = Workers()
    _export(synthetic, tmp_path / "out", engine)
    (batch,) = engine.batches
    assert "statements" not in batch and "agreements" in batch
    texts = pl.read_parquet(tmp_path / "out" / "statements", hive_partitioning=True)["text"]
    assert texts.len() > 0 and texts.eq("replaced").all()


@pytest.mark.parametrize(
    ("layout", "formats"), [("files", ("parquet", "csv")), ("partitioned", ("parquet", "sqlite"))]
)
def test_no_tasks_for_one_file_tables_or_sqlite(
    synthetic: Path, tmp_path: Path, layout: str, formats: tuple[str, ...]
) -> None:
    """The default layout's tables are one file each, written where they are typed; SQLite
    is made from every table at once, in this process."""
    engine = Workers()
    with checker.options(engine=engine):
        assert export([str(synthetic)], tmp_path, layout=layout, formats=formats).written
    assert engine.batches == []


def test_a_task_whose_files_do_not_come_back_fails_the_export(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "ROWS_PER_TASK", 40)
    engine = Workers(keep=lambda done: done[:-1])
    with (
        checker.options(engine=engine),
        pytest.raises(ExportError, match=r"rows written, \d+ decided"),
    ):
        export([str(synthetic)], tmp_path / "out", layout="partitioned")
    assert not (tmp_path / "out").exists()


def test_years_go_to_tasks_whole_and_in_order() -> None:
    keyed = pl.DataFrame({tasks.YEAR: [2020] * 5 + [2021] * 2 + [2022] * 2 + [2023] * 7})
    assert tasks._groups(keyed, 4) == [(2020,), (2021, 2022), (2023,)]
    assert tasks._groups(keyed, 100) == [(2020, 2021, 2022, 2023)]
    assert tasks._groups(keyed.head(0), 4) == []
