"""Text copies read ahead on a cold page cache: the prefetch thread starts only when the
reader's reads are slow, advises files in reading order, never more than AHEAD in front of
the reader, skips files it cannot open, and stops when closed."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from toolkit.checks import texts
from toolkit.checks.texts import Prefetch


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
    monkeypatch.setattr(texts.os, "posix_fadvise", recorder)
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

    paths = _files(tmp_path, 700)
    monkeypatch.setattr(Prefetch, "SLOW", -1.0)
    rows = [(tmp_path / "bundle.jsonl", tmp_path, Path(p).name) for p in paths]
    found = texts._read_all(rows)
    assert [r[0] for r in found] == [os.path.realpath(p) for p in paths]
    for (_, code, _, _, data, digest), path in zip(found, paths, strict=True):
        body = Path(path).read_bytes()
        assert code is None and data == body and digest == hashlib.sha256(body).hexdigest()
