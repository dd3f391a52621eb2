"""Reading text copies: bounded, without following links or blocking, read ahead when the
disk is slow, and decoded a part of the texts table at a time.

Which files may be read is decided in `toolkit.stage.texts`; this module only reads.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any, overload

import polars as pl

from toolkit.parsers.base import Limits

MAX_TEXT_BYTES = Limits().max_text_bytes
CHUNK = 65_536  # sources resolved and read at a time: the Python objects of one chunk


def read_text_bytes(path: Path | str) -> bytes | None:
    """The bytes of a text copy `resolve_text` accepted, or None when they cannot be read.

    Opened as `resolve_text` judged it: not through a link, without blocking, still a
    regular file, and never more than the limit read, should the file have been swapped
    or grown since (a FIFO would block the run, a device never ends). Plain `os` calls:
    at 100,000 texts a run, a buffered file object per text costs more than the reading.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        # ask for the size the file has, plus one (a file that grew since reads on)
        want = min(info.st_size, MAX_TEXT_BYTES) + 1
        pieces: list[bytes] = []
        total = 0
        while total <= MAX_TEXT_BYTES and (piece := os.read(fd, want)):
            pieces.append(piece)
            total += len(piece)
            if total == info.st_size < want:  # all fstat promised, and not the byte more
                break  # asked for: the end, without a second call to find it out
            want = MAX_TEXT_BYTES + 1 - total
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= MAX_TEXT_BYTES else None


def decode_text(data: bytes) -> str | None:
    """A text copy's bytes as a string, or None when they are not UTF-8 text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    return text.removeprefix("\ufeff")


class Prefetch:
    """Asks the kernel to start reading files ahead of their reader (`posix_fadvise`
    WILLNEED, in one thread), once the reader finds its reads slow.

    With a cold page cache each small read waits for the disk in turn (100,000 texts of
    4 KB: 16 s on this project's virtual disk, 7 s with requests made ahead). With the
    files cached the thread would only cost time (an open and a close per file, and the
    interpreter lock), so it starts only when a quarter of the last `WINDOW` reads took
    longer than `SLOW` seconds. It stays at most `AHEAD` files in front of the reader,
    so what it brings in is still cached when read.
    """

    AHEAD = 512
    WINDOW = 256
    SLOW = 50e-6

    def __init__(self, paths: Sequence[str]) -> None:
        self._paths = paths
        self._done = 0  # files read
        self._slow = 0  # slow reads in the current window
        self._stop = False
        self._thread: threading.Thread | None = None

    def read(self, seconds: float) -> None:
        """The reader read the next file in `seconds`."""
        self._done += 1
        if seconds > self.SLOW:
            self._slow += 1
        if self._done % self.WINDOW == 0:
            if self._slow * 4 >= self.WINDOW and self._thread is None:
                self._start()
            self._slow = 0

    def _start(self) -> None:
        advise = getattr(os, "posix_fadvise", None)
        if advise is None:
            return
        self._thread = threading.Thread(
            target=self._run, args=(advise, self._done), name="factkit-prefetch", daemon=True
        )
        self._thread.start()

    def _run(self, advise: Any, first: int) -> None:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        willneed = os.POSIX_FADV_WILLNEED
        for i in range(first, len(self._paths)):
            while i - self._done > self.AHEAD:
                if self._stop:
                    return
                time.sleep(0.001)
            if self._stop:
                return
            try:
                fd = os.open(self._paths[i], flags)
            except OSError:
                continue
            try:
                advise(fd, 0, 0, willneed)
            except OSError:
                pass
            finally:
                os.close(fd)

    def close(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join()


def decoded(datas: list[bytes] | pl.Series) -> tuple[pl.Series, pl.Series]:
    """(text, not text) of each text copy's bytes, as `decode_text` decides, in polars:
    UTF-8 validated in one pass (each text decoded in Python only when a file is not
    UTF-8), no NUL, a leading byte-order mark dropped."""
    raw = datas if isinstance(datas, pl.Series) else pl.Series("source_text", datas, pl.Binary)
    try:
        text = raw.cast(pl.String).rename("source_text")
    except pl.exceptions.PolarsError:  # some file is not UTF-8: find which, one by one
        text = pl.Series("source_text", [_utf8(d) for d in raw.to_list()], pl.String)
    bad = text.is_null() | text.str.contains("\x00", literal=True)
    return text.str.strip_prefix("\ufeff"), bad


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class _Paths(Sequence[str]):
    """A column of paths as the sequence `Prefetch` walks, without a Python list of them."""

    def __init__(self, paths: pl.Series) -> None:
        self._paths = paths

    def __len__(self) -> int:
        return self._paths.len()

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return list(self._paths[index].to_list())
        return str(self._paths[index])


def read_texts(reals: pl.Series) -> Generator[tuple[bytes | None, str], None, None]:
    """(bytes or None when unreadable, sha256 of the bytes) of the files `reals` names,
    one at a time and in order, so a caller can let each file's bytes go once it has them
    in Arrow. A file named several times is read once: its bytes are held only until the
    last row naming it. One reading thread: with the files in the page cache this is
    interpreter-bound, and worker threads measured slower (3.2-4.6 s against 2.6 s for
    100,000 texts). When reads are slow (a cold page cache), `Prefetch` keeps the disk
    busy ahead of them."""
    later = ~reals.is_last_distinct()  # named again further on
    ahead = Prefetch(_Paths(reals.unique(maintain_order=True)))  # as first named, as read
    held: dict[str, tuple[bytes | None, str]] = {}
    clock = time.perf_counter
    try:
        for start in range(0, reals.len(), CHUNK):
            chunk = zip(
                reals.slice(start, CHUNK).to_list(),
                later.slice(start, CHUNK).to_list(),
                strict=True,
            )
            for real, again in chunk:
                if real in held:
                    yield held[real] if again else held.pop(real)
                    continue
                begun = clock()
                data = read_text_bytes(real)
                ahead.read(clock() - begun)
                read = (data, "" if data is None else hashlib.sha256(data).hexdigest())
                if again:
                    held[real] = read
                yield read
    finally:
        ahead.close()
