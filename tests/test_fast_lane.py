"""The fast lane changes how fast a run is, never what it finds.

A second process vouches for plain valid bundle lines of large JSONL files; these tests
force it on small data and hold every result to a run without it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

import toolkit.parsers.fast_lane as fast_lane
from toolkit.checker import Run, run
from toolkit.frames.from_json import integer_paths
from toolkit.model.model import load_model
from toolkit.parsers import collect
from toolkit.parsers.base import Limits, ParseResult
from toolkit.parsers.fast_lane import FACT_KEYS, FastLane, plain_facts
from toolkit.parsers.json_parser import JsonReader
from toolkit.parsers.jsonl_stream import stream_jsonl
from toolkit.synth import synthesize


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic bundles, one in ten broken in each of the known ways."""
    folder = tmp_path_factory.mktemp("lane")
    synthesize(folder / "bundles.jsonl", 2500, seed=11, invalid_rate=0.1)
    return folder


def _same(a: Run, b: Run) -> None:
    assert a.report.problems == b.report.problems
    assert a.report.records == b.report.records
    for name, frame in b.frames.tables.items():
        assert a.frames.tables[name].equals(frame), name


def _run(folder: Path, monkeypatch: pytest.MonkeyPatch, *, lane: bool) -> Run:
    with monkeypatch.context() as patch:
        patch.setattr(fast_lane.FastLane, "wanted", staticmethod(lambda sizes: lane))
        return run([str(folder)])


def test_a_run_with_the_lane_is_a_run_without(
    broken: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _run(broken, monkeypatch, lane=False)
    assert plain.report.problems, "the data should be broken"
    _same(_run(broken, monkeypatch, lane=True), plain)


def test_a_lane_whose_worker_dies_changes_nothing(
    broken: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = FastLane.__init__

    def dying(self: FastLane, *args: Any, **kwargs: Any) -> None:
        start(self, *args, **kwargs)
        assert self._proc is not None
        self._proc.kill()

    without = _run(broken, monkeypatch, lane=False)
    monkeypatch.setattr(FastLane, "__init__", dying)
    _same(_run(broken, monkeypatch, lane=True), without)


def test_plain_lines_are_lines_the_reader_and_the_schema_accept(broken: Path) -> None:
    """Every line the worker vouches for is one the ordinary path finds valid, with as
    many facts; and the valid compact lines are vouched for (the lane does its work)."""
    model = load_model()
    validator = jsonschema_rs.validator_for(model.bundle_schema)
    plan = integer_paths(model)
    limits = Limits()
    path = broken / "bundles.jsonl"
    reader = JsonReader("b.jsonl", path, "bundle", limits, None)
    vouched = 0
    for number, raw in enumerate(path.read_bytes().splitlines(), 1):
        facts = plain_facts(raw, validator, plan, limits.max_depth, limits.max_string_chars)
        text = raw.decode("utf-8", "replace")
        doc, problems = reader.document(text, text, 0, number, None)
        valid = doc is not None and not problems and validator.is_valid(doc.value)
        if facts >= 0:
            vouched += 1
            assert valid, number
            assert doc is not None
            assert facts == sum(len(doc.value.get(k) or ()) for k in FACT_KEYS)
    assert vouched > 150


def _flags_and_result(path: Path, lane: FastLane | None) -> tuple[list[bool], ParseResult]:
    batches = list(
        stream_jsonl(path, path.name, "bundle", Limits(), None, block_bytes=4096, lane=lane)
    )
    return [flag for b in batches for flag in b.plain], collect(iter(batches))


def test_a_file_left_early_does_not_shift_the_next_files_answers(
    tmp_path: Path, broken: Path
) -> None:
    """A stream closed with blocks in flight (a file over its problem budget) leaves
    answers behind; the next file must get its own, line for line."""
    lines = (broken / "bundles.jsonl").read_bytes().splitlines(keepends=True)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(b"".join(lines[:120]))
    second.write_bytes(b"".join(lines[120:]))
    model = load_model()
    limits = Limits()

    def lane() -> FastLane:
        return FastLane(model.bundle_schema, integer_paths(model), limits)

    shared, fresh = lane(), lane()
    try:
        stream = stream_jsonl(
            first, "a.jsonl", "bundle", limits, None, block_bytes=4096, lane=shared
        )
        next(stream)
        stream.close()  # blocks of a.jsonl were sent and not all answered
        flags, got = _flags_and_result(second, shared)
        want_flags, _ = _flags_and_result(second, fresh)
    finally:
        shared.close()
        fresh.close()
    _, want = _flags_and_result(second, None)
    assert flags == want_flags
    assert sum(flags) > 100
    assert got.problems == want.problems
    assert [d.line for d in got.documents] == [d.line for d in want.documents]


def test_the_worker_reads_frames_it_was_sent() -> None:
    """The frame format round-trips lines of any bytes, the empty block included."""
    for lines in ([], [b""], [b"{}", b"\x00\xff", b'{"a":1}' * 1000]):
        assert fast_lane._unpack(fast_lane._pack(lines)) == lines


def test_the_lane_starts_only_where_it_pays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_lane.os, "cpu_count", lambda: 2)
    assert not FastLane.wanted([])
    assert not FastLane.wanted([fast_lane.LANE_BYTES - 1])
    assert FastLane.wanted([10, fast_lane.LANE_BYTES])
    monkeypatch.setattr(fast_lane.os, "cpu_count", lambda: 1)
    assert not FastLane.wanted([fast_lane.LANE_BYTES * 10])


def test_a_block_holds_a_bounded_number_of_lines_however_short() -> None:
    """Blank or tiny lines never fill a block by size: without a bound on lines, a
    20 MB file of blank lines was held whole (4.8 GB) before the lane saw any of it."""
    sent: list[int] = []

    class Recorder:
        def submit(self, lines: list[bytes]) -> None:
            sent.append(len(lines))

    lines = ((i, b"", b"\n") for i in range(3 * fast_lane.BLOCK_LINES + 5))
    out = list(fast_lane.read_ahead(lines, lambda: (0, True, -1), Recorder(), 8 << 20))  # type: ignore[arg-type]
    assert len(out) == 3 * fast_lane.BLOCK_LINES + 5
    assert sent == [fast_lane.BLOCK_LINES] * 3 + [5]
    assert {facts for *_, facts in out} == {-1}  # no answers: every line read here


def test_a_stopped_worker_does_not_make_the_run_wait_forever(
    broken: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker stopped with SIGSTOP (or hung) never answers: after ANSWER_WAIT without
    a byte the lane is given up and its blocks are read the ordinary way."""
    import signal

    start = FastLane.__init__

    def stopped(self: FastLane, *args: Any, **kwargs: Any) -> None:
        start(self, *args, **kwargs)
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGSTOP)

    without = _run(broken, monkeypatch, lane=False)
    monkeypatch.setattr(fast_lane, "ANSWER_WAIT", 1.0)
    monkeypatch.setattr(FastLane, "__init__", stopped)
    _same(_run(broken, monkeypatch, lane=True), without)
