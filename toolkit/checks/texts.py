"""Text copies: a source's `text` path must name a regular UTF-8 file inside the data folder.

Paths are checked before anything is opened: nothing outside the data folder is read,
links are resolved and judged by where they land, and devices or FIFOs are never opened.
The texts read here are kept in the context for the grounding family.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.frames.base import DOC
from toolkit.parsers.base import Limits

MAX_TEXT_BYTES = Limits().max_text_bytes
TEXTS = "texts"
TEXT_DIGESTS = "text_digests"  # resolved path (str) → sha256 of the bytes read
TEXT_FILES = "text_files"  # resolved path (str) → path relative to its data folder


def _within(path: str, base: str) -> bool:
    """`Path(path).is_relative_to(base)` for normalised absolute paths, on strings."""
    return path == base or path.startswith(base if base.endswith(os.sep) else base + os.sep)


class TextResolver:
    """`resolve_text` for many bundles: what their paths share (the data folder, the
    folders the texts sit in) is resolved once, not once per source."""

    def __init__(self) -> None:
        self._cwd = os.getcwd()
        self._real: dict[str, str | None] = {}  # folder as written → its real path
        self._bases: dict[tuple[str, str | None], tuple[str, str]] = {}
        self._bundles: dict[tuple[str, str | None], tuple[str, str, str]] = {}
        self.last = ""  # the real path of the last safe text, as a string

    def _realdir(self, folder: str) -> str | None:
        if folder not in self._real:
            try:
                self._real[folder] = os.path.realpath(folder, strict=True)
            except (OSError, RuntimeError):
                self._real[folder] = None
        return self._real[folder]

    def _base(self, folder: Path, root: Path | None) -> tuple[str, str]:
        key = (os.fspath(folder), None if root is None else os.fspath(root))
        if key not in self._bases:
            given = root or folder
            self._bases[key] = (
                str(given.resolve()),
                os.path.normpath(os.path.join(self._cwd, given)),
            )
        return self._bases[key]

    def _bundle(self, bundle: Path, root: Path | None) -> tuple[str, str, str]:
        """(folder of the bundle, resolved data folder, data folder made absolute)."""
        key = (os.fspath(bundle), None if root is None else os.fspath(root))
        found = self._bundles.get(key)
        if found is None:
            folder = bundle.parent
            found = self._bundles[key] = (os.fspath(folder), *self._base(folder, root))
        return found

    def base(self, bundle: Path, root: Path | None) -> str:
        """The data folder a bundle's text copy must stay in, resolved."""
        return self._bundle(bundle, root)[1]

    def __call__(
        self, bundle: Path, root: Path | None, text: str
    ) -> tuple[Path | None, str | None, str]:
        """(resolved path, problem code, detail) for a bundle's text path; code None when
        the path is safe to read."""
        resolved, code, what = self.resolve(bundle, root, text)
        return (None if resolved is None else Path(resolved)), code, what

    def resolve(
        self, bundle: Path, root: Path | None, text: str
    ) -> tuple[str | None, str | None, str]:
        """As calling it, with the resolved path as a string."""
        folder, base, given_abs = self._bundle(bundle, root)
        if os.path.isabs(text) or "\x00" in text:
            return None, "X701", ""
        candidate = os.path.join(folder, text)
        lexical = os.path.normpath(os.path.join(self._cwd, candidate))
        if not _within(lexical, base) and not _within(lexical, given_abs):
            return None, "X701", ""
        head, name = os.path.split(candidate)
        info = None
        if name not in ("", ".", ".."):
            real_head = self._realdir(head or os.curdir)
            if real_head is None:
                return None, "R305", ""
            try:
                info = os.lstat(os.path.join(real_head, name))
            except OSError:
                return None, "R305", ""
            if stat.S_ISLNK(info.st_mode):
                info = None  # a link: resolved the long way below
            else:
                resolved = os.path.join(real_head, name)
        if info is None:
            try:
                resolved = os.path.realpath(candidate, strict=True)
                info = os.stat(resolved)
            except (OSError, RuntimeError) as exc:
                if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
                    return None, "X702", "a link that loops"
                return None, "R305", ""
        if not _within(resolved, base):
            return None, "X705", ""
        self.last = resolved
        mode = info.st_mode
        if not stat.S_ISREG(mode):
            what = "a directory" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
            return None, "X702", what
        if info.st_size > MAX_TEXT_BYTES:
            return None, "L006", str(info.st_size)
        return resolved, None, ""


def resolve_text(bundle: Path, root: Path | None, text: str) -> tuple[Path | None, str | None, str]:
    """(resolved path, problem code, detail) for a bundle's text path; code None when safe."""
    return TextResolver()(bundle, root, text)


def read_text(path: Path) -> str | None:
    """The text copy as a string, or None when it is not UTF-8 text."""
    data = read_text_bytes(path)
    return None if data is None else decode_text(data)


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


_Read = tuple[str | None, str | None, str, str, bytes | None, str]
# real path, code, detail, data folder, bytes, sha256 of the bytes


def _read_all(rows: list[tuple[Path, Path | None, str]]) -> list[_Read]:
    """Resolve, read and hash the text copies of `rows` (bundle path, data folder, text
    path). One reading thread: with the files in the page cache this is interpreter-bound,
    and worker threads measured slower (3.2-4.6 s against 2.6 s for 100,000 texts). When
    reads are slow (a cold page cache), `Prefetch` keeps the disk busy ahead of them."""
    resolve = TextResolver()
    resolved = [resolve.resolve(doc_path, doc_root, text) for doc_path, doc_root, text in rows]
    out: list[_Read] = []
    ahead = Prefetch([real for real, _, _ in resolved if real is not None])
    clock = time.perf_counter
    try:
        for (doc_path, doc_root, _), (real, code, what) in zip(rows, resolved, strict=True):
            if real is None:
                out.append((None, code, what, "", None, ""))
                continue
            start = clock()
            data = read_text_bytes(real)
            ahead.read(clock() - start)
            digest = "" if data is None else hashlib.sha256(data).hexdigest()
            out.append((real, None, "", resolve.base(doc_path, doc_root), data, digest))
    finally:
        ahead.close()
    return out


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

    def __init__(self, paths: list[str]) -> None:
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


def _decoded(datas: list[bytes]) -> tuple[pl.Series, pl.Series]:
    """(text, not text) of each text copy's bytes, as `decode_text` decides, in polars:
    UTF-8 validated in one pass (each text decoded in Python only when a file is not
    UTF-8), no NUL, a leading byte-order mark dropped."""
    raw = pl.Series("source_text", datas, pl.Binary)
    try:
        text = raw.cast(pl.String)
    except pl.exceptions.PolarsError:  # some file is not UTF-8: find which, one by one
        text = pl.Series("source_text", [_utf8(d) for d in datas], pl.String)
    bad = text.is_null() | text.str.contains("\x00", literal=True)
    return text.str.strip_prefix("\ufeff"), bad


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _origins(ctx: CheckContext, indices: list[int]) -> list[tuple[Path, Path | None]]:
    documents = ctx.frames.documents
    origin = getattr(documents, "origin", None)  # (path, root) without making a Document
    if origin is not None:
        return [origin(i) for i in indices]
    return [(documents[i].path, documents[i].root) for i in indices]


def load_texts(ctx: CheckContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(texts: _doc → source_text, problems: code/_doc/path/what), computed once per run.

    Per file only what must be per file (resolve, read, hash); the UTF-8 decoding of all
    texts is one polars cast.
    """
    if TEXTS in ctx.cache:
        return ctx.cache[TEXTS]  # type: ignore[no-any-return]
    sources = ctx.table("sources").filter(pl.col("text").is_not_null())
    indices: list[int] = sources[DOC].to_list()
    paths: list[str] = sources["text"].to_list()
    rows = [(p, r, t) for (p, r), t in zip(_origins(ctx, indices), paths, strict=True)]
    results = _read_all(rows)
    docs: list[int] = []
    datas: list[bytes] = []
    found: dict[str, list[object]] = {"code": [], "_doc": [], "path": [], "what": []}
    read: dict[str, bytes | None] = {}
    digests: dict[str, str] = {}
    relative: dict[str, str] = {}
    for index, text, (real, code, what, base, data, digest) in zip(
        indices, paths, results, strict=True
    ):
        if real is not None:
            if real not in read:  # the first read of a file shared by sources counts
                # inside base (X705 otherwise): os.path.relpath(real, base), on strings
                relative[real] = real[len(base) :].lstrip(os.sep)
                read[real] = data
                if data is not None:
                    digests[real] = digest
            data = read[real]
            if data is None:
                code = "X703"
            else:
                docs.append(index)
                datas.append(data)
        if code:
            for key, value in (("code", code), ("_doc", index), ("path", text), ("what", what)):
                found[key].append(value)
    body, bad = _decoded(datas)
    texts = pl.DataFrame([pl.Series(DOC, docs, pl.UInt32), body])
    problems = pl.DataFrame(
        found, schema={"code": pl.String, "_doc": pl.UInt32, "path": pl.String, "what": pl.String}
    )
    if bad.any():  # not text: X703, in table order with the others
        unreadable = (
            texts.filter(bad)
            .select(pl.lit("X703").alias("code"), DOC)
            .join(sources.select(DOC, pl.col("text").alias("path")), on=DOC, maintain_order="left")
            .with_columns(pl.lit("").alias("what"))
        )
        problems = pl.concat([problems, unreadable]).sort(DOC, maintain_order=True)
        texts = texts.filter(~bad)
    ctx.cache[TEXTS] = (texts, problems)
    ctx.cache[TEXT_DIGESTS] = digests
    ctx.cache[TEXT_FILES] = relative
    return texts, problems


def check_text_paths(ctx: CheckContext) -> list[Failures]:
    _, found = load_texts(ctx)
    out: list[Failures] = []
    for code in ("R305", "X701", "X702", "X703", "X705"):
        frame = found.filter(pl.col("code") == code).select(
            "_doc",
            pl.lit("/source/text").alias("pointer"),
            "path",
            *([pl.col("what")] if code == "X702" else []),
        )
        out += failures(code, frame)
    too_large = found.filter(pl.col("code") == "L006").select(
        "_doc",
        pl.lit("/source/text").alias("pointer"),
        "path",
        pl.col("what").alias("size"),
        pl.lit(MAX_TEXT_BYTES).alias("limit"),
    )
    return out + failures("L006", too_large)


CHECKS = (check_text_paths,)
