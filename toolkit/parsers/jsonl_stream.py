"""JSONL read in blocks of whole lines, never whole.

Memory stays bounded by the block size (and the line limit), whatever the file's size,
so the file-size limit does not apply to JSONL. Each line is decoded on its own; the
first bad UTF-8 byte still fails the whole file exactly as `decode` would (the stream
then says `fatal`, and the reader drops what the file gave before), and a file of blank
lines is still P005. Lines are parsed by the same `JsonReader` as `parse_jsonl` uses, so
both give the same documents and problems.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from toolkit.parsers.base import Document, Limits, Role
from toolkit.parsers.decode import CONTROL_BYTES, control_problems, decode, read_bytes
from toolkit.parsers.fast_lane import FastLane, read_ahead
from toolkit.parsers.json_parser import JsonReader
from toolkit.parsers.locate import JsonLocator, LineIndex
from toolkit.problems import Problem

BLOCK_BYTES = 8 << 20
# A batch also ends after this many documents, or after as many problems as a file may
# report: the reader checks its budget between batches, and tiny lines ('{}', blank
# ones) would otherwise fill a block with millions of objects before it could stop.
BATCH_DOCUMENTS = 4096
_BYTE_BREAKS = re.compile(rb"\r\n|[\r\n]")
_UTF8_BOM = codecs.BOM_UTF8


@dataclass(slots=True)
class Batch:
    """The documents and problems of consecutive lines of one JSONL file.

    `offsets[i]`/`sizes[i]`: where document i's line sits in the file, in bytes (without
    its line break), so it can be read again when a problem needs a position. `fatal`:
    the file failed as a whole (bad UTF-8, blank); everything earlier batches of the same
    file gave is void, and `problems` are the file's only problems.
    """

    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)  # each document's line, while it lives
    fatal: bool = False
    digest: str | None = None  # the last batch of a file read to its end: sha256 of its bytes
    # the schema check's problems per document, when already known (from the parse cache)
    schema: list[list[Problem]] | None = None
    # per document: a fast lane found its line a plain valid bundle (value None, not
    # decoded here); empty when no lane ran. `facts`: how many facts those lines hold.
    plain: list[bool] = field(default_factory=list)
    facts: int = 0


class LineLocator:
    """Positions in one JSONL line that is no longer in memory: the line is read again
    from the file (by its byte offset) when a problem asks for a position."""

    __slots__ = ("_loc", "line", "offset", "path", "size")

    def __init__(self, path: Path, offset: int, size: int, line: int) -> None:
        self.path = path
        self.offset = offset
        self.size = size
        self.line = line
        self._loc: JsonLocator | None = None

    def locate(self, pointer: str, *, key: bool = False) -> tuple[int, int] | None:
        if self._loc is None:
            try:
                with open(self.path, "rb") as handle:
                    handle.seek(self.offset)
                    data = handle.read(self.size)
            except OSError:
                return None
            text = data.decode("utf-8", errors="replace")
            self._loc = JsonLocator(text, 0, len(text), self.line, None)
        return self._loc.locate(pointer, key=key)


def _open(path: Path, file: str, limits: Limits) -> tuple[BinaryIO | None, list[Problem]]:
    """The file opened for reading, checked as `read_bytes` checks it (a regular file,
    opened without blocking), or the problem that stopped us."""
    try:
        info = os.stat(path)
        regular = stat.S_ISREG(info.st_mode) and info.st_size <= limits.max_jsonl_bytes
    except (OSError, ValueError):
        regular = False
    if not regular:  # read_bytes reports the reason (P001, X702, L001) without reading
        return None, read_bytes(path, file, limits)[1]
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
        handle = open(fd, "rb")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        return None, [Problem.of("P001", file, reason=exc.strerror or str(exc))]
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since stat()
        handle.close()
        return None, read_bytes(path, file, limits)[1]
    return handle, []


class _LineStream:
    """Whole lines of a binary file: (byte offset, line bytes, break bytes), in order.

    A line longer than `limit` bytes is read through without being kept: it comes back as
    (offset, None, break), with `self.long` = (size, blank, offset of the first bad UTF-8
    byte or -1).
    """

    def __init__(self, handle: BinaryIO, start: int, block: int, limit: int) -> None:
        self.handle = handle
        self.start = start
        self.block = block
        self.limit = limit
        self.long: tuple[int, bool, int] = (0, True, -1)
        self.sha256 = hashlib.sha256()

    def get_long(self) -> tuple[int, bool, int]:
        return self.long

    def read(self) -> bytes:
        chunk = self.handle.read(self.block)
        self.sha256.update(chunk)
        return chunk

    def __iter__(self) -> Iterator[tuple[int, bytes | None, bytes]]:
        handle = self.handle
        handle.seek(0)
        pending = b""
        offset = self.start  # of `pending` (then of `data`) in the file
        skip = self.start  # the byte-order mark, hashed but not read as text
        while True:
            chunk = self.read()
            if not chunk:
                break
            if skip:
                cut = min(skip, len(chunk))
                chunk, skip = chunk[cut:], skip - cut
                if not chunk:
                    continue
            data = pending + chunk if pending else chunk
            cut = _last_break(data)
            if cut == 0 and len(data) > self.limit:
                data, offset = yield from self._long(data, offset)
                if not data:
                    pending = b""
                    continue
                cut = _last_break(data)
            if cut:
                yield from self._split(data, cut, offset)
                offset += cut
            pending = data[cut:]
        if pending:
            if b"\r" in pending:  # lone CRs end lines too
                yield from self._split(pending + b"\n", len(pending) + 1, offset, last=True)
            else:
                yield offset, pending, b""

    def _split(
        self, data: bytes, cut: int, offset: int, *, last: bool = False
    ) -> Iterator[tuple[int, bytes | None, bytes]]:
        """Lines of data[:cut], which ends with a line break (with `last`: an added LF)."""
        if b"\r" not in data[:cut]:
            pos = 0
            find = data.find
            while pos < cut:
                end = find(b"\n", pos, cut)
                yield offset + pos, data[pos:end], b"\n"
                pos = end + 1
            return
        pos = 0
        for m in _BYTE_BREAKS.finditer(data, 0, cut):
            brk = m.group()
            if last and m.end() == cut:
                brk = brk[:-1]  # the added LF
            yield offset + pos, data[pos : m.start()], brk
            pos = m.end()

    def _long(
        self, data: bytes, offset: int
    ) -> Generator[tuple[int, bytes | None, bytes], None, tuple[bytes, int]]:
        """Read through a line over the limit; returns the data after it and its offset."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        size = 0
        blank = True
        bad = -1
        while True:
            m = _BYTE_BREAKS.search(data)
            if m is not None and m.group() == b"\r" and m.end() == len(data):
                more = self.read()  # the CR may be the first half of a CRLF
                if more:
                    data += more
                    continue
            piece = data if m is None else data[: m.start()]
            if bad < 0:
                buffered = len(decoder.getstate()[0])
                try:
                    text = decoder.decode(piece, final=m is not None)
                except UnicodeDecodeError as exc:
                    bad = size - buffered + exc.start
                    text = ""
                if blank and text.strip(" \t"):
                    blank = False
            size += len(piece)
            if m is not None:
                rest, brk = data[m.end() :], m.group()
                break
            data = self.read()
            if not data:
                if bad < 0:
                    buffered = len(decoder.getstate()[0])
                    try:
                        decoder.decode(b"", final=True)
                    except UnicodeDecodeError as exc:
                        bad = size - buffered + exc.start
                rest, brk = b"", b""
                break
        self.long = (size, blank, bad)
        yield offset, None, brk
        return rest, offset + size + len(brk)


def _last_break(data: bytes) -> int:
    """Offset just after the last line break of `data` that is surely complete (a CR at the
    very end may be the first half of a CRLF), or 0."""
    end = len(data)
    newline = data.rfind(b"\n")
    cr = data.rfind(b"\r", 0, end - 1) if end and data[-1:] == b"\r" else data.rfind(b"\r")
    return max(newline, cr) + 1


def stream_jsonl(
    path: Path,
    file: str,
    role: Role,
    limits: Limits,
    root: Path | None,
    *,
    block_bytes: int = BLOCK_BYTES,
    lane: FastLane | None = None,
) -> Iterator[Batch]:
    """The documents and problems of a JSONL file, a block of lines at a time.

    Gives exactly what `parse_jsonl` gives for the whole file (documents, problems, line
    numbers, columns), except that a JSONL file has no size limit, only a line limit.
    """
    handle, problems = _open(path, file, limits)
    if handle is None:
        yield Batch(problems=problems, fatal=True)
        return
    with handle:
        yield from _stream(handle, path, file, role, limits, root, block_bytes, lane)


_OTHER_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _stream(
    handle: BinaryIO,
    path: Path,
    file: str,
    role: Role,
    limits: Limits,
    root: Path | None,
    block_bytes: int,
    lane: FastLane | None = None,
) -> Iterator[Batch]:
    first = handle.read(4)
    head: list[Problem] = []  # problems of the file as a whole: its byte-order mark
    start = 0
    if first.startswith(_OTHER_BOMS):
        yield Batch(problems=decode(first, file, controls=False).problems, fatal=True)
        return
    if first.startswith(_UTF8_BOM):
        head = [p for p in decode(first, file, controls=False).problems if p.code == "P003"]
        start = len(_UTF8_BOM)
    reader = JsonReader(file, path, role, limits, root)
    max_bytes = limits.max_line_bytes
    lines = _LineStream(handle, start, block_bytes, max_bytes)
    batch = Batch(problems=list(head))
    budget = block_bytes
    blank_file = True
    number = 0
    most = limits.max_problems_per_file
    ahead = read_ahead(lines, lines.get_long, lane if role == "bundle" else None, block_bytes)
    for offset, raw, brk, long, facts in ahead:
        if budget <= 0 or len(batch.problems) >= most or len(batch.documents) >= BATCH_DOCUMENTS:
            yield batch
            batch = Batch()
            budget = block_bytes
        number += 1
        if raw is None:  # a line over the limit, read through without keeping it
            size, _, bad = long
            if bad >= 0:
                handle.seek(offset)
                yield _bad_bytes(file, head, number, handle.read(bad + 8))
                return
            # over the limit even if blank: 200 MB of spaces is no blank line (L005, not
            # the P020 warning), whatever it holds
            blank_file = False
            batch.problems.append(
                Problem.of("L005", file, line=number, column=1, size=size, limit=max_bytes)
            )
            continue
        if facts >= 0 and len(raw) <= max_bytes:
            # vouched for by the lane: UTF-8, no control character, an object (so not
            # blank), plain and valid; its text is all the flattening needs
            blank_file = False
            locator = LineLocator(path, offset, len(raw), number)
            batch.documents.append(Document(file, path, role, None, locator, number, root))
            batch.facts += facts
            batch.offsets.append(offset)
            batch.sizes.append(len(raw))
            batch.lines.append(raw)
            batch.plain.append(True)
            budget -= len(raw)
            continue
        try:
            s = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield _bad_bytes(file, head, number, raw + brk)
            return
        if len(raw) > max_bytes:  # blank or not
            blank_file = False
            batch.problems.append(
                Problem.of("L005", file, line=number, column=1, size=len(raw), limit=max_bytes)
            )
            continue
        if not s or (s[0] in " \t" and not s.strip(" \t")):
            if s or brk:  # the piece after a final newline is not a line
                batch.problems.append(Problem.of("P020", file, line=number, column=1))
            continue
        blank_file = False
        if len(raw) != len(raw.translate(None, CONTROL_BYTES)):
            batch.problems.extend(control_problems(s, file, LineIndex(s, first_line=number), 1))
            continue
        doc, found = reader.document(s, s, 0, number, None, raw)
        if doc is not None:
            batch.documents.append(doc)
            batch.offsets.append(offset)
            batch.sizes.append(len(raw))
            batch.lines.append(raw)
            if lane is not None:
                batch.plain.append(False)
        else:
            batch.problems.extend(found)
        budget -= len(raw)
    if blank_file:
        yield Batch(problems=[*head, Problem.of("P005", file, line=1, column=1)], fatal=True)
        return
    batch.digest = lines.sha256.hexdigest()
    yield batch


def _bad_bytes(file: str, head: list[Problem], number: int, raw: bytes) -> Batch:
    """The file fails at line `number`: P002 worded and placed exactly as `decode` words
    and places it for the whole file (of the lines before, only their number counts)."""
    decoded = decode(b"\n" * (number - 1) + raw, file, controls=False)
    found = [p for p in decoded.problems if p.code == "P002"]
    return Batch(problems=[*head, *found], fatal=True)
