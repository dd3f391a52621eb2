"""The parse cache's flattened rows (`toolkit.cache_frames`): a warm run takes each
unchanged YAML file's rows instead of flattening it, and gets the very tables and report
a run without a cache gets; a changed file, model or flattening code is flattened again;
a torn or foreign `frames.bin` is ignored and written again, never a crash."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from toolkit import cache as cache_module
from toolkit import cache_frames
from toolkit.cache import ParseCache
from toolkit.checker import Run, run
from toolkit.frames.builder import FrameBuilder
from toolkit.synth import synthesize_yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many files' kept rows each run took (one number per `add_frames` call)."""
    calls: list[int] = []
    original = FrameBuilder.add_frames

    def spy(self: FrameBuilder, rows: cache_frames.StoredRows, first: int) -> None:
        calls.append(first)
        original(self, rows, first)

    monkeypatch.setattr(FrameBuilder, "add_frames", spy)
    return calls


def _run(paths: list[Path], folder: Path | None) -> Run:
    cache = ParseCache(folder) if folder is not None else None
    try:
        return run([str(p) for p in paths], cache=cache)
    finally:
        if cache is not None:
            cache.close()


def _same(got: Run, want: Run) -> None:
    assert got.frames.tables.keys() == want.frames.tables.keys()
    for name, frame in want.frames.tables.items():
        assert_frame_equal(got.frames.tables[name], frame, check_exact=True)
    assert [p.to_dict() for p in got.report.problems] == [p.to_dict() for p in want.report.problems]


def _fixtures() -> list[Path]:
    """Every valid and invalid fixture's data folder: schema problems, rejected values,
    stand-ins, YAML errors, old-format bundles, JSON and JSONL beside the YAML."""
    return sorted(p / "data" for kind in ("valid", "invalid") for p in (FIXTURES / kind).iterdir())


def test_warm_tables_equal_cold_on_the_fixtures_and_the_dataset(
    tmp_path: Path, taken: list[int]
) -> None:
    paths = [*_fixtures(), DATA]
    want = _run(paths, None)
    folder = tmp_path / "cache"
    _same(_run(paths, folder), want)  # fills the cache: every file flattened
    assert not taken
    assert (folder / cache_frames.NAME).is_file()
    _same(_run(paths, folder), want)
    assert len(taken) > 50  # the YAML files' rows were taken, not flattened
    _same(_run(paths, folder), want)


def _synthetic(tmp_path: Path) -> Path:
    data = tmp_path / "synth"
    synthesize_yaml(data, 400, seed=3)
    return data


def test_a_changed_file_is_flattened_again(tmp_path: Path, taken: list[int]) -> None:
    data = _synthetic(tmp_path)
    folder = tmp_path / "cache"
    _run([data], folder)
    files = sorted((data / "sources").rglob("*.yaml"))
    target = files[len(files) // 2]
    text = target.read_text(encoding="utf-8")
    # a new value and a schema problem (a rejected value: a stand-in fills its cell)
    changed = text.replace("confidence: 0.", "confidence: 7.", 1).replace(
        'speaker_role: "', 'speaker_role: 5 #"', 1
    )
    assert changed != text
    target.write_text(changed, encoding="utf-8")
    taken.clear()
    got = _run([data], folder)
    assert len(taken) == len(files) + len(list((data / "actors").glob("*.yaml"))) - 1
    _same(got, _run([data], None))
    pointers = [p.pointer for p in got.report.problems if p.file.endswith(target.name)]
    assert any(p.endswith("/speaker_role") for p in pointers)  # a rejected value (stand-in)
    assert any(p.endswith("/confidence") for p in pointers)
    taken.clear()
    _same(_run([data], folder), _run([data], None))  # and its new rows are kept
    assert len(taken) == len(files) + len(list((data / "actors").glob("*.yaml")))


def test_a_changed_model_or_flattening_code_flattens_again(
    tmp_path: Path, taken: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _synthetic(tmp_path)
    folder = tmp_path / "cache"
    _run([data], folder)
    _run([data], folder)
    assert taken
    taken.clear()
    monkeypatch.setattr(cache_frames, "_code_digest", lambda: "1" * 64)
    _same(_run([data], folder), _run([data], None))
    assert not taken
    monkeypatch.setattr(cache_module, "schemas_digest", lambda folder=None: "0" * 64)
    _same(_run([data], folder), _run([data], None))
    assert not taken


@pytest.mark.parametrize("damage", ["flip", "tear", "foreign", "garbage"])
def test_a_damaged_store_is_ignored_and_written_again(
    tmp_path: Path, taken: list[int], damage: str
) -> None:
    data = _synthetic(tmp_path)
    folder = tmp_path / "cache"
    _run([data], folder)
    store = folder / cache_frames.NAME
    body = store.read_bytes()
    if damage == "flip":  # one byte changed inside the rows
        at = len(body) // 2
        store.write_bytes(body[:at] + bytes([body[at] ^ 1]) + body[at + 1 :])
    elif damage == "tear":  # a run killed while writing
        store.write_bytes(body[: len(body) * 2 // 3])
    elif damage == "foreign":  # well-formed, signed with another key
        other = cache_frames.FrameStore(tmp_path / "other", b"k" * 32, {})
        other._write(["x" * 64], ["f"], {"sources": pl.DataFrame({"a": [1]})}, append=False)
        store.write_bytes((tmp_path / "other" / cache_frames.NAME).read_bytes())
    else:
        store.write_bytes(b"not a store at all\n" * 10)
    want = _run([data], None)
    _same(_run([data], folder), want)
    assert not taken
    _same(_run([data], folder), want)  # written again by that run
    assert taken


def test_rows_appended_by_many_runs_are_compacted(tmp_path: Path, taken: list[int]) -> None:
    data = _synthetic(tmp_path)
    folder = tmp_path / "cache"
    _run([data], folder)
    target = sorted((data / "sources").rglob("*.yaml"))[0]
    text = target.read_text(encoding="utf-8")
    want = None
    for i in range(cache_frames.MAX_SEGMENTS + 2):
        target.write_text(text + f"# edit {i}\n", encoding="utf-8")
        want = _run([data], None)
        _same(_run([data], folder), want)
    segments = (folder / cache_frames.NAME).read_bytes().count(b"factkit-frames\n")
    assert 1 < segments < cache_frames.MAX_SEGMENTS  # rewritten as one, then appended to


def test_data_folders_sharing_a_cache_folder_keep_their_rows(
    tmp_path: Path, taken: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when every update rewrites the store, one folder's run keeps the other's rows."""
    monkeypatch.setattr(cache_frames, "MAX_SEGMENTS", 1)
    first = tmp_path / "first"
    second = tmp_path / "second"
    synthesize_yaml(first, 200, seed=4)
    synthesize_yaml(second, 200, seed=5)
    folder = tmp_path / "cache"
    _run([first], folder)
    _run([second], folder)
    for data in (first, second):
        taken.clear()
        _same(_run([data], folder), _run([data], None))
        files = list(data.rglob("*.yaml"))
        assert len(taken) == len(files)
