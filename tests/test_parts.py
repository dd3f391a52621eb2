"""Staged tables written part by part (issue #13): the parts hold what the in-memory tables
held, a file that fails late takes back rows already written, and the run's folder is
removed after the run, also when it fails."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from toolkit import checker
from toolkit.checks.limits import ProblemBudget
from toolkit.checks.schema import SchemaChecker
from toolkit.engines import open_engine
from toolkit.frames import builder as builder_module
from toolkit.frames.base import DOC, table_schema
from toolkit.frames.builder import FrameBuilder
from toolkit.frames.columnwise import columnwise
from toolkit.frames.exact import exact
from toolkit.model.model import Model, load_model
from toolkit.parsers import jsonl_stream
from toolkit.parsers.base import Document, Limits
from toolkit.stage import Staged, load_documents, stage
from toolkit.stage.parts import WORK_DIR, Parts, PartTables, RunFolder
from toolkit.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]


def _stage(paths: list[Path]) -> Staged:
    limits = Limits()
    return stage(load_model(), [str(p) for p in paths], limits, ProblemBudget(100))


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder runs put their folders in (so a test sees what is left there)."""
    folder = tmp_path / "work"
    monkeypatch.setenv(WORK_DIR, str(folder))
    return folder


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    out = tmp_path / "synth" / "bundles.jsonl"
    out.parent.mkdir()
    synthesize(out, 3000, seed=3)
    return out.parent


def _small_parts(monkeypatch: pytest.MonkeyPatch, rows: int = 300) -> None:
    """Parts of a few hundred rows, and JSONL read in 64 KiB blocks (many batches)."""
    monkeypatch.setattr(builder_module, "PART_ROWS", rows)
    defaults = jsonl_stream.stream_jsonl.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "block_bytes", 64 << 10)


def _equal(left: pl.DataFrame, right: pl.DataFrame) -> None:
    assert left.schema == right.schema
    assert left.equals(right)


def _in_memory(
    model: Model, documents: list[Document], valid: list[bool]
) -> dict[str, pl.DataFrame]:
    """The check tables of `documents` flattened at once in memory, as the builder flattens
    each batch (column by column where the schema passed, else value by value), with an
    empty table for each table no document fills."""
    ok = [i for i, v in enumerate(valid) if v]
    not_ok = [i for i, v in enumerate(valid) if not v]
    batches = [
        flatten(model, [documents[i] for i in which], which)
        for flatten, which in ((columnwise, ok), (exact, not_ok))
        if which
    ]
    out = {}
    for table in model.tables.values():
        if table.kind in ("vocabulary", "derived"):
            continue
        found = [b[table.name] for b in batches if table.name in b and b[table.name].height]
        out[table.name] = (
            pl.concat(found).sort(DOC, maintain_order=True)
            if found
            else pl.DataFrame(schema=table_schema(table))
        )
    return out


def test_parts_hold_the_tables_the_builder_held_in_memory(tmp_path: Path) -> None:
    model = load_model()
    documents, _, _ = load_documents([str(ROOT / "data")], Limits())
    schema = SchemaChecker(model)
    valid = [not schema.check(doc) for doc in documents]
    expected = _in_memory(model, documents, valid)
    with RunFolder() as folder:
        parted = FrameBuilder(model, threads=False, parts=Parts.of(folder, model), part_rows=20)
        for at in range(0, len(documents), 3):  # many parts of a few documents each
            parted.add(documents[at : at + 3], at, valid[at : at + 3])
            parted.mark()  # flattens what it holds, as each file's end does
        tables = PartTables(parted.write_parts())
        assert max(len(paths) for paths in tables.paths().values()) > 1
        assert set(tables) == set(expected)
        for name, frame in expected.items():
            _equal(tables[name], frame)
            rows = tables.scan(name).select("_row").collect()["_row"]
            assert rows.to_list() == list(range(frame.height))


def test_a_synthetic_set_larger_than_a_part_stages_as_in_one_part(
    synthetic: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _stage([synthetic]) as one:  # the default part size: all in one part here
        assert max(len(paths) for paths in one.tables.paths().values()) == 1
        expected = {name: one.tables[name] for name in one.tables}
    _small_parts(monkeypatch)
    with _stage([synthetic]) as many:
        assert len(many.tables.paths()["statements"]) > 3
        for name, frame in expected.items():
            _equal(many.tables[name], frame)
            assert many.tables.height(name) == frame.height
            staged = many.tables.scan(name).collect()
            assert staged["_row"].to_list() == list(range(frame.height))
            assert staged.schema["_doc"] == pl.Int64
    assert not any(work.iterdir())


def test_the_run_folder_is_removed_after_a_run_and_after_an_error(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged = _stage([ROOT / "data"])
    (folder,) = work.iterdir()
    # a run in one part holds its record tables in memory (the source texts are written
    # as they are read)...
    assert {p.name.partition("-")[0] for p in folder.iterdir()} == {"texts"}
    assert staged.tables.parts.held() is not None
    staged.tables.paths()  # ... until its files are asked for
    assert {p.suffix for p in folder.iterdir()} == {".parquet"}
    assert staged.tables.parts.held() is None
    staged.close()
    assert not folder.exists()
    assert checker.validate([str(ROOT / "data")]).ok
    with open_engine("duckdb") as engine:
        assert checker.validate([str(ROOT / "data")], engine=engine).ok
    assert not any(work.iterdir())
    with checker.run([str(ROOT / "data")]) as done:  # an export reads tables after the run
        assert done.frames.tables["statements"]["evidence_start"].null_count() == 0
    assert not any(work.iterdir())

    def fail(*args: object, **kwargs: object) -> object:
        raise RuntimeError("reading the texts failed")

    monkeypatch.setattr("toolkit.stage.stage_texts", fail)
    with pytest.raises(RuntimeError, match="reading the texts failed"):
        _stage([ROOT / "data"])
    assert not any(work.iterdir())
    monkeypatch.undo()
    monkeypatch.setenv(WORK_DIR, str(work))
    monkeypatch.setattr("toolkit.checks.registry.checks", lambda: [fail])
    with pytest.raises(RuntimeError, match="reading the texts failed"):
        checker.validate([str(ROOT / "data")])
    assert not any(work.iterdir())


def test_a_jsonl_file_that_fails_late_leaves_no_rows_though_they_were_written(
    synthetic: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundles = synthetic / "bundles.jsonl"
    with _stage([synthetic]) as clean:
        actors = clean.tables["actors"]
    with bundles.open("ab") as handle:
        handle.write(b'{"text": "\xff"}\n')  # a bad byte on the last line: the file fails
    _small_parts(monkeypatch)
    written: list[int] = []  # statements parts on disk when the file's rows are taken back
    truncate = Parts.truncate

    def spy(self: Parts, batch: int) -> None:
        written.append(len(self.parts["statements"]))
        truncate(self, batch)

    monkeypatch.setattr(Parts, "truncate", spy)
    with _stage([synthetic]) as staged:
        assert written and written[0] > 1
        assert [p.code for p in staged.problems] == ["P002"]
        assert staged.tables.height("statements") == 0
        assert staged.tables.paths()["statements"] == []
        for name in staged.tables:
            rows = staged.tables.scan(name).select("_row").collect()["_row"]
            assert rows.to_list() == list(range(staged.tables.height(name)))
        _equal(staged.tables["actors"].drop("_doc"), actors.drop("_doc"))  # the registry stays
        assert staged.tables["sources"].is_empty()


def test_taking_back_batches_rewrites_a_part_that_holds_batches_on_both_sides() -> None:
    schema = {"id": pl.String(), "_doc": pl.UInt32(), "_ptr": pl.String()}

    def batch(*ids: str) -> pl.DataFrame:
        return pl.DataFrame({"id": ids, "_doc": range(len(ids)), "_ptr": ["/"] * len(ids)}, schema)

    with RunFolder() as folder:
        parts = Parts(folder, {"t": schema})
        parts.write("t", [batch("a", "b"), None, batch("c")], first_batch=0)
        parts.write("t", [batch("d")], first_batch=3)
        first = parts.parts["t"][0].path
        parts.truncate(2)  # batches 2 and 3 go: "c" from the first part, the second part
        assert not first.exists() and len(list(folder.path.iterdir())) == 1
        tables = PartTables(parts)
        assert tables["t"]["id"].to_list() == ["a", "b"]
        assert tables.scan("t").collect()["_row"].to_list() == [0, 1]
        parts.write("t", [batch("e")], first_batch=2)  # numbering goes on from the rows kept
        assert tables.scan("t").collect()["_row"].to_list() == [0, 1, 2]
        parts.truncate(0)
        assert parts.rows("t") == 0 and not list(folder.path.iterdir())
        assert tables.scan("t").collect().schema["_doc"] == pl.Int64
    assert not folder.path.exists()
