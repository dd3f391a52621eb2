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
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.checks.text_reading import (
    MAX_TEXT_BYTES,
    Bodies,
    Prefetch,
    decoded,
    read_text_bytes,
)
from toolkit.frames.base import DOC

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
            resolved = os.path.join(real_head, name)
            try:
                info = os.lstat(resolved)
            except OSError:
                return None, "R305", ""
            if stat.S_ISLNK(info.st_mode):
                info = None  # a link: resolved the long way below
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


_Read = tuple[str | None, str | None, str, str, bytes | None, str]
# real path, code, detail, data folder, bytes, sha256 of the bytes


def read_all(rows: list[tuple[Path, Path | None, str]]) -> Iterator[_Read]:
    """Resolve, read and hash the text copies of `rows` (bundle path, data folder, text
    path), one at a time, so a caller can let each file's bytes go once it has them in
    Arrow. One reading thread: with the files in the page cache this is interpreter-bound,
    and worker threads measured slower (3.2-4.6 s against 2.6 s for 100,000 texts). When
    reads are slow (a cold page cache), `Prefetch` keeps the disk busy ahead of them."""
    resolve = TextResolver()
    resolved = [resolve.resolve(doc_path, doc_root, text) for doc_path, doc_root, text in rows]
    ahead = Prefetch([real for real, _, _ in resolved if real is not None])
    clock = time.perf_counter
    try:
        for (doc_path, doc_root, _), (real, code, what) in zip(rows, resolved, strict=True):
            if real is None:
                yield (None, code, what, "", None, "")
                continue
            start = clock()
            data = read_text_bytes(real)
            ahead.read(clock() - start)
            digest = "" if data is None else hashlib.sha256(data).hexdigest()
            yield (real, None, "", resolve.base(doc_path, doc_root), data, digest)
    finally:
        ahead.close()


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
    docs: list[int] = []
    bodies = Bodies()
    found: dict[str, list[object]] = {"code": [], "_doc": [], "path": [], "what": []}
    read: dict[str, int | None] = {}  # real path → index of its bytes in `bodies`
    digests: dict[str, str] = {}
    relative: dict[str, str] = {}
    for index, text, (real, code, what, base, data, digest) in zip(
        indices, paths, read_all(rows), strict=True
    ):
        if real is not None:
            if real not in read:  # the first read of a file shared by sources counts
                # inside base (X705 otherwise): os.path.relpath(real, base), on strings
                relative[real] = real[len(base) :].lstrip(os.sep)
                read[real] = None if data is None else bodies.add(data)
                if data is not None:
                    digests[real] = digest
            at = read[real]
            if at is None:
                code = "X703"
            else:
                docs.append(index)
                bodies.use(at)
        if code:
            for key, value in (("code", code), ("_doc", index), ("path", text), ("what", what)):
                found[key].append(value)
    body, bad = decoded(bodies.series())
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
