"""A full disk while the export writes is reported as a full disk, naming where, with
the previous export left as it was: not as an internal error to report."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from toolkit.cli.main import main
from toolkit.export import export, parquet

DATA = Path(__file__).resolve().parents[1] / "data"


def _full(*args: Any) -> None:
    # what polars raises when the file object it writes to meets ENOSPC
    raise pl.exceptions.ComputeError(
        "parquet: File out of specification: underlying IO error: "
        f"[Errno {errno.ENOSPC}] No space left on device"
    )


def test_a_full_disk_during_the_parquet_write_names_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dist"
    export([str(DATA)], out)
    before = sorted((p.name, p.read_bytes()) for p in out.iterdir())
    monkeypatch.setattr(parquet, "write_table", _full)
    assert main(["export", str(DATA), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is full" in err and str(tmp_path) in err
    assert "internal error" not in err and "Traceback" not in err
    assert sorted((p.name, p.read_bytes()) for p in out.iterdir()) == before
