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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.frames.base import DOC
from toolkit.parsers.base import Limits

MAX_TEXT_BYTES = Limits().max_text_bytes
TEXTS = "texts"
TEXT_DIGESTS = "text_digests"  # resolved path → sha256 of the bytes read, for the export
TEXT_FILES = "text_files"  # resolved path → path relative to its data folder, for the export


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


_Read = tuple[str | None, str | None, str, str, bytes | None]  # real, code, what, base, data
CHUNK = 1024  # sources per task: big enough to amortise, small enough to spread
THREADS = 8  # the work is mostly waiting on the file system, which threads overlap


def _read_chunk(rows: list[tuple[Path, Path | None, str]]) -> list[_Read]:
    """Resolve and read the text copies of `rows` (bundle path, data folder, text path)."""
    resolve = TextResolver()
    out: list[_Read] = []
    for doc_path, doc_root, text in rows:
        real, code, what = resolve.resolve(doc_path, doc_root, text)
        if real is None:
            out.append((None, code, what, "", None))
        else:
            data = read_text_bytes(real)
            out.append((real, None, "", resolve.base(doc_path, doc_root), data))
    return out


def _origins(ctx: CheckContext, indices: list[int]) -> list[tuple[Path, Path | None]]:
    documents = ctx.frames.documents
    origin = getattr(documents, "origin", None)  # (path, root) without making a Document
    if origin is not None:
        return [origin(i) for i in indices]
    return [(documents[i].path, documents[i].root) for i in indices]


def load_texts(ctx: CheckContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(texts: _doc → source_text, problems: code/_doc/path/what), computed once per run.

    Resolving and reading 100,000 small files is mostly waiting on system calls, so it
    runs in a few threads; the results are merged in table order, so the outcome is the
    same as one pass.
    """
    if TEXTS in ctx.cache:
        return ctx.cache[TEXTS]  # type: ignore[no-any-return]
    sources = ctx.table("sources").filter(pl.col("text").is_not_null())
    indices: list[int] = sources[DOC].to_list()
    paths: list[str] = sources["text"].to_list()
    rows = [(p, r, t) for (p, r), t in zip(_origins(ctx, indices), paths, strict=True)]
    chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
    if len(chunks) > 1:
        with ThreadPoolExecutor(min(THREADS, len(chunks)), "factkit-texts") as pool:
            results = list(pool.map(_read_chunk, chunks))
    else:
        results = [_read_chunk(chunk) for chunk in chunks]
    docs: list[int] = []
    bodies: list[str] = []
    found: dict[str, list[object]] = {"code": [], "_doc": [], "path": [], "what": []}
    read: dict[str, str | None] = {}
    digests: dict[Path, str] = {}
    relative: dict[Path, str] = {}
    for index, text, (real, code, what, base, data) in zip(
        indices, paths, (r for result in results for r in result), strict=True
    ):
        if real is not None:
            if real not in read:  # the first read of a file shared by sources counts
                path = Path(real)
                # inside base (X705 otherwise): os.path.relpath(real, base), on strings
                relative[path] = real[len(base) :].lstrip(os.sep)
                read[real] = None if data is None else decode_text(data)
                if data is not None:
                    digests[path] = hashlib.sha256(data).hexdigest()
            body = read[real]
            if body is None:
                code = "X703"
            else:
                docs.append(index)
                bodies.append(body)
        if code:
            for key, value in (("code", code), ("_doc", index), ("path", text), ("what", what)):
                found[key].append(value)
    texts = pl.DataFrame(
        {DOC: docs, "source_text": bodies}, schema={DOC: pl.UInt32, "source_text": pl.String}
    )
    problems = pl.DataFrame(
        found, schema={"code": pl.String, "_doc": pl.UInt32, "path": pl.String, "what": pl.String}
    )
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
