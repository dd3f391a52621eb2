"""Staging the source texts: each text copy a source names, read once, as a table.

A source's `text` path must name a regular UTF-8 file inside the data folder. Paths are
judged before anything is opened: nothing outside the data folder is read, links are
resolved and judged by where they land, and devices or FIFOs are never opened. What
cannot be read is not an exception but a problem row (R305, X701, X702, X703, X705,
L006), which the texts check family reports; grounding joins the table, so no check
reads a file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from toolkit.frames.base import DOC
from toolkit.parsers.base import Document
from toolkit.stage.text_reading import MAX_TEXT_BYTES, Bodies, Prefetch, decoded, read_text_bytes

TEXTS = "texts"  # the staged table's name on the engine


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


@dataclass(frozen=True, slots=True)
class SourceTexts:
    """What staging the text copies gives: the texts, and what kept some from being read.

    `table`: `_doc` (UInt32), `source_id`, `path` (as the source writes it),
    `source_text`, `digest` (sha256 of the file's bytes), `size` (the text's UTF-8
    bytes: what searching it costs): one row per source whose copy was read as text, in
    sources order. `problems`: `code`, `_doc`, `path`, `what` (a
    detail: what X702 found, L006's size), in sources order. `files`: resolved path of
    each copy resolved inside its data folder → its path relative to that folder, and
    `digests`: resolved path → sha256 of the bytes read: the export's input hash reuses
    them instead of reading the files again (keys are strings: a Path per text copy
    costs seconds at 100,000 texts)."""

    table: pl.DataFrame
    problems: pl.DataFrame
    files: dict[str, str] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)


_PROBLEMS = {"code": pl.String, DOC: pl.UInt32, "path": pl.String, "what": pl.String}
_TABLE = {
    DOC: pl.UInt32,
    "source_id": pl.String,
    "path": pl.String,
    "source_text": pl.String,
    "digest": pl.String,
    "size": pl.Int64,
}


def _origins(documents: Sequence[Document], indices: list[int]) -> list[tuple[Path, Path | None]]:
    origin = getattr(documents, "origin", None)  # (path, root) without making a Document
    if origin is not None:
        return [origin(i) for i in indices]
    return [(documents[i].path, documents[i].root) for i in indices]


def stage_texts(sources: pl.DataFrame, documents: Sequence[Document]) -> SourceTexts:
    """Read the text copy of every source in `sources` (`_doc`, `id`, `text`) that names
    one; `documents` gives each `_doc`'s bundle path and data folder.

    Per file only what must be per file (resolve, read, hash); a file named by several
    sources is read once; the UTF-8 decoding of all texts is one polars cast.
    """
    sources = sources.filter(pl.col("text").is_not_null())
    indices: list[int] = sources[DOC].to_list()
    paths: list[str] = sources["text"].to_list()
    ids: list[str | None] = sources["id"].to_list()
    rows = [(p, r, t) for (p, r), t in zip(_origins(documents, indices), paths, strict=True)]
    kept: dict[str, list[object]] = {DOC: [], "source_id": [], "path": [], "digest": []}
    bodies = Bodies()
    found: dict[str, list[object]] = {"code": [], DOC: [], "path": [], "what": []}
    read: dict[str, int | None] = {}  # real path → index of its bytes in `bodies`
    digests: dict[str, str] = {}
    relative: dict[str, str] = {}
    for index, source, text, (real, code, what, base, data, digest) in zip(
        indices, ids, paths, read_all(rows), strict=True
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
                for key, value in zip(kept, (index, source, text, digests[real]), strict=True):
                    kept[key].append(value)
                bodies.use(at)
        if code:
            for key, value in (("code", code), (DOC, index), ("path", text), ("what", what)):
                found[key].append(value)
    body, bad = decoded(bodies.series())
    table = pl.DataFrame(kept, schema={k: _TABLE[k] for k in kept}).with_columns(
        body, body.str.len_bytes().cast(pl.Int64).alias("size")
    )
    problems = pl.DataFrame(found, schema=_PROBLEMS)
    if bad.any():  # not text: X703, in table order with the others
        unreadable = table.filter(bad).select(
            pl.lit("X703").alias("code"), DOC, "path", pl.lit("").alias("what")
        )
        problems = pl.concat([problems, unreadable]).sort(DOC, maintain_order=True)
        table = table.filter(~bad)
    table = table.select(list(_TABLE))
    return SourceTexts(table, problems, relative, digests)
