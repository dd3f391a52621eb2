"""The export's tables made one at a time (`toolkit.export.assemble`): decided from a few
columns, each table read once and let go, the same rows as deciding over whole tables,
and Parquet bytes that do not depend on how a query chunked its result."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from strategies import datasets, write_dataset

from toolkit import checker
from toolkit.errors import ExportError
from toolkit.export import assemble, export, parquet, partitioned, release, typed
from toolkit.frames.base import DOC, PTR, Frames
from toolkit.resolve.export import resolve, with_cluster
from toolkit.stage.parts import PartTables

ROOT = Path(__file__).resolve().parents[1]
TREATY = ROOT / "fixtures" / "valid" / "treaty-reports" / "data"


def _chunked(frame: pl.DataFrame, rows: int) -> pl.DataFrame:
    return pl.concat([frame.slice(i, rows) for i in range(0, frame.height, rows)], rechunk=False)


@pytest.fixture
def small_groups(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(parquet, "ROW_GROUP_ROWS", 1_000)
    return 1_000


def test_parquet_bytes_do_not_depend_on_chunks(small_groups: int) -> None:
    frame = pl.DataFrame({"id": [f"s/{i}" for i in range(5_500)], "n": range(5_500)})
    written = set()
    for layout in (frame.rechunk(), _chunked(frame, 700), _chunked(frame, 1_234)):
        out = io.BytesIO()
        parquet.write_table(layout, "t", {}, out)
        written.add(out.getvalue())
    assert len(written) == 1
    file = pq.ParquetFile(io.BytesIO(written.pop()))
    assert file.metadata.num_row_groups == 6  # 5,500 rows in groups of 1,000


def test_partitioned_bytes_do_not_depend_on_chunks(small_groups: int, tmp_path: Path) -> None:
    from toolkit.export import atomic

    frame = pl.DataFrame({"id": [f"s/{i}" for i in range(4_000)], "source_id": ["a", "b"] * 2_000})
    years = pl.Series(partitioned.KEY, [2023, 2024] * 2_000, pl.Int32)
    found = []
    for i, layout in enumerate((frame.rechunk(), _chunked(frame, 333))):
        with atomic.replace_folder(tmp_path / f"out{i}") as staging:
            files = partitioned.write_parquet(staging, "t", layout, years, {})
        found.append({name: (tmp_path / f"out{i}" / name).read_bytes() for name in files})
    assert found[0] == found[1]


def test_plan_reads_columns_not_tables() -> None:
    run = checker.run([str(TREATY)])
    tables = run.frames.tables
    assert isinstance(tables, PartTables)
    decided = assemble.plan(run.model, tables)
    assert set(tables._read) <= {"judgements"}  # read whole: a 'same' judgement is small
    fact = {t.name for t in run.model.fact_tables}
    assert fact <= set(decided.kept)
    assert all({DOC, PTR} <= set(keys.columns) for keys in decided.kept.values())
    run.close()


def test_exported_takes_each_table_out_once_read() -> None:
    run = checker.run([str(TREATY)])
    tables = run.frames.tables
    decided = assemble.plan(run.model, tables)
    names = []
    for name, _ in assemble.exported(decided, tables):
        names.append(name)
        assert name not in tables
    assert names == list(run.model.tables)
    assert len(tables) == 0
    run.close()


def _reference(run: checker.Run, include_unreviewed: bool) -> dict[str, pl.DataFrame]:
    """The tables decided over whole tables (every column), typed: the reference."""
    model = run.model
    everything = {name: run.frames.tables[name] for name in run.frames.tables}
    frames = Frames(tables=dict(everything), documents=run.frames.documents)
    kept = release.release(model, frames, include_unreviewed=include_unreviewed).frames.tables
    found = resolve(model, everything, kept, lambda docs, names: dict(kept))
    assert found is not None
    out = {"clusters": found.clusters, "disagreements": found.disagreements}
    for t in model.tables.values():
        if t.kind in ("fact", "part"):
            raw = kept[t.name]
            if "cluster_id" in t.names:
                raw = with_cluster(raw.lazy(), found.cluster).collect()
            out[t.name] = raw
    return {
        name: typed.typed_frame(model.tables[name], raw, model, sort=True)
        for name, raw in out.items()
    }


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset=datasets(), include_unreviewed=st.booleans())
def test_tables_decided_from_columns_equal_those_decided_whole(
    dataset: dict[str, Any], include_unreviewed: bool
) -> None:
    """Generated datasets (rejected facts, unreviewed machine extractions, facts asserted
    by them, same_as links and judgements): the plan, made from a few columns, releases,
    clusters and finds disagreements exactly as deciding over every column does."""
    with tempfile.TemporaryDirectory() as tmp:
        root = write_dataset(Path(tmp), dataset, "json")
        with checker.run([str(root)]) as run:
            assert run.report.ok, [p.to_dict() for p in run.report.problems]
            reference = _reference(run, include_unreviewed)
        with checker.run([str(root)]) as run:
            made = assemble.tables(run.model, run.frames, include_unreviewed=include_unreviewed)
    for name, frame in reference.items():
        assert_frame_equal(made[name], frame)


def test_a_place_held_twice_is_refused() -> None:
    run = checker.run([str(TREATY)])
    tables = dict(run.frames.tables)
    twice = tables["agreements"].head(1)
    tables["agreements"] = pl.concat([tables["agreements"], twice])
    decided = assemble.plan(run.model, tables)
    with pytest.raises(ExportError, match="agreements"):
        dict(assemble.exported(decided, tables))
    run.close()


def test_export_result_counts_the_rows_written(tmp_path: Path) -> None:
    result = export([str(TREATY)], tmp_path / "dist")
    for name, rows in result.tables.items():
        assert pl.read_parquet(tmp_path / "dist" / f"{name}.parquet").height == rows


def test_the_foreign_key_check_reads_frames_or_the_files_they_were_left_in(
    tmp_path: Path,
) -> None:
    """The export leaves each table's key columns in the run's folder and checks them by
    a scan; a reference that does not join fails it, naming the first values missing, in
    order, whether the tables are frames or queries."""
    run = checker.run([str(ROOT / "data")])
    model = run.model
    out = assemble.tables(model, run.frames)
    scans = {}
    for name, frame in out.items():
        frame.write_parquet(tmp_path / f"{name}.parquet")
        scans[name] = pl.scan_parquet(tmp_path / f"{name}.parquet")
    typed.check_foreign_keys(model, scans)
    ids = out["actors"]["id"].to_list()
    speakers = [["nobody-2", ids[0]], ["nobody-1", "nobody-2"]]
    broken = out["statements"].head(2).with_columns(pl.Series("speakers", speakers))
    message = r"statements\.speakers does not join actors\.id: nobody-2, nobody-1$"
    for statements in (broken, broken.lazy()):
        with pytest.raises(ExportError, match=message):
            typed.check_foreign_keys(model, {**scans, "statements": statements})
