"""`export --layout partitioned`: fact tables as hive-partitioned datasets by publication year.

The same data exported in both layouts must load as equal frames, read as one table in
polars and DuckDB with the rows of the default layout, validate with Frictionless, and
come out byte-identical from identical input.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from frictionless import validate as frictionless_validate
from polars.testing import assert_frame_equal

from toolkit import load
from toolkit.cli.main import main
from toolkit.errors import InconsistentExportError, UsageError
from toolkit.export import export
from toolkit.export.partitioned import KEY
from toolkit.model.model import load_model
from toolkit.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
MODEL = load_model()
PARTITIONED = [t.name for t in MODEL.tables.values() if t.kind in ("fact", "part")]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few hundred facts from sources published over a decade."""
    bundles = tmp_path_factory.mktemp("synthetic") / "bundles.jsonl"
    synthesize(bundles, 400, seed=2)
    return bundles.parent


@pytest.fixture(scope="module")
def both(synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(default export, partitioned export) of the synthetic data."""
    out = tmp_path_factory.mktemp("layouts")
    assert export([str(synthetic)], out / "files").written
    result = export([str(synthetic)], out / "parts", layout="partitioned")
    assert result.written and result.layout == "partitioned"
    return out / "files", out / "parts"


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _years(files: Path) -> dict[str, int]:
    sources = pl.read_parquet(files / "sources.parquet")
    return dict(sources.select("id", pl.col("published_on").dt.year()).iter_rows())


def test_fact_and_part_tables_are_partitioned_by_year(both: tuple[Path, Path]) -> None:
    files, parts = both
    tree = _tree(parts)
    years = sorted(set(_years(files).values()))
    assert len(years) > 1
    for name in PARTITIONED:
        assert f"{name}.parquet" not in tree and f"{name}.csv" not in tree
        parquet = sorted(p for p in tree if p.startswith(f"{name}/"))
        csv = sorted(p for p in tree if p.startswith(f"csv/{name}/"))
        assert parquet and all(p.endswith(".parquet") for p in parquet)
        assert [p.removesuffix(".parquet") for p in parquet] == [
            p.removeprefix("csv/").removesuffix(".csv") for p in csv
        ]
        assert {p.split("/")[1] for p in parquet} <= {f"{KEY}={y}" for y in years}
    for name in ("sources", "actors", "supply_categories"):  # not fact tables: one file
        assert f"{name}.parquet" in tree and f"{name}.csv" in tree


def test_both_layouts_load_as_the_same_frames(both: tuple[Path, Path]) -> None:
    files, parts = both
    one, other = load(files), load(parts)
    assert list(one) == list(other)
    for name in one:
        assert_frame_equal(one[name], other[name])
    assert one.metadata == other.metadata


def test_csv_only_partitioned_export_loads_the_same(synthetic: Path, tmp_path: Path) -> None:
    files = tmp_path / "files"
    parts = tmp_path / "parts"
    assert export([str(synthetic)], files, formats=["csv"]).written
    assert export([str(synthetic)], parts, formats=["csv"], layout="partitioned").written
    one, other = load(files), load(parts)
    assert one.metadata["format"] == other.metadata["format"] == "csv"
    for name in one:
        assert_frame_equal(one[name], other[name])


def test_identical_input_gives_identical_files(synthetic: Path, both: tuple[Path, Path]) -> None:
    _, parts = both
    again = parts.parent / "again"
    assert export([str(synthetic)], again, layout="partitioned").written
    assert _tree(again) == _tree(parts)


def test_polars_reads_each_partitioned_table_as_one(both: tuple[Path, Path]) -> None:
    files, parts = both
    years = _years(files)
    for name in PARTITIONED:
        default = pl.read_parquet(files / f"{name}.parquet")
        read = pl.scan_parquet(parts / name, hive_partitioning=True).collect()
        key = list(MODEL.tables[name].primary_key)
        ordered = read.sort(key)  # the default layout's files are in primary-key order
        of_source = default["source_id"].replace_strict(years, return_dtype=pl.Int64)
        assert ordered[KEY].to_list() == of_source.to_list()
        assert_frame_equal(ordered.drop(KEY), default)


def test_duckdb_reads_each_partitioned_table_as_one(both: tuple[Path, Path]) -> None:
    files, parts = both
    for name in PARTITIONED:
        key = ", ".join(MODEL.tables[name].primary_key)
        default = duckdb.sql(f"SELECT * FROM read_parquet('{files}/{name}.parquet') ORDER BY {key}")
        read = duckdb.sql(
            f"SELECT * EXCLUDE ({KEY}) FROM read_parquet('{parts}/{name}/**/*.parquet', "
            f"hive_partitioning = true) ORDER BY {key}"
        )
        assert read.columns == default.columns
        assert read.fetchall() == default.fetchall()


def test_frictionless_validates_the_multipart_package(both: tuple[Path, Path]) -> None:
    _, parts = both
    package = json.loads((parts / "datapackage.json").read_text(encoding="utf-8"))
    by_name = {r["name"]: r for r in package["resources"]}
    assert all(isinstance(by_name[name]["path"], list) for name in PARTITIONED)
    assert isinstance(by_name["sources"]["path"], str)
    report = frictionless_validate(str(parts / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


def test_a_table_without_rows_is_one_empty_file(tmp_path: Path) -> None:
    """A dataset of statements only: the other fact tables' folders exist, readable."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "fixtures" / "valid" / "minimal" / "data", data)
    bundle = data / "sources" / "src-a.yaml"
    text = bundle.read_text(encoding="utf-8")
    bundle.write_text(text[: text.index("agreements:")], encoding="utf-8")
    files, parts = tmp_path / "files", tmp_path / "parts"
    assert export([str(data)], files).written
    assert export([str(data)], parts, layout="partitioned").written
    empty = [n for n in PARTITIONED if pl.read_parquet(files / f"{n}.parquet").is_empty()]
    assert empty
    for name in empty:
        assert [p.name for p in (parts / name).iterdir()] == ["00000000.parquet"]
        assert pl.scan_parquet(parts / name, hive_partitioning=True).collect().is_empty()
    one, other = load(files), load(parts)
    for name in one:
        assert_frame_equal(one[name], other[name])
    assert frictionless_validate(str(parts / "datapackage.json")).valid


def test_a_missing_part_is_noticed(both: tuple[Path, Path], tmp_path: Path) -> None:
    _, parts = both
    copy = tmp_path / "dist"
    shutil.copytree(parts, copy)
    first = sorted((copy / "statements").glob(f"{KEY}=*"))[0]
    shutil.rmtree(first)
    with pytest.raises(InconsistentExportError, match="statements holds"):
        load(copy)


def test_a_part_path_leaving_the_folder_is_refused(both: tuple[Path, Path], tmp_path: Path) -> None:
    _, parts = both
    copy = tmp_path / "dist"
    shutil.copytree(parts, copy)
    for path in copy.glob("*"):  # CSV only, so the package's paths are what is read
        if path.suffix == ".parquet" or (path.is_dir() and path.name != "csv"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    package = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    package["resources"][1]["path"] = ["csv/statements/../../../secret.csv"]
    (copy / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    with pytest.raises(UsageError, match="not a file of the export folder"):
        load(copy)


def test_unknown_layout_is_a_usage_error(synthetic: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown export layout"):
        export([str(synthetic)], tmp_path / "dist", layout="nested")


def test_cli_writes_the_partitioned_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dist"
    assert main(["export", str(ROOT / "data"), "--out", str(out), "--layout", "partitioned"]) == 0
    assert "(parquet, csv, fact tables partitioned by year)" in capsys.readouterr().out
    assert (
        main(["export", str(ROOT / "data"), "--out", str(out), "--layout", "partitioned", "-q"])
        == 0
    )
    assert (out / "statements" / f"{KEY}=2024" / "00000000.parquet").is_file()
    assert main(["export", str(ROOT / "data"), "--out", str(out), "-q"]) == 0  # replaces it
    assert (out / "statements.parquet").is_file() and not (out / "statements").exists()


def test_a_part_path_through_a_link_is_not_followed(
    both: tuple[Path, Path], tmp_path: Path
) -> None:
    """A multipart path may name sub-folders, but never through a link out of the export."""
    _, parts = both
    copy = tmp_path / "dist"
    shutil.copytree(parts, copy, ignore=shutil.ignore_patterns("*.parquet"))
    for folder in [p for p in copy.iterdir() if p.is_dir() and p.name != "csv"]:
        shutil.rmtree(folder)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("id\nleaked\n", encoding="utf-8")
    (copy / "link").symlink_to(outside)
    package = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    package["resources"][1]["path"] = ["link/secret.csv"]
    (copy / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    with pytest.raises(UsageError, match="cannot read"):
        load(copy)


def test_a_folder_with_other_files_in_a_sub_folder_is_not_replaced(tmp_path: Path) -> None:
    """Sub-folders of export files may be replaced (a partitioned export); any other file
    anywhere in the folder makes it someone's own folder, left alone."""
    out = tmp_path / "dist"
    (out / "statements" / f"{KEY}=2024").mkdir(parents=True)
    (out / "statements" / f"{KEY}=2024" / "00000000.parquet").write_bytes(b"")
    (out / "statements" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="not a factkit export"):
        export([str(ROOT / "data")], out, layout="partitioned")
    assert (out / "statements" / "notes.txt").read_text(encoding="utf-8") == "mine"
