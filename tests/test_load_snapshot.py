"""`toolkit.load` reads one export, even while another export replaces the folder.

An export swaps its folder in as a whole; a reader that opens the files one by one
could still get some from the export before and some from the one after. These tests
replace the folder at chosen points of a load (from hooks, no timing involved) and
check that every table comes from one export, that the loader tries again when the
folder changed under it, gives up after a bounded number of tries, and refuses a
folder whose files were mixed by hand.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl
import pytest
from strategies import write_dataset

from toolkit import loader
from toolkit.errors import FactkitError, InconsistentExportError
from toolkit.export import export
from toolkit.loader import Dataset, load

OTHER: dict[str, Any] = {
    "actors": [{"id": "jane-doe", "kind": "person", "name": "Jane Doe"}],
    "bundles": [
        {
            "format": 2,
            "source": {
                "id": "src-other",
                "outlet": "Other Wire",
                "published_on": "2024-06",
                "language": "en",
            },
            "extraction": {
                "method": "manual",
                "by": "tester",
                "extracted_on": "2024-07-01",
                "review": "accepted",
            },
            "statements": [
                {
                    "id": f"st-{i}",
                    "speakers": ["jane-doe"],
                    "mode": "paraphrase",
                    "text": f"Statement number {i}.",
                    "about": ["RUS"],
                }
                for i in range(1, 4)
            ],
        }
    ],
}


@pytest.fixture(scope="module")
def exports(
    tmp_path_factory: pytest.TempPathFactory, seed_export: tuple[Any, Path]
) -> tuple[Path, Path, Path]:
    """Two different exports (the seed data, from conftest's `seed_export`, and OTHER) and
    OTHER's data folder. The tests copy the exports before they change anything."""
    base = tmp_path_factory.mktemp("snapshot")
    seed, other = seed_export[1], base / "other"
    data = write_dataset(base, OTHER)
    assert export([str(data)], other).written
    return seed, other, data


def _tables(folder: Path) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(p) for p in folder.glob("*.parquet")}


def assert_is(ds: Dataset, reference: Path) -> None:
    """Every table of `ds` is the table of the export in `reference`, and nothing else."""
    expected = _tables(reference)
    assert set(ds) == set(expected)
    for name, frame in expected.items():
        assert ds[name].equals(frame), name
    assert ds.metadata["input_sha256"] == load(reference).metadata["input_sha256"]


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def _hook_open(
    monkeypatch: pytest.MonkeyPatch, after_open: Callable[[int, str], None]
) -> list[str]:
    """Call `after_open(call_number, name)` after each file the loader opens; the names
    opened are returned (datapackage.json first on every attempt)."""
    opened: list[str] = []
    real = loader._open_member

    def open_member(dir_fd: int, name: str) -> BinaryIO:
        handle = real(dir_fd, name)
        opened.append(name)
        after_open(len(opened), name)
        return handle

    monkeypatch.setattr(loader, "_open_member", open_member)
    monkeypatch.setattr(loader, "_pause", lambda attempt: None)
    return opened


def test_an_export_swapped_in_between_table_reads_does_not_mix(
    exports: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder is replaced (by a real export) after the first table was read: every
    table still comes from the export that was there when the load began."""
    seed, other, data = exports
    out = _copy(seed, tmp_path / "dist")
    real_read = pl.read_parquet
    reads: list[int] = []

    def read_parquet(source: Any, *args: Any, **kwargs: Any) -> pl.DataFrame:
        frame = real_read(source, *args, **kwargs)
        reads.append(frame.height)
        if len(reads) == 1:
            assert export([str(data)], out).written
        return frame

    monkeypatch.setattr(pl, "read_parquet", read_parquet)
    ds = load(out)
    monkeypatch.undo()
    assert len(reads) == len(_tables(seed)) > 1
    assert_is(ds, seed)
    assert_is(load(out), other)  # the swap did happen


@pytest.mark.parametrize("how", ["export", "rename"])
def test_a_folder_replaced_while_files_are_opened_is_read_again(
    exports: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """The folder is replaced after the first Parquet file was opened: by a real export
    (which deletes the old folder) or by two renames that keep it. The loader notices,
    takes a second snapshot, and returns the new export whole."""
    seed, other, data = exports
    out = _copy(seed, tmp_path / "dist")

    def replace(call: int, name: str) -> None:
        if call != 2:  # 1: datapackage.json, 2: the first Parquet file
            return
        assert name.endswith(".parquet")
        if how == "export":
            assert export([str(data)], out).written
        else:
            os.rename(out, tmp_path / "aside")
            _copy(other, out)

    opened = _hook_open(monkeypatch, replace)
    ds = load(out)
    assert opened.count("datapackage.json") == 2  # two attempts
    assert_is(ds, other)


def test_a_folder_missing_for_a_moment_is_waited_for(
    exports: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A swap by two renames (where the exchange is not available) leaves no folder between
    them: here after the last file was opened, until the loader pauses to try again."""
    seed, other, _ = exports
    out = _copy(seed, tmp_path / "dist")
    last = len(_tables(seed)) + 1  # datapackage.json, then every Parquet file
    pauses: list[int] = []

    def vanish(call: int, name: str) -> None:
        if call == last:
            os.rename(out, tmp_path / "aside")

    def pause(attempt: int) -> None:
        pauses.append(attempt)
        _copy(other, out)

    opened = _hook_open(monkeypatch, vanish)
    monkeypatch.setattr(loader, "_pause", pause)
    ds = load(out)
    assert pauses == [1] and opened.count("datapackage.json") == 2
    assert_is(ds, other)


def test_a_folder_replaced_on_every_attempt_raises_a_typed_error(
    exports: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed, other, _ = exports
    out = _copy(seed, tmp_path / "dist")
    swaps: list[int] = []

    def replace(call: int, name: str) -> None:
        if name == "datapackage.json":
            os.rename(out, tmp_path / f"aside-{len(swaps)}")
            _copy(other if len(swaps) % 2 == 0 else seed, out)
            swaps.append(call)

    _hook_open(monkeypatch, replace)
    with pytest.raises(InconsistentExportError, match="no consistent export in 5 attempts"):
        load(out)
    assert len(swaps) == loader.ATTEMPTS == 5
    assert issubclass(InconsistentExportError, FactkitError)


def test_parquet_files_of_two_exports_are_refused(
    exports: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    seed, other, _ = exports
    mixed = _copy(seed, tmp_path / "mixed")
    shutil.copy(other / "statements.parquet", mixed / "statements.parquet")
    with pytest.raises(InconsistentExportError, match=r"statements\.parquet is from another"):
        load(mixed)
    parquet_only = _copy(seed, tmp_path / "parquet-only")
    (parquet_only / "datapackage.json").unlink()
    for csv in parquet_only.glob("*.csv"):
        csv.unlink()
    shutil.copy(other / "sources.parquet", parquet_only / "sources.parquet")
    with pytest.raises(InconsistentExportError, match="input_sha256 differ"):
        load(parquet_only)
    package = _copy(seed, tmp_path / "package")
    shutil.copy(other / "datapackage.json", package / "datapackage.json")
    with pytest.raises(InconsistentExportError, match=r"datapackage\.json is from another"):
        load(package)


def test_csv_files_of_two_exports_are_refused(
    exports: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    seed, other, _ = exports
    csv_only = tmp_path / "csv"
    shutil.copytree(seed, csv_only, ignore=shutil.ignore_patterns("*.parquet"))
    assert load(csv_only).metadata["format"] == "csv"
    shutil.copy(other / "statements.csv", csv_only / "statements.csv")
    with pytest.raises(InconsistentExportError, match=r"statements\.csv is not the file"):
        load(csv_only)


@pytest.mark.parametrize(
    "path", ["../secret.csv", "/etc/passwd", "csv/../../secret.csv", "csv//x.csv", ".."]
)
def test_a_descriptor_cannot_send_the_loader_outside_the_export(
    exports: tuple[Path, Path, Path], tmp_path: Path, path: str
) -> None:
    """A CSV-only export whose datapackage.json names a file elsewhere is refused before
    anything is read from that place."""
    import json

    seed, _, _ = exports
    folder = _copy(seed, tmp_path / "export")
    for parquet in folder.glob("*.parquet"):
        parquet.unlink()
    (tmp_path / "secret.csv").write_text("id\nleaked\n", encoding="utf-8")
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][0]["path"] = path
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    with pytest.raises(FactkitError, match="not a file of the export folder"):
        load(folder)
