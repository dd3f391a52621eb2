"""Reading text copies. On a cold page cache the prefetch thread starts only when the
reader's reads are slow, advises files in reading order, never more than AHEAD in front of
the reader, skips files it cannot open, and stops when closed; the bytes gathered into
Arrow chunk by chunk give each source its own text, also when sources share a file."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from toolkit.checks.base import CheckContext, Failures
from toolkit.stage import text_reading
from toolkit.stage import texts as stage_texts
from toolkit.stage.text_reading import Prefetch


def _files(tmp_path: Path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        path = tmp_path / f"{i:05d}.txt"
        path.write_text(f"text {i}\n", encoding="utf-8")
        paths.append(str(path))
    return paths


class _Advised:
    """Records the files posix_fadvise was asked about, by their inode."""

    def __init__(self, paths: list[str]) -> None:
        self.by_inode = {os.stat(p).st_ino: i for i, p in enumerate(paths)}
        self.order: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, fd: int, offset: int, length: int, advice: int) -> None:
        assert (offset, length, advice) == (0, 0, os.POSIX_FADV_WILLNEED)
        with self.lock:
            self.order.append(self.by_inode[os.fstat(fd).st_ino])


def _settle(advised: _Advised, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(advised.order) < count and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture
def advised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], _Advised]:
    paths = _files(tmp_path, 2000)
    recorder = _Advised(paths)
    monkeypatch.setattr(text_reading.os, "posix_fadvise", recorder)
    monkeypatch.setattr(Prefetch, "AHEAD", 100)
    return paths, recorder


def test_fast_reads_start_no_thread(advised: tuple[list[str], _Advised]) -> None:
    paths, recorder = advised
    ahead = Prefetch(paths)
    for _ in paths:
        ahead.read(1e-6)
    ahead.close()
    assert recorder.order == []


def test_slow_reads_start_it_ahead_of_the_reader_and_in_order(
    advised: tuple[list[str], _Advised],
) -> None:
    paths, recorder = advised
    ahead = Prefetch(paths)
    window = Prefetch.WINDOW
    for _ in range(window):
        ahead.read(1.0)  # a cold cache: every read slow
    _settle(recorder, 101)
    time.sleep(0.05)  # it would go on, were it not bounded
    # it starts where the reader is and stays at most AHEAD files in front of it
    assert recorder.order == list(range(window, window + 101))
    for _ in range(300):
        ahead.read(1e-6)
    _settle(recorder, 401)
    ahead.close()
    assert recorder.order == list(range(window, window + 401))
    assert not any(t.name == "factkit-prefetch" for t in threading.enumerate())


def test_a_quarter_of_slow_reads_is_enough_and_fewer_is_not(
    advised: tuple[list[str], _Advised],
) -> None:
    paths, recorder = advised
    window = Prefetch.WINDOW
    ahead = Prefetch(paths)
    for i in range(window):  # one slow read in five: under a quarter
        ahead.read(1.0 if i % 5 == 0 else 1e-6)
    ahead.close()
    assert recorder.order == []
    ahead = Prefetch(paths)
    for i in range(window):  # one in four
        ahead.read(1.0 if i % 4 == 0 else 1e-6)
    _settle(recorder, 1)
    ahead.close()
    assert recorder.order and recorder.order[0] == window


def test_files_it_cannot_open_are_skipped(advised: tuple[list[str], _Advised]) -> None:
    paths, recorder = advised
    window = Prefetch.WINDOW
    gone = window + 3
    os.unlink(paths[gone])
    ahead = Prefetch(paths)
    for _ in range(window):
        ahead.read(1.0)
    _settle(recorder, 100)
    ahead.close()
    assert gone not in recorder.order and recorder.order[:4] == [
        window,
        window + 1,
        window + 2,
        window + 4,
    ]


def test_texts_read_the_same_with_it_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every read reported slow: the prefetch thread runs beside the reader, which still
    reads every text copy once, in order, with its digest."""
    import hashlib

    import polars as pl

    paths = _files(tmp_path, 700)
    monkeypatch.setattr(Prefetch, "SLOW", -1.0)
    monkeypatch.setattr(text_reading, "CHUNK", 64)  # and across chunks of rows
    reals = [os.path.realpath(p) for p in paths]
    found = list(text_reading.read_texts(pl.Series([*reals, reals[5], reals[699]])))
    assert len(found) == 702 and found[700] == found[5] and found[701] == found[699]
    for (data, digest), path in zip(found, paths, strict=False):
        body = Path(path).read_bytes()
        assert data == body and digest == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("part_bytes", [1, 20, 1 << 26])
def test_the_texts_table_is_the_same_across_parts_shared_files_and_bad_bytes(
    part_bytes: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The texts table written a part at a time (a part every source, every few, or
    one) gives the same rows in sources order; a file named twice is read once and staged
    for both; bytes that are not text are X703 in sources order; `read` of some
    documents reads their rows only, and the parts' ranges cover every row."""
    import polars as pl

    monkeypatch.setattr(stage_texts, "PART_BYTES", part_bytes)
    paths = _files(tmp_path, 6)
    Path(paths[3]).write_bytes(b"\xff\xfe not utf-8")
    names = [Path(p).name for p in paths]
    named = [names[0], names[1], names[3], names[0], names[2], names[4], names[5], names[2]]
    sources = pl.DataFrame(
        {"text": named, "_doc": list(range(8)), "id": [f"s{i}" for i in range(8)]},
        schema={"text": pl.String, "_doc": pl.UInt32, "id": pl.String},
    )

    class _Docs(list[tuple[Path, Path]]):
        def origin(self, i: int) -> tuple[Path, Path]:
            return self[i]

    reads: list[str] = []
    real = text_reading.read_text_bytes
    monkeypatch.setattr(text_reading, "read_text_bytes", lambda p: reads.append(p) or real(p))
    monkeypatch.setattr(stage_texts, "CHUNK", 3)  # chunks of sources too
    docs = _Docs([(tmp_path / "b.jsonl", tmp_path)] * 8)
    staged = stage_texts.stage_texts(sources, docs)  # type: ignore[arg-type]
    assert sorted(reads) == sorted(set(reads)) and len(reads) == 6
    assert staged.problems.rows() == [("X703", 2, names[3], "")]
    table = staged.table
    kept = [0, 1, 3, 4, 5, 6, 7]
    assert table["_doc"].to_list() == kept
    assert table["source_text"].to_list() == [
        Path(paths[names.index(named[i])]).read_text() for i in kept
    ]
    assert table["size"].to_list() == [len(t.encode()) for t in table["source_text"]]
    if part_bytes == 1:
        assert len(staged.parts) == len(kept)
    covered = [d for first, last in staged.ranges() for d in kept if first <= d <= last]
    assert covered == kept
    assert (
        staged.read(pl.Series([4, 7, 2])).rows()
        == table.filter(pl.col("_doc").is_in([4, 7])).rows()
    )
    assert staged.read(pl.Series([], dtype=pl.Int64)).is_empty()
    assert staged.scan().collect()["_row"].to_list() == list(range(len(kept)))


def test_sources_sharing_a_text_copy_each_get_it(tmp_path: Path) -> None:
    """Two sources naming one file: read (and hashed) once, staged for both."""
    import polars as pl

    paths = _files(tmp_path, 3)
    names = [Path(p).name for p in paths]
    sources = pl.DataFrame(
        {
            "text": [names[0], names[1], names[0], names[2]],
            "_doc": [0, 1, 2, 3],
            "id": ["s0", "s1", "s2", "s3"],
        },
        schema={"text": pl.String, "_doc": pl.UInt32, "id": pl.String},
    )

    class _Docs(list[tuple[Path, Path]]):
        def origin(self, i: int) -> tuple[Path, Path]:
            return self[i]

    docs = _Docs([(tmp_path / "b.jsonl", tmp_path)] * 4)
    staged = stage_texts.stage_texts(sources, docs)  # type: ignore[arg-type]
    assert staged.problems.is_empty()
    found = staged.table
    assert found["_doc"].to_list() == [0, 1, 2, 3]
    assert found["source_id"].to_list() == ["s0", "s1", "s2", "s3"]
    assert found["source_text"].to_list() == ["text 0\n", "text 1\n", "text 0\n", "text 2\n"]
    assert len(staged.digests()) == 3
    assert found["digest"].to_list() == [
        staged.digests()[os.path.realpath(paths[i])] for i in (0, 1, 0, 2)
    ]


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 100])
def test_a_text_is_read_whole_in_one_call(
    size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.txt"
    body = bytes(range(256)) * (size // 256 + 1)
    path.write_bytes(body[:size])
    calls: list[int] = []
    real_read = os.read

    def counting(fd: int, n: int) -> bytes:
        calls.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(text_reading.os, "read", counting)
    monkeypatch.setattr(text_reading, "MAX_TEXT_BYTES", 100)
    found = text_reading.read_text_bytes(path)
    if size > 100:  # past the limit: nothing, and never more than the limit plus one read
        assert found is None and sum(calls) <= 101
    else:
        assert found == body[:size] and len(calls) == 1


def test_text_copies_are_read_when_staging_not_by_the_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every text copy is read before the first check runs; the checks join the staged
    table, and the run hands the export a digest for each file read."""
    from toolkit import checker
    from toolkit.checks import registry

    phase = ["staging"]
    reads: list[str] = []
    real = text_reading.read_text_bytes

    def reading(path: Path | str) -> bytes | None:
        reads.append(phase[0])
        return real(path)

    def checking(check: registry.Check) -> registry.Check:
        def run(ctx: CheckContext) -> list[Failures]:
            phase[0] = "checking"
            return check(ctx)

        return run

    wrapped = tuple(checking(check) for check in registry.checks())
    monkeypatch.setattr(text_reading, "read_text_bytes", reading)
    monkeypatch.setattr(registry, "checks", lambda: wrapped)
    data = Path(__file__).resolve().parents[1] / "data"
    done = checker.run([str(data)])
    assert phase == ["checking"] and reads and set(reads) == {"staging"}
    texts = {path for path in done.text_files or {} if path.endswith(".txt")}
    assert len(texts) == len(reads) and texts <= set(done.digests)
