"""`export --out` replaces a folder only when it provably holds a factkit export."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from toolkit.cli.main import main
from toolkit.errors import NotAnExportError
from toolkit.export import export
from toolkit.export.target import MARKER

DATA = Path(__file__).resolve().parent.parent / "data"


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


def test_export_never_deletes_a_folder_of_the_users_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    (mine / "backup.csv" / "deep").mkdir(parents=True)
    (mine / "thesis-results.csv").write_text("a,b\n", encoding="utf-8")
    (mine / "notes.parquet").write_text("x\n", encoding="utf-8")
    (mine / "backup.csv" / "deep" / "important.txt").write_text("keep\n", encoding="utf-8")
    before = _tree(mine)
    assert main(["export", str(DATA), "--out", str(mine), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(mine) in err and "not a factkit export" in err and "Traceback" not in err
    assert _tree(mine) == before


def test_an_export_with_a_file_added_by_hand_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    export([str(DATA)], out)
    assert (out / MARKER).is_file()
    (out / "my-analysis.csv").write_text("mine\n", encoding="utf-8")
    before = _tree(out)
    with pytest.raises(NotAnExportError, match=r"my-analysis\.csv"):
        export([str(DATA)], out)
    assert _tree(out) == before


def test_a_previous_export_is_replaced_with_identical_bytes(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    export([str(DATA)], out)
    first = _tree(out)
    export([str(DATA)], out)
    assert _tree(out) == first


def test_an_export_from_before_the_marker_is_replaced(tmp_path: Path) -> None:
    """An export written before factkit wrote markers is recognised by its own files:
    the Data Package with factkit's keys and Parquet files with factkit's metadata."""
    out = tmp_path / "dist"
    export([str(DATA)], out)
    (out / MARKER).unlink()
    export([str(DATA)], out)
    assert (out / MARKER).is_file()
    export([str(DATA)], out, formats=["parquet"])
    (out / MARKER).unlink()
    export([str(DATA)], out)
    assert (out / "statements.csv").is_file()


def test_a_marker_does_not_vouch_for_files_it_does_not_list(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    out.mkdir()
    (out / MARKER).write_text('{"kind": "factkit export", "files": []}', encoding="utf-8")
    (out / "thesis.csv").write_text("a\n", encoding="utf-8")
    with pytest.raises(NotAnExportError):
        export([str(DATA)], out)
    assert sorted(os.listdir(out)) == sorted([MARKER, "thesis.csv"])
