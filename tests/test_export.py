"""The export stage on the seed data: tables, dtypes, metadata, the Data Package, and the
guarantees of the output folder (validate first, deterministic, atomic, one writer at a time)."""

from __future__ import annotations

import atexit
import csv
import fcntl
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from frictionless import validate as frictionless_validate
from strategies import write_dataset

from toolkit.cli.main import main
from toolkit.errors import ExportError, UsageError
from toolkit.export import ExportResult, atomic, csv_writer, export, typed
from toolkit.export.target import MARKER, marker_bytes
from toolkit.loader import load
from toolkit.model.model import load_model

ROOT = Path(__file__).resolve().parents[1]
SEED = "censor-2024-06-20-russia-coalition"


def _seed_only() -> Path:
    """A copy of data/ with the seed bundle alone and the registry actors it names: the rows
    these tests expect are the seed's, whatever other reports the dataset holds."""
    data = Path(tempfile.mkdtemp(prefix="factkit-seed-data-")) / "data"
    atexit.register(shutil.rmtree, data.parent, True)
    bundle = ROOT / "data" / "sources" / "2024" / f"{SEED}.yaml"
    for folder in ("sources/2024", "texts", "actors"):
        (data / folder).mkdir(parents=True)
    shutil.copy(bundle, data / "sources" / "2024")
    shutil.copy(ROOT / "data" / "texts" / f"{SEED}.txt", data / "texts")
    named = bundle.read_text(encoding="utf-8")
    for actor in (ROOT / "data" / "actors").glob("*.yaml"):
        if actor.stem in named:
            shutil.copy(actor, data / "actors")
    return data


DATA = _seed_only()
SEED_ROWS = {
    "sources": 1,
    "statements": 7,
    "agreements": 1,
    "agreement_parties": 4,
    "supplies": 3,
    "supply_items": 5,
    "alignments": 3,
    "alignment_members": 4,
    "events": 2,
    # 8 registry actors (Europe among them) + the 8 states the seed refers to by ISO code
    # (RUS, PRK, IRN, SYR, CHN, UKR, CHE, and USA as an actor's country).
    "actors": 16,
}
META_KEYS = {
    "factkit:schema_version",
    "factkit:toolkit_version",
    "factkit:vocabularies",
    "factkit:rows",
    "factkit:input_sha256",
    "factkit:table",
    "factkit:release",
}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a folder with its bytes (hidden files included)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def leftovers(folder: Path) -> list[str]:
    return sorted(
        p.name
        for p in folder.parent.iterdir()
        if p.name.startswith(f".{folder.name}.") and not p.name.endswith(".lock")
    )


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExportResult, Path]:
    out = tmp_path_factory.mktemp("seed") / "dist"
    result = export([str(DATA)], out)
    assert result.written, result.report.problems
    return result, out


def test_seed_export_has_every_table_with_the_right_rows(
    seed: tuple[ExportResult, Path],
) -> None:
    result, out = seed
    model = load_model()
    assert list(result.tables) == list(model.tables)
    for name, rows in SEED_ROWS.items():
        assert result.tables[name] == rows, name
        assert pl.read_parquet(out / f"{name}.parquet").height == rows
    for name, vocab in model.vocabularies.items():
        frame = pl.read_parquet(out / f"{name}.parquet")
        assert sorted(frame["code"].to_list()) == sorted(vocab.code_list)
    expected = {f"{n}.{ext}" for n in model.tables for ext in ("parquet", "csv")}
    assert set(os.listdir(out)) == expected | {"datapackage.json", ".factkit-export"}


def test_seed_dtypes_follow_the_model(seed: tuple[ExportResult, Path]) -> None:
    _, out = seed
    model = load_model()
    for name, table in model.tables.items():
        frame = pl.read_parquet(out / f"{name}.parquet")
        assert frame.columns == table.names, name
        assert "_doc" not in frame.columns and "_ptr" not in frame.columns
    statements = pl.read_parquet(out / "statements.parquet")
    assert statements.schema["said_on"] == pl.Date
    assert statements.schema["said_on_precision"] == pl.Enum(["day", "month", "year"])
    assert statements.schema["mode"] == pl.Enum(["direct_quote", "partial_quote", "paraphrase"])
    assert statements.schema["about"] == pl.List(pl.String)
    topics = model.vocabularies["statement_topics"].code_list
    assert statements.schema["topics"] == pl.List(pl.String)
    assert set(statements["topics"].explode().drop_nulls()) <= set(topics)
    agreements = pl.read_parquet(out / "agreements.parquet")
    assert agreements.schema["status"] == pl.Enum(
        model.vocabularies["agreement_statuses"].code_list
    )
    sources = pl.read_parquet(out / "sources.parquet")
    assert sources.row(0, named=True)["published_on"].isoformat() == "2024-06-20"
    assert sources.row(0, named=True)["published_on_precision"] == "day"
    items = pl.read_parquet(out / "supply_items.parquet")
    assert items.schema["position"] == pl.Int64
    assert statements["id"].to_list() == sorted(statements["id"].to_list())  # by primary key


def test_actors_cover_every_reference(seed: tuple[ExportResult, Path]) -> None:
    _, out = seed
    actors = pl.read_parquet(out / "actors.parquet")
    states = actors.filter(pl.col("origin") == "iso3166")
    assert sorted(states["id"]) == ["CHE", "CHN", "IRN", "PRK", "RUS", "SYR", "UKR", "USA"]
    assert states.filter(pl.col("id") == "PRK")["name"].item().startswith("Korea")
    assert (states["kind"] == "state").all() and (states["country"] == states["id"]).all()
    assert actors.filter(pl.col("origin") == "registry").height == 8
    ids = set(actors["id"])
    parties = pl.read_parquet(out / "agreement_parties.parquet")
    statements = pl.read_parquet(out / "statements.parquet")
    used = set(parties["actor"]) | set(statements["about"].explode().drop_nulls())
    assert used <= ids


def test_export_schema_catches_internal_bugs(seed: tuple[ExportResult, Path]) -> None:
    """The pandera contract each table passes before it is written has teeth."""
    model = load_model()
    table = model.tables["statements"]
    frame = pl.read_parquet(seed[1] / "statements.parquet")
    typed.check_table(table, frame, model)
    with pytest.raises(ExportError, match="statements fails its export schema"):
        typed.check_table(table, pl.concat([frame, frame.head(1)]), model)
    with pytest.raises(ExportError, match="id"):
        typed.check_table(table, frame.with_columns(pl.lit(None, pl.String).alias("id")), model)
    items = model.tables["supply_items"]
    frame = pl.read_parquet(seed[1] / "supply_items.parquet")
    with pytest.raises(ExportError):
        typed.check_table(items, frame.drop("purpose"), model)


def test_parquet_metadata(seed: tuple[ExportResult, Path]) -> None:
    result, out = seed
    model = load_model()
    meta = pq.read_metadata(out / "statements.parquet").metadata
    keys = {k.decode() for k in meta if k.decode().startswith("factkit:")}
    assert keys == META_KEYS
    assert meta[b"factkit:schema_version"].decode() == model.version
    assert meta[b"factkit:rows"] == b"7"
    assert meta[b"factkit:table"] == b"statements"
    vocabularies = json.loads(meta[b"factkit:vocabularies"])
    assert vocabularies == {n: v.version for n, v in model.vocabularies.items()}
    assert meta[b"factkit:input_sha256"].decode() == result.input_sha256
    assert len(result.input_sha256 or "") == 64


def test_frictionless_validates_the_package(seed: tuple[ExportResult, Path]) -> None:
    _, out = seed
    report = frictionless_validate(str(out / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert package["name"] == "factkit-dataset"
    assert package["version"] == load_model().version
    statements = next(r for r in package["resources"] if r["name"] == "statements")
    fields = {f["name"]: f for f in statements["schema"]["fields"]}
    assert fields["about"]["type"] == "array"
    assert fields["said_on"]["type"] == "date"
    assert fields["mode"]["constraints"]["enum"] == ["direct_quote", "partial_quote", "paraphrase"]
    assert statements["schema"]["primaryKey"] == ["id"]
    fks = {fk["fields"][0]: fk["reference"] for fk in statements["schema"]["foreignKeys"]}
    assert fks["on_behalf_of"] == {"resource": "actors", "fields": ["id"]}
    steps = next(r for r in package["resources"] if r["name"] == "agreement_relations")
    fks = {fk["fields"][0]: fk["reference"] for fk in steps["schema"]["foreignKeys"]}
    assert fks["agreement"] == {"resource": "agreements", "fields": ["id"]}
    actors = next(r for r in package["resources"] if r["name"] == "actors")
    self_refs = [fk for fk in actors["schema"]["foreignKeys"] if fk["fields"] == ["country"]]
    assert self_refs[0]["reference"] == {"resource": "", "fields": ["id"]}
    assert "formula" not in statements["description"].lower()


def test_tampered_csv_fails_frictionless(seed: tuple[ExportResult, Path], tmp_path: Path) -> None:
    """The check above has teeth: a broken reference in a CSV is caught."""
    copy = tmp_path / "copy"
    shutil.copytree(seed[1], copy)
    path = copy / "statements.csv"
    path.write_bytes(path.read_bytes().replace(b"us-administration", b"us-administratixn"))
    report = frictionless_validate(str(copy / "datapackage.json"))
    assert not report.valid
    assert {"foreign-key", "hash-count"} <= {t for (t,) in report.flatten(["type"])}


def test_csv_format(seed: tuple[ExportResult, Path]) -> None:
    _, out = seed
    raw = (out / "statements.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") >= 8 and b"\n" not in raw.replace(b"\r\n", b"")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    first = next(r for r in rows if r["local_id"] == "st-1")
    assert json.loads(first["about"])[:2] == ["RUS", "PRK"]
    assert first["said_on"] == "" and first["confidence"] == "1.0"
    text = (out / "supply_categories.csv").read_bytes().decode("utf-8")
    items = list(csv.DictReader(io.StringIO(text, newline="")))
    assert {r["dual_use"] for r in items} == {"true", "false"}
    assert any(r["hs_codes"] == "[]" for r in items)


def test_load_reads_parquet_and_csv_alike(seed: tuple[ExportResult, Path], tmp_path: Path) -> None:
    _, out = seed
    ds = load(out)
    assert ds.metadata["format"] == "parquet"
    assert list(ds) == list(load_model().tables)
    csv_only = tmp_path / "csv"
    shutil.copytree(out, csv_only, ignore=shutil.ignore_patterns("*.parquet"))
    from_csv = load(csv_only / "datapackage.json")
    assert from_csv.metadata["format"] == "csv"
    for name in ds:
        assert from_csv[name].schema == ds[name].schema, name
        assert from_csv[name].equals(ds[name]), name
    for key in ("schema_version", "toolkit_version", "vocabularies", "input_sha256", "rows"):
        assert from_csv.metadata[key] == ds.metadata[key], key
    pandas = ds.to_pandas()
    assert str(pandas["statements"]["said_on"].dtype).startswith("date32")
    with pytest.raises(KeyError, match="no table"):
        ds["nope"]
    with pytest.raises(UsageError):
        load(tmp_path / "missing")


def test_reexport_is_byte_identical(seed: tuple[ExportResult, Path], tmp_path: Path) -> None:
    _, first = seed
    again = tmp_path / "again"
    export([str(DATA)], again)
    assert snapshot(again) == snapshot(first)
    export([str(DATA)], again)  # replacing an export in place gives the same bytes too
    assert snapshot(again) == snapshot(first)
    assert leftovers(again) == []


def test_formats_option(tmp_path: Path) -> None:
    result = export([str(DATA)], tmp_path / "p", formats=["parquet"])
    names = set(os.listdir(tmp_path / "p")) - {".factkit-export"}
    assert all(name.endswith(".parquet") for name in names)
    assert result.formats == ("parquet",)
    with pytest.raises(UsageError, match="xml"):
        export([str(DATA)], tmp_path / "x", formats=["xml"])
    assert not (tmp_path / "x").exists()


# --- the command line -------------------------------------------------------------------------


def test_cli_export_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dist"
    assert main(["export", str(DATA), "--out", str(out), "--format", "csv"]) == 0
    stdout = capsys.readouterr().out
    assert f"exported 26 tables (csv) to {out}" in stdout
    assert "  statements" in stdout and "7\n" in stdout
    assert (out / "datapackage.json").is_file() and not list(out.glob("*.parquet"))


def test_cli_unknown_format_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(DATA), "--out", str(tmp_path / "d"), "--format", "xlsx"]) == 2
    assert "xlsx" in capsys.readouterr().err


def _broken_copy(tmp_path: Path) -> Path:
    data = tmp_path / "broken"
    shutil.copytree(DATA, data)
    bundle = next((data / "sources").rglob("*.yaml"))
    bundle.write_text(
        bundle.read_text(encoding="utf-8").replace(
            "speakers: [michael-carpenter]", "speakers: [michael-carpentr]", 1
        ),
        encoding="utf-8",
    )
    return data


def test_invalid_data_exits_1_and_writes_nothing(
    seed: tuple[ExportResult, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dist"
    shutil.copytree(seed[1], out)
    before = snapshot(out)
    data = _broken_copy(tmp_path)
    assert main(["validate", str(data)]) == 1
    validate_output = capsys.readouterr().out
    assert main(["export", str(data), "--out", str(out)]) == 1
    export_output = capsys.readouterr().out
    assert export_output == validate_output  # the same report validate prints
    assert "R301" in export_output
    assert snapshot(out) == before
    assert leftovers(out) == []
    assert main(["export", str(data), "--out", str(tmp_path / "new")]) == 1
    assert not (tmp_path / "new").exists()


def test_refuses_to_replace_a_folder_that_is_not_an_export(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(UsageError, match="refusing"):
        export([str(DATA)], mine)
    assert os.listdir(mine) == ["notes.txt"]


def test_refuses_an_output_folder_inside_the_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    with pytest.raises(UsageError, match="inside the data folder"):
        export([str(data)], data / "dist")
    assert not (data / "dist").exists()


# --- atomicity and concurrency ----------------------------------------------------------------


def test_failure_midway_leaves_the_previous_export(
    seed: tuple[ExportResult, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "dist"
    shutil.copytree(seed[1], out)
    before = snapshot(out)
    real = csv_writer.write
    calls: list[str] = []

    def flaky(frame: pl.DataFrame, handle: Any, **kw: Any) -> None:
        calls.append("x")
        if len(calls) > 1:
            raise RuntimeError("disk on fire")
        real(frame, handle, **kw)

    monkeypatch.setattr(csv_writer, "write", flaky)
    with pytest.raises(RuntimeError, match="disk on fire"):
        export([str(DATA)], out)
    assert len(calls) == 2
    assert snapshot(out) == before
    assert leftovers(out) == []


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from toolkit.export import export, parquet
    ready = Path(sys.argv[3])
    real = parquet.write_table
    calls = []
    def slow(*args, **kwargs):
        real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            ready.write_text("first files written")
            time.sleep(120)
    parquet.write_table = slow
    export([sys.argv[1]], sys.argv[2])
""")


def test_kill_midway_leaves_the_previous_export(
    seed: tuple[ExportResult, Path], tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    shutil.copytree(seed[1], out)
    before = snapshot(out)
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(DATA), str(out), str(ready)], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the export never reached its second file"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(out) == before  # untouched, and readable
    assert load(out)["statements"].height == 7
    assert leftovers(out)  # the killed run's staging folder is still there
    export([str(DATA)], out)  # the next export cleans up after it
    assert leftovers(out) == []
    assert snapshot(out) == before


def test_killed_between_renames_is_recovered(
    seed: tuple[ExportResult, Path], tmp_path: Path
) -> None:
    """The window the two-rename fallback leaves: the old export sits aside, none in place."""
    out = tmp_path / "dist"
    aside = tmp_path / ".dist.old-abc123"
    shutil.copytree(seed[1], aside)
    (tmp_path / ".dist.tmp-def456").mkdir()
    with atomic.replace_folder(out) as staging:
        assert out.is_dir() and snapshot(out) == snapshot(seed[1])  # restored under the lock
        staging.write_bytes("datapackage.json", b"{}")
    assert sorted(os.listdir(out)) == [".factkit-export", "datapackage.json"]
    assert leftovers(out) == []


def test_two_rename_fallback(
    seed: tuple[ExportResult, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the system cannot swap two folders atomically, the export still replaces whole."""
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    out = tmp_path / "dist"
    shutil.copytree(seed[1], out)
    (out / "stale.csv").write_bytes(b"from an older export\r\n")
    # an older export that wrote stale.csv, and said so in its marker
    (out / MARKER).write_bytes(marker_bytes([*os.listdir(seed[1]), "stale.csv"]))
    export([str(DATA)], out)
    assert snapshot(out) == snapshot(seed[1])
    assert leftovers(out) == []


def _run_export(data: Path, out: Path) -> subprocess.Popen[bytes]:
    code = "import sys; from toolkit.export import export; export([sys.argv[1]], sys.argv[2])"
    return subprocess.Popen([sys.executable, "-c", code, str(data), str(out)], cwd=ROOT)


def test_concurrent_exports_give_one_complete_export(
    seed: tuple[ExportResult, Path], tmp_path: Path
) -> None:
    other = write_dataset(tmp_path / "other", OTHER)
    reference = tmp_path / "reference"
    assert export([str(other)], reference).written
    out = tmp_path / "dist"
    out.parent.mkdir(exist_ok=True)
    # Hold the lock while both start, so they contend for it once it is released.
    lock = os.open(tmp_path / ".dist.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)
    procs = [_run_export(DATA, out), _run_export(other, out)]
    time.sleep(1)
    os.close(lock)
    assert [p.wait() for p in procs] == [0, 0]
    assert snapshot(out) in (snapshot(seed[1]), snapshot(reference))
    assert leftovers(out) == []


# --- formula-safe CSV -------------------------------------------------------------------------

RISKY = ["=SUM(A1)", "+1 (555)", "-minus", "@cmd", "\ttabbed", "\rreturn", "\uff1dSUM(A1)", " @cmd"]
OTHER: dict[str, Any] = {
    "actors": [{"id": "jane-doe", "kind": "person", "name": '=HYPERLINK("x")'}],
    "bundles": [
        {
            "format": 2,
            "source": {
                "id": "src-risky",
                "outlet": "@outlet",
                "published_on": "2024-06",
                "language": "en",
            },
            "extraction": {
                "method": "manual",
                "by": "-tester",
                "extracted_on": "2024-07-01",
                "review": "accepted",
            },
            "statements": [
                {
                    "id": f"st-{i}",
                    "speakers": ["jane-doe"],
                    "mode": "paraphrase",
                    "text": text,
                    "about": ["RUS"],
                    "note": text,
                }
                for i, text in enumerate(RISKY, 1)
            ],
        }
    ],
}


def test_formula_safe_neutralises_risky_cells(tmp_path: Path) -> None:
    data = write_dataset(tmp_path, OTHER)
    exact, safe = tmp_path / "exact", tmp_path / "safe"
    assert export([str(data)], exact).written
    assert export([str(data)], safe, formula_safe=True).written
    fields = json.loads((exact / "datapackage.json").read_text(encoding="utf-8"))
    spec = next(r for r in fields["resources"] if r["name"] == "statements")["schema"]["fields"]
    exact_rows = csv_writer.read_csv(exact / "statements.csv", spec).to_dicts()
    safe_rows = csv_writer.read_csv(safe / "statements.csv", spec).to_dicts()
    assert sorted(r["text"] for r in exact_rows) == sorted(RISKY)  # default: exact values
    assert sorted(r["text"] for r in safe_rows) == sorted("'" + t for t in RISKY)
    assert sorted(r["note"] for r in safe_rows) == sorted("'" + t for t in RISKY)
    assert {tuple(r["speakers"]) for r in safe_rows} == {("jane-doe",)}  # harmless cells stay
    sources = csv_writer.read_csv(
        safe / "sources.csv",
        next(
            r
            for r in json.loads((safe / "datapackage.json").read_text(encoding="utf-8"))[
                "resources"
            ]
            if r["name"] == "sources"
        )["schema"]["fields"],
    )
    assert sources["outlet"].to_list() == ["'@outlet"]
    assert sources["extraction_by"].to_list() == ["'-tester"]
    package = json.loads((safe / "datapackage.json").read_text(encoding="utf-8"))
    assert all("Formula-safe" in r["description"] for r in package["resources"])
    assert pl.read_parquet(safe / "statements.parquet").equals(
        pl.read_parquet(exact / "statements.parquet")
    )  # Parquet never changes
    assert frictionless_validate(str(safe / "datapackage.json")).valid
