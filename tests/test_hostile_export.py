"""The export under attack: spreadsheet formulas, a kill mid-write, a race of writers.

test_export.py proves the mechanisms on the seed data (formula-safe cells of the
statements table, a kill while a patched writer sleeps, two exports held back by the
lock until both contend). These tests take them from the outside: every text column of
every table, as a spreadsheet parses the CSV; the real command line killed with
SIGKILL while its staging folder exists, at several points; and three unsynchronised
exports racing while a reader checks that the folder is never a mix.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from strategies import write_dataset

from toolkit.export import csv_writer, export
from toolkit.loader import load

ROOT = Path(__file__).resolve().parents[1]
RISKY = ["=1+1", "+SUM(A1)", "-2+3", "@SUM(1)", "\t=tab", "\r=cr", '=HYPERLINK("x","y")']
# What spreadsheet software may still read as a formula once it trims leading blanks
# or folds compatibility forms (full-width ＝ ＋ － ＠ and the like) to ASCII.
DISGUISED = [
    "\uff1d1+1",
    "\uff0bSUM(A1)",
    "\uff0d2+3",
    "\uff20SUM(1)",
    " =1+1",
    "\u3000\uff1dcmd",
    "\u00a0 @SUM(1)",
    "\n-2+3",
    "\ufe66HYPERLINK(1)",
]
ZERO_WIDTH = "\u180e\u200b\u200c\u200d\u2060\ufeff"
BLANKS = "".join(c for c in map(chr, range(0x110000)) if c.isspace()) + ZERO_WIDTH


def formula_like(cell: str) -> bool:
    """The rule, stated independently of the exporter: a cell starting with TAB or CR, or
    whose first character after whitespace and zero-width characters folds (NFKC) to
    text starting with = + - or @."""
    if cell.startswith(("\t", "\r")):
        return True
    rest = cell.lstrip(BLANKS)
    return rest != "" and unicodedata.normalize("NFKC", rest[0]).startswith(("=", "+", "-", "@"))


# --- formula-safe CSV, every text column -----------------------------------------------------


def test_formula_safe_rule_over_every_character() -> None:
    """Every code point alone at the start of a cell, and every BMP one behind leading
    blanks, is prefixed exactly when the independent rule says so."""
    code_points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    cells = [c + "1" for c in code_points]
    for lead in (" ", "\u3000", "\u00a0\t ", "\u200b", "x", "'"):
        cells += [lead + c + "1" for c in code_points[:0xF800]]
    out = csv_writer.text_cells(pl.DataFrame({"t": cells}), formula_safe=True)["t"].to_list()
    expected = ["'" + c if formula_like(c) else c for c in cells]
    wrong = [(c, o) for c, o, e in zip(cells, out, expected, strict=True) if o != e]
    assert not wrong, wrong[:10]
    prefixed = {c[0] for c, o in zip(cells[: len(code_points)], out, strict=False) if o != c}
    assert {"=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20"} <= prefixed
    assert len(prefixed) == 4 + 2 + len(csv_writer.FORMULA_LOOKALIKES)
    # Not a formula: a trigger after visible text, text after blanks, blanks alone.
    plain = ["a=1", "1-2", "x @y", " text", "\u3000", "", "'=quoted"]
    frame = pl.DataFrame({"t": [*plain, None]}, schema={"t": pl.String})
    assert csv_writer.text_cells(frame, formula_safe=True)["t"].to_list() == [*plain, None]


def _risky_dataset(i: int = 0, values: list[str] = RISKY) -> dict[str, Any]:
    """Every free-text field of every record type starts with a formula trigger."""
    r = values * 3
    return {
        "actors": [
            {
                "id": "jane-doe",
                "kind": "person",
                "name": r[0],
                "aliases": [r[1], r[2]],
                "description": r[3],
                "country": "USA",
            },
            {"id": "the-group", "kind": "grouping", "name": r[4]},
        ],
        "bundles": [
            {
                "format": 2,
                "source": {
                    "id": f"src-risky-{i}",
                    "outlet": r[5],
                    "via": [r[6]],
                    "published_on": "2024-06",
                    "language": "en",
                },
                "extraction": {
                    "method": "manual",
                    "by": r[7],
                    "extracted_on": "2024-07-01",
                    "review": "accepted",
                },
                "statements": [
                    {
                        "id": "st-1",
                        "speakers": ["jane-doe"],
                        "speaker_role": r[8],
                        "mode": "paraphrase",
                        "text": r[9],
                        "about": ["RUS"],
                        "note": r[10],
                    }
                ],
                "agreements": [
                    {
                        "id": "ag-1",
                        "title": r[11],
                        "kind": "treaty",
                        "status": "signed",
                        "actions": [
                            {"action": "signature", "place": {"name": r[12], "country": "UKR"}}
                        ],
                        "parties": [{"actor": "USA", "role": "party"}],
                    }
                ],
                "supplies": [
                    {
                        "id": "sp-1",
                        "supplier": "USA",
                        "recipient": "UKR",
                        "items": [
                            {"category": "artillery", "description": r[13], "purpose": r[14]}
                        ],
                        "polarity": "affirmed",
                        "status": "planned",
                    }
                ],
                "events": [
                    {"id": "ev-1", "kind": "meeting", "title": r[15], "participants": ["UKR"]}
                ],
            }
        ],
    }


def _text_fields(folder: Path) -> dict[str, list[str]]:
    """Table → names of its text (string-typed) fields, from the datapackage."""
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    return {
        r["name"]: [f["name"] for f in r["schema"]["fields"] if f["type"] == "string"]
        for r in package["resources"]
    }


def _cells(path: Path) -> list[dict[str, str]]:
    """The cells as a spreadsheet sees them: CSV unquoted, nothing else."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("values", [RISKY, DISGUISED], ids=["ascii", "disguised"])
def test_formula_safe_covers_every_text_column_of_every_table(
    tmp_path: Path, values: list[str]
) -> None:
    data = write_dataset(tmp_path, _risky_dataset(values=values))
    exact, safe = tmp_path / "exact", tmp_path / "safe"
    assert export([str(data)], exact).written
    assert export([str(data)], safe, formula_safe=True).written
    risky_seen = 0
    for table, fields in _text_fields(safe).items():
        exact_rows, safe_rows = _cells(exact / f"{table}.csv"), _cells(safe / f"{table}.csv")
        assert len(exact_rows) == len(safe_rows)
        for before, after in zip(exact_rows, safe_rows, strict=True):
            for name in fields:
                cell = after[name]
                assert not formula_like(cell), (table, name, cell)
                if formula_like(before[name]):
                    risky_seen += 1
                    assert cell == "'" + before[name], (table, name)
                else:
                    assert cell == before[name], (table, name)
    assert risky_seen == 13  # every planted value but the three in list cells ("[...")
    # The default mode keeps values exact: CSV read back equals Parquet, cell for cell.
    for table in _text_fields(exact):
        parquet = pl.read_parquet(exact / f"{table}.parquet")
        assert load(exact)[table].equals(parquet)
        fields = json.loads((exact / "datapackage.json").read_text(encoding="utf-8"))
        spec = next(r for r in fields["resources"] if r["name"] == table)["schema"]["fields"]
        assert csv_writer.read_csv(exact / f"{table}.csv", spec).equals(parquet), table


# --- a big generated dataset, for runs that last long enough to interrupt ---------------------


def _big_dataset(tmp_path: Path, tag: str, bundles: int, statements: int) -> Path:
    """`bundles` bundles of `statements` statements each, as one JSONL file."""
    dataset: dict[str, Any] = {
        "actors": [{"id": "jane-doe", "kind": "person", "name": f"Jane {tag}"}],
        "bundles": [
            {
                "format": 2,
                "source": {
                    "id": f"src-{tag}-{b}",
                    "outlet": f"Wire {tag}",
                    "published_on": "2024-06-20",
                    "language": "en",
                },
                "extraction": {
                    "method": "manual",
                    "by": "generator",
                    "extracted_on": "2024-07-01",
                    "review": "accepted",
                },
                "statements": [
                    {
                        "id": f"st-{s}",
                        "speakers": ["jane-doe"],
                        "mode": "paraphrase",
                        "text": f"statement {s} of bundle {b} " + "words " * 20,
                        "about": ["RUS", "UKR"],
                    }
                    for s in range(statements)
                ],
            }
            for b in range(bundles)
        ],
    }
    return write_dataset(tmp_path / tag, dataset, "jsonl")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _staging(out: Path) -> list[Path]:
    return [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.tmp-")]


def _cli_export(data: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", "export", str(data), "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A dataset whose export writes for a good fraction of a second, and a previous
    export (of other data) in the folder the tests export into."""
    base = tmp_path_factory.mktemp("big")
    data = _big_dataset(base, "big", bundles=200, statements=40)
    previous = base / "previous"
    assert export([str(_big_dataset(base, "old", bundles=3, statements=2))], previous).written
    return data, previous


@pytest.mark.parametrize("files_written", [0, 16])
def test_sigkill_during_the_write_leaves_the_previous_export(
    big: tuple[Path, Path], tmp_path: Path, files_written: int
) -> None:
    """SIGKILL the real `python -m toolkit export` once its staging folder holds
    `files_written` files: the folder still holds the previous export, byte for byte,
    readable; the next export cleans up and replaces it."""
    data, previous = big
    out = tmp_path / "dist"
    out.mkdir()
    for path in previous.iterdir():
        (out / path.name).write_bytes(path.read_bytes())
    before = snapshot(out)
    proc = _cli_export(data, out)
    killed_at = None
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            staging = _staging(out)
            if staging and len(os.listdir(staging[0])) >= files_written:
                proc.send_signal(signal.SIGKILL)
                killed_at = len(os.listdir(staging[0]))
                break
            time.sleep(0.001)
    finally:
        proc.wait()
    assert killed_at is not None, f"the export finished first: {proc.stderr and proc.stderr.read()}"
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(out) == before
    assert load(out)["statements"].height == load(previous)["statements"].height
    assert _staging(out), "the killed run's staging folder should still be there"
    assert export([str(data)], out).written
    assert not _staging(out)
    assert load(out)["statements"].height == 200 * 40


# --- writers racing, and a reader watching ----------------------------------------------------


def _consistent(folder: Path) -> str | None:
    """The input hash of a complete, unmixed export in `folder`, or None if the folder
    was swapped while we read it (then nothing can be concluded)."""
    try:
        before = os.stat(folder)
        names = sorted(os.listdir(folder))
        files = {name: (folder / name).read_bytes() for name in names}
        after = os.stat(folder)
    except FileNotFoundError:
        return None
    if (before.st_ino, before.st_ctime_ns) != (after.st_ino, after.st_ctime_ns):
        return None
    package = json.loads(files["datapackage.json"])
    expected = {r["path"] for r in package["resources"]} | {"datapackage.json"}
    expected |= {f"{r['name']}.parquet" for r in package["resources"]} | {".factkit-export"}
    assert set(names) == expected, set(names) ^ expected
    for resource in package["resources"]:
        digest = hashlib.sha256(files[resource["path"]]).hexdigest()
        assert resource["hash"] == f"sha256:{digest}", resource["path"]
        meta = pq.read_metadata(io.BytesIO(files[f"{resource['name']}.parquet"])).metadata
        assert meta[b"factkit:input_sha256"].decode() == package["factkit:input_sha256"]
    return str(package["factkit:input_sha256"])


def test_racing_exports_never_leave_a_mixed_folder(tmp_path: Path) -> None:
    datasets = [
        _big_dataset(tmp_path, f"w{i}", bundles=60 + 20 * i, statements=20) for i in range(3)
    ]
    out = tmp_path / "dist"
    assert export([str(datasets[0])], out).written
    seen: set[str] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                found = _consistent(out)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
                return
            if found is not None:
                seen.add(found)

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    procs = [_cli_export(data, out) for data in datasets]
    try:
        codes = [p.wait(timeout=180) for p in procs]
    finally:
        stop.set()
        reader.join(timeout=30)
    assert codes == [0] * len(procs), [p.stderr and p.stderr.read() for p in procs]
    assert not errors, errors[0]
    final = _consistent(out)
    assert final is not None and seen and len(seen | {final}) <= 1 + len(datasets)
    assert load(out)["statements"].height in {(60 + 20 * i) * 20 for i in range(3)}
    assert not _staging(out)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dist.old-")]
