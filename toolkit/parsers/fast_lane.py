"""JSONL lines decoded and schema-checked in a second process while this one reads on.

On a large JSONL file the reading process is busy with Python work per line (decoding,
the schema check, bookkeeping) while the other cores idle. A lane hands each block of
raw lines to one worker process, which answers per line whether it is a *plain valid
bundle*: the JSON reader would accept it without a problem (`plain_facts` holds the
conditions), it passes the compiled bundle schema, and its integer fields hold
integers. Such a line is not decoded again here: polars flattens its text. Any other
line, and every line of a block the worker could not answer for, takes the ordinary
path, so the lane changes how fast a run is, never what it finds.

The worker imports neither polars nor the model; it receives the schema and the
integer-field plan once, when it starts, and dies with its input.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import struct
import subprocess
import sys
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

import jsonschema_rs

from toolkit.parsers.base import Limits
from toolkit.parsers.decode import CONTROL_BYTES
from toolkit.parsers.json_parser import NOT_COMPACT, compact_value
from toolkit.parsers.locate import nesting_depth
from toolkit.parsers.numbers import IntegerPlan, non_integers

FACT_KEYS = (
    "statements",
    "agreements",
    "supplies",
    "deployments",
    "alignments",
    "events",
    "responses",
)
LANE_BYTES = 16 << 20  # below this a file is read before the worker has started
# seconds without a byte of an answer before the worker is given up (its blocks are read
# the ordinary way): far more than a block takes, even on a loaded machine
ANSWER_WAIT = 60.0
BLOCK_LINES = 4096  # lines per block at most, however short: a block is held in memory


def count_facts(value: Any) -> int:
    """The facts a bundle holds (0 for anything that is not a bundle object)."""
    if type(value) is not dict:
        return 0
    return sum(len(found) for key in FACT_KEYS if type(found := value.get(key)) is list)


def integers_are_integers(value: Any, plan: IntegerPlan) -> bool:
    """No integer field of the bundle holds a float (50.0): such a line is refused by the
    schema check (S103), which the ordinary path runs (`toolkit.parsers.numbers`)."""
    return next(non_integers(value, plan), None) is None


def plain_facts(
    raw: bytes, validator: Any, plan: IntegerPlan, max_depth: int, max_string_chars: int
) -> int:
    """The number of facts of the bundle on line `raw` when it is a plain valid bundle,
    else -1. Plain: no control character, within the depth and string limits, in the
    compact form orjson writes (so decoding it is exact, as UTF-8, and loses no
    duplicate key; see `compact_value`), an object, valid against the schema, integers as
    integers. The reader takes such a line as it is, without looking at it again."""
    if len(raw) > max_string_chars:  # the reader would look for an over-long string
        return -1
    if len(raw) != len(raw.translate(None, CONTROL_BYTES)):  # DEL is valid JSON, not text
        return -1
    if raw.count(b"{") + raw.count(b"[") > max_depth and nesting_depth(raw) > max_depth:
        return -1
    value = compact_value(raw)
    if value is NOT_COMPACT or type(value) is not dict or not validator.is_valid(value):
        return -1
    if not integers_are_integers(value, plan):
        return -1
    return count_facts(value)


# --- the worker process: `python -c "...serve()"`, frames on stdin and stdout -------------
#
# A run is started by user code that may have no `if __name__ == "__main__"` guard, so the
# worker is a plain subprocess rather than multiprocessing (whose spawn imports the
# caller's main module again). Frames: 8-byte length, then the payload. The first frame
# is the settings as JSON; each next one a block of lines (count, lengths, bytes); each
# answer an array of int64, one per line. Nothing is unpickled on either side.

_HEADER = struct.Struct("<q")


def _send(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _receive(stream: IO[bytes]) -> bytes | None:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def _read_within(fd: int, size: int, wait: float) -> bytes | None:
    """`size` bytes from `fd`, or None at its end or after `wait` seconds without a byte
    (a worker stopped with SIGSTOP or hung never answers: the run must not wait on it)."""
    parts: list[bytes] = []
    while size > 0:
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return None
        part = os.read(fd, size)
        if not part:
            return None
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _receive_within(fd: int, wait: float) -> bytes | None:
    head = _read_within(fd, _HEADER.size, wait)
    if head is None:
        return None
    (size,) = _HEADER.unpack(head)
    return _read_within(fd, size, wait)


def _pack(lines: Sequence[bytes]) -> bytes:
    sizes = array("q", [len(line) for line in lines])
    return b"".join([_HEADER.pack(len(lines)), sizes.tobytes(), *lines])


def _unpack(payload: bytes) -> list[bytes]:
    (count,) = _HEADER.unpack_from(payload)
    sizes = array("q")
    sizes.frombytes(payload[_HEADER.size : _HEADER.size + 8 * count])
    at = _HEADER.size + 8 * count
    lines = []
    for size in sizes:
        lines.append(payload[at : at + size])
        at += size
    return lines


def serve(inp: IO[bytes] | None = None, out: IO[bytes] | None = None) -> None:
    """The worker's loop: settings, then blocks of lines until the input ends."""
    inp = inp or sys.stdin.buffer
    out = out or sys.stdout.buffer
    settings = _receive(inp)
    if settings is None:
        return
    config = json.loads(settings)
    validator = jsonschema_rs.validator_for(config["schema"])
    plan: IntegerPlan = [(k, p, tuple(tuple(x) for x in paths)) for k, p, paths in config["plan"]]
    depth, strings = config["max_depth"], config["max_string_chars"]
    while (payload := _receive(inp)) is not None:
        counts = [plain_facts(raw, validator, plan, depth, strings) for raw in _unpack(payload)]
        _send(out, array("q", counts).tobytes())


class FastLane:
    """One worker process for the bundle lines of a run's large JSONL files.

    Blocks are written to the worker by a thread, so that the reader never waits on a
    full pipe while the worker waits for its answer to be read.
    """

    def __init__(self, schema: dict[str, Any], plan: IntegerPlan, limits: Limits) -> None:
        package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package, env.get("PYTHONPATH")]))
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-c", "from toolkit.parsers.fast_lane import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name="factkit-lane", daemon=True)
        self._writer.start()
        self._sent = 0  # blocks sent
        self._received = 0  # answers read (those of abandoned blocks are skipped)
        settings = {
            "schema": schema,
            "plan": plan,
            "max_depth": limits.max_depth,
            "max_string_chars": limits.max_string_chars,
        }
        self._outbox.put(json.dumps(settings).encode("utf-8"))

    @staticmethod
    def wanted(sizes: Sequence[int]) -> bool:
        """Worth starting: a second core, and a JSONL file large enough to pay for it."""
        return (os.cpu_count() or 1) > 1 and any(size >= LANE_BYTES for size in sizes)

    def _write(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        try:
            while (payload := self._outbox.get()) is not None:
                _send(proc.stdin, payload)
        except (OSError, ValueError):  # the worker is gone: answers will say so
            pass

    def submit(self, lines: Sequence[bytes]) -> Answer | None:
        """An answer to come (facts per line, or -1); None when the lane is closed."""
        if self._proc is None:
            return None
        self._outbox.put(_pack(lines))
        self._sent += 1
        return Answer(self, self._sent, len(lines))

    def _answer(self, number: int, count: int) -> list[int] | None:
        """The answer for block `number` (answers come in order; a stream closed early
        leaves answers nobody asked for, which are read past)."""
        payload = None
        while self._received < number:
            proc = self._proc
            if proc is None or proc.stdout is None:
                return None
            try:  # from the descriptor: the buffered reader is never used, so it holds nothing
                payload = _receive_within(proc.stdout.fileno(), ANSWER_WAIT)
            except (OSError, ValueError):
                payload = None
            if payload is None:
                self.close(kill=True)  # it died or hangs: the rest is read the ordinary way
                return None
            self._received += 1
        if payload is None or len(payload) != 8 * count:
            return None
        counts = array("q")
        counts.frombytes(payload)
        return counts.tolist()

    def close(self, *, kill: bool = False) -> None:
        """End the worker; with `kill`, at once (one that hangs would block the writer
        thread, and closing its input behind it)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if kill:
            with contextlib.suppress(OSError):
                proc.kill()
        self._outbox.put(None)
        self._writer.join(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_Line = tuple[int, bytes | None, bytes]  # offset, bytes (None: over the limit), break
_Long = tuple[int, bool, int]  # what the stream knows of the last line over the limit
_Ahead = tuple[int, bytes | None, bytes, _Long, int]


def read_ahead(
    lines: Iterable[_Line], long: Callable[[], _Long], lane: FastLane | None, block: int
) -> Iterator[_Ahead]:
    """A stream's lines as (offset, bytes, break, long-line facts, plain facts).

    Without a lane, line by line (plain facts -1: decode it here). With one, a block of
    lines is sent to the lane and the block before it is given out while the lane works
    on it; a block the lane could not answer for comes out as without a lane.
    """
    if lane is None:
        for offset, raw, brk in lines:
            yield offset, raw, brk, long(), -1
        return
    waiting: tuple[list[tuple[int, bytes | None, bytes, _Long]], Answer | None] | None = None
    chunk: list[tuple[int, bytes | None, bytes, _Long]] = []
    size = 0
    for offset, raw, brk in lines:
        chunk.append((offset, raw, brk, long()))
        size += len(raw) if raw is not None else 0
        if size >= block or len(chunk) >= BLOCK_LINES:  # short or blank lines count too
            sent = lane.submit([r for _, r, _, _ in chunk if r is not None])
            if waiting is not None:
                yield from _release(*waiting)
            waiting, chunk, size = (chunk, sent), [], 0
    if chunk:
        sent = lane.submit([r for _, r, _, _ in chunk if r is not None])
        if waiting is not None:
            yield from _release(*waiting)
        waiting = (chunk, sent)
    if waiting is not None:
        yield from _release(*waiting)


def _release(
    chunk: list[tuple[int, bytes | None, bytes, _Long]], sent: Answer | None
) -> Iterator[_Ahead]:
    counts = None if sent is None else sent.result()
    found = iter(counts or ())
    for offset, raw, brk, long in chunk:
        yield offset, raw, brk, long, next(found, -1) if raw is not None else -1


class Answer:
    """The worker's answer for one block; answers are read in the order blocks were sent."""

    def __init__(self, lane: FastLane, number: int, count: int) -> None:
        self._lane = lane
        self._number = number
        self._count = count

    def result(self) -> list[int] | None:
        return self._lane._answer(self._number, self._count)
